"""The audit log in the Django admin: to read and search, never to edit."""

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "actor_id", "target_user_id", "target_group_id", "address")
    list_filter = ("kind", "created_at")
    search_fields = ("address", "=actor_id", "=target_user_id", "=target_group_id")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "kind", "actor_id", "target_user_id", "target_group_id", "address", "detail")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False  # retention is `manage.py prune_audit`

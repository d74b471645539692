"""Django admin for groups: each group with its members inline, for support and moderation."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from groups.models import Group, Membership


class MembershipFormSet(BaseInlineFormSet):
    """Keep the one-owner rule in the admin too: a clear form error instead of a database error."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("user")
        ]
        owners = sum(1 for form in kept if form.cleaned_data.get("role") == Membership.Role.OWNER)
        if kept and owners != 1:
            raise ValidationError("A group with members has exactly one owner.")


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    fields = ("user", "role", "joined_at")
    readonly_fields = ("joined_at",)
    raw_id_fields = ("user",)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "member_count", "created_at")
    search_fields = ("name", "description", "memberships__user__username")
    readonly_fields = ("created_at",)
    fields = ("name", "description", "created_at")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = (MembershipInline,)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Save removals and demotions before the new owner: the database allows one owner at any moment."""
        if not isinstance(formset, MembershipFormSet):
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for membership in sorted(instances, key=lambda m: m.role == Membership.Role.OWNER):
            membership.save()
        formset.save_m2m()
        return None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).annotate(member_total=Count("memberships", distinct=True))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, group: Group) -> int:
        return group.member_total

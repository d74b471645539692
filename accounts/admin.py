from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts import services
from accounts.forms import AdminSetPasswordForm, AdminSignupForm
from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "display_name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined", "last_login")
    search_fields = ("username", "email", "display_name")
    ordering = ("username",)
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "time_zone")}))
    add_form = AdminSignupForm
    change_password_form = AdminSetPasswordForm  # also closes the user's open sockets
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")}),
    )

    def save_model(self, request, obj: User, form, change: bool) -> None:
        """Switching an account off here closes its open sockets, as `deactivate_user` does; a new display name
        or username reaches the pages open on it, as the settings page's change does."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_deactivate(user=obj, actor=request.user)
        if change and obj.is_active and {"display_name", "username"} & set(form.changed_data):
            services.profile_changed(obj)

    def delete_model(self, request, obj: User) -> None:
        """Deleting from the admin hands groups over and keeps history, as the user's own deletion does."""
        services.user_delete(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            services.user_delete(user=user, actor=request.user)

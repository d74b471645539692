"""Django admin for groups: each group with its members inline, for support and moderation.

Member changes go through `groups.services` (`memberships_staff_save`,
`group_staff_delete`), so a member removed here stops receiving the group's
conversations at once, as one removed from the group page does.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from groups import services
from groups.models import Group, Membership


class MembershipForm(forms.ModelForm):
    """An existing row's user cannot be swapped for another: remove the row and add one instead."""

    class Meta:
        model = Membership
        fields = ("user", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "user" in self.fields:
            self.fields["user"].disabled = True


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
    form = MembershipForm
    formset = MembershipFormSet
    extra = 0
    fields = ("user", "role", "joined_at")
    readonly_fields = ("joined_at",)
    raw_id_fields = ("user",)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "is_public", "member_count", "created_at")
    list_filter = ("is_public",)
    search_fields = ("name", "description", "memberships__user__username")
    readonly_fields = ("created_at",)
    fields = ("name", "description", "is_public", "created_at")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = (MembershipInline,)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Members are saved, removed and told through the service, like the members' own changes."""
        if not isinstance(formset, MembershipFormSet):
            return super().save_formset(request, form, formset, change)
        saved = formset.save(commit=False)
        services.memberships_staff_save(
            group=form.instance, deleted=formset.deleted_objects, saved=saved, actor=request.user
        )
        formset.save_m2m()
        return None

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        services.group_staff_delete(group=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for group in queryset:
            services.group_staff_delete(group=group, actor=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).annotate(member_total=Count("memberships", distinct=True))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, group: Group) -> int:
        return group.member_total

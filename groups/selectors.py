"""Reads about groups that pages need, with the joins they need (constant queries per page)."""

from django.db.models import Exists, OuterRef

from accounts.models import TOTPDevice
from groups.models import Group, Invite, Membership

ROLE_ORDER = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.MEMBER: 2}


def group_memberships(group: Group) -> list[Membership]:
    """The group's members with their users, owner first, then admins, then everyone by name. One query."""
    # `two_factor`: whether the member has an authenticator app set up (shown to the owner only).
    two_factor = Exists(TOTPDevice.objects.filter(user=OuterRef("user")))
    memberships = list(Membership.objects.filter(group=group).select_related("user").annotate(two_factor=two_factor))
    memberships.sort(key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.name.lower(), m.user.username.lower()))
    return memberships


def group_invites(group: Group) -> list[Invite]:
    """The group's invite links, newest first, with who made them. One query."""
    return list(Invite.objects.filter(group=group).select_related("created_by").order_by("-created_at", "-pk"))

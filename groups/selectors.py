"""Reads about groups that pages need, with the joins they need (constant queries per page)."""

from groups.models import Group, Membership

ROLE_ORDER = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.MEMBER: 2}


def group_memberships(group: Group) -> list[Membership]:
    """The group's members with their users, owner first, then admins, then everyone by name. One query."""
    memberships = list(Membership.objects.filter(group=group).select_related("user"))
    memberships.sort(key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.name.lower(), m.user.username.lower()))
    return memberships

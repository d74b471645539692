"""Reads about groups that pages need, with the joins they need (constant queries per page)."""

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Lower

from accounts.models import TOTPDevice
from chatsite.errors import Invalid
from groups.models import Group, Invite, Membership

ROLE_ORDER = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.MEMBER: 2}


def group_memberships(group: Group) -> list[Membership]:
    """The group's members with their users, owner first, then admins, then everyone by name. One query."""
    # `two_factor`: whether the member has an authenticator app set up (shown to the owner only).
    two_factor = Exists(TOTPDevice.objects.filter(user=OuterRef("user")))
    memberships = list(Membership.objects.filter(group=group).select_related("user").annotate(two_factor=two_factor))
    memberships.sort(key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.name.lower(), m.user.username.lower()))
    return memberships


def public_groups(viewer, query: str = "") -> QuerySet[Group]:
    """Public groups whose name contains `query` (ignoring case), by name, with `member_count` and
    `is_member` (the viewer's) annotated. Two queries per page with the paginator's count."""
    groups = Group.objects.filter(is_public=True)
    if query:
        groups = groups.filter(name__icontains=query)
    return groups.annotate(
        member_count=Count("memberships", distinct=True),
        is_member=Exists(Membership.objects.filter(group=OuterRef("pk"), user=viewer)),
    ).order_by(Lower("name"), "pk")


def member_by_username(group: Group, username: str) -> Membership:
    """A member of the group by username (any letter case), with the user; Invalid when not a member."""
    target = (
        Membership.objects.select_related("user").filter(group=group, user__username__iexact=(username or "")).first()
    )
    if target is None:
        raise Invalid(f"{username} is not a member of this group.", code="not_member")
    return target


def groups_shared_by(viewer, other) -> QuerySet[Group]:
    """The groups both people are members of, by name (the profile page's "groups you share")."""
    return Group.objects.filter(memberships__user=viewer).filter(memberships__user=other).order_by(Lower("name"), "pk")


def group_invites(group: Group) -> list[Invite]:
    """The group's invite links, newest first, with who made them. One query."""
    return list(Invite.objects.filter(group=group).select_related("created_by").order_by("-created_at", "-pk"))

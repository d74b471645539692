"""The groups' part of an account's life (accounts/registry.py): a new account joins the operator's
default groups; its memberships are in its data export; its owned groups are handed over (or
deleted when empty) when the account is deleted."""

from typing import Any

from groups.models import Membership
from groups.services import group_owner_leave, groups_join_defaults


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def memberships(user) -> list[dict[str, Any]]:
    rows = Membership.objects.filter(user=user).select_related("group").order_by("joined_at", "pk")
    return [
        {"group": {"id": m.group_id, "name": m.group.name}, "role": m.role, "joined_at": _iso(m.joined_at)}
        for m in rows
    ]


def hand_over_owned_groups(user, **kwargs) -> None:
    """Ownership passes to the longest-standing admin, else member; a group with nobody else is deleted."""
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values_list("group_id", flat=True)
    for group_id in list(owned):
        group_owner_leave(actor=user, group_id=group_id)


def register() -> None:
    from accounts import registry

    registry.export_section("memberships", memberships)
    registry.on_delete(hand_over_owned_groups)
    registry.on_create(lambda user: groups_join_defaults(user=user))

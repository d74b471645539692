"""Every permission rule about groups, in one place. Views and consumers call these."""

from collections.abc import Callable

from chatsite.errors import Forbidden, NotFound
from chatsite.numbers import row_id
from groups.models import Group, Membership

Role = Membership.Role


def access_group(user, group_id, *, for_update: bool = False) -> tuple[Group, Membership]:
    """The group and the user's membership; NotFound for a missing group and for a non-member alike.

    With `for_update`, every membership row of the group is locked for the rest of
    the transaction, so role changes cannot race (a group always has one owner).
    """
    if not getattr(user, "is_authenticated", False):
        raise NotFound("That group does not exist or you are not a member.")
    group_id = row_id(group_id)
    if group_id is None:  # not an id, or out of the column's range: the database would raise, not answer
        raise NotFound("That group does not exist or you are not a member.")
    memberships = Membership.objects.select_related("group").filter(group_id=group_id)
    if for_update:
        # Lock the whole member list of the group, not only the actor's row.
        list(Membership.objects.select_for_update().filter(group_id=group_id).values_list("pk", flat=True))
    membership = memberships.filter(user=user).first()
    if membership is None:
        raise NotFound("That group does not exist or you are not a member.")
    return membership.group, membership


def require_manager(membership: Membership) -> None:
    """Owners and admins manage members."""
    if not membership.is_manager:
        raise Forbidden("Only the group's owner and admins can do that.")


def require_owner(membership: Membership) -> None:
    if membership.role != Role.OWNER:
        raise Forbidden("Only the group's owner can do that.")


def check_can_remove(actor: Membership, target: Membership) -> None:
    """Admins remove members; only the owner removes admins; nobody removes the owner."""
    require_manager(actor)
    if target.role == Role.OWNER:
        raise Forbidden("The owner cannot be removed. Transfer ownership first.")
    if target.role == Role.ADMIN and actor.role != Role.OWNER:
        raise Forbidden("Only the owner can remove an admin.")


def check_can_set_role(actor: Membership, target: Membership) -> None:
    """Only the owner promotes and demotes admins; the owner's own role changes only by transfer."""
    require_owner(actor)
    if target.role == Role.OWNER:
        raise Forbidden("The owner's role changes only by transferring ownership.")


def can_moderate(membership: Membership | None) -> bool:
    """Owners and admins may delete anyone's message in the group's conversations."""
    return membership is not None and membership.is_manager


def permits(check: Callable[..., None], *args) -> bool:
    """A check as yes/no, so pages show only the controls the actor may use; services still enforce it."""
    try:
        check(*args)
    except Forbidden:
        return False
    return True

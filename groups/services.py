"""Every write about groups and memberships. Views and consumers both call these.

Changes that could leave a group without exactly one owner run in one
transaction with the group's membership rows locked (`access_group(for_update=True)`).
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

import audit
from accounts.models import User
from accounts.selectors import user_by_name, users_by_names
from chatsite.errors import Forbidden, Invalid, NotFound
from chatsite.mail import email_send, site_url
from chatsite.numbers import MAX_ID
from groups.access import access_group, check_can_remove, check_can_set_role, require_manager, require_owner
from groups.models import Group, Invite, Membership
from groups.selectors import member_by_username
from messaging import events
from messaging.models import Conversation
from messaging.serializers import conversation_json

Role = Membership.Role
DEFAULT_CONVERSATION = "general"


def clean_group_name(name) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the group a name.", code="blank")
    if len(name) > 80:
        raise Invalid("Group names can be at most 80 characters.", code="too_long")
    return name


def _announce_group(group: Group, user_ids) -> None:
    """Tell users' sockets about every conversation of a group they just joined."""
    conversations = list(group.conversations.select_related("group").order_by("pk"))
    users = list(User.objects.filter(pk__in=list(user_ids)))
    for user in users:
        for conversation in conversations:
            events.conversation_added(user.pk, conversation_json(conversation, user))


@transaction.atomic
def group_create(
    *, actor: User, name: str, description: str = "", member_usernames=(), is_public: bool = False
) -> Group:
    """A group with the actor as owner, the named members (usernames or display names), and its
    "general" conversation."""
    name = clean_group_name(name)
    members = [user for user in users_by_names(member_usernames) if user.pk != actor.pk]
    group = Group.objects.create(name=name, description=(description or "").strip(), is_public=is_public)
    Membership.objects.create(group=group, user=actor, role=Role.OWNER)
    Membership.objects.bulk_create([Membership(group=group, user=user, role=Role.MEMBER) for user in members])
    Conversation.objects.create(kind=Conversation.Kind.GROUP, group=group, name=DEFAULT_CONVERSATION)
    _announce_group(group, [actor.pk, *(user.pk for user in members)])
    return group


def default_conversation(group: Group) -> Conversation:
    return group.conversations.order_by("created_at", "pk").first()


@transaction.atomic
def group_update(*, actor: User, group_id, name: str, description: str = "", is_public: bool | None = None) -> Group:
    """Name and description; `is_public` True or False changes who can join, None leaves it."""
    group, membership = access_group(actor, group_id)
    require_manager(membership)
    group.name = clean_group_name(name)
    group.description = (description or "").strip()
    if is_public is not None:
        group.is_public = is_public
    group.save(update_fields=["name", "description", "is_public"])
    return group


def _person(text: str, **kwargs) -> User:
    """A person named in a form (username or display name); Invalid for an unknown one, like bad input."""
    if not (text or "").strip():
        raise Invalid("Enter a username or display name.", code="blank_person")
    try:
        return user_by_name(text, **kwargs)
    except NotFound as error:
        raise Invalid(error.detail, code="unknown_users") from None


@transaction.atomic
def member_add(*, actor: User, group_id, username: str) -> Membership:
    """Add a person, named by username or display name (an ambiguous display name is Invalid)."""
    group, membership = access_group(actor, group_id, for_update=True)
    require_manager(membership)
    user = _person(username)
    if Membership.objects.filter(group=group, user=user).exists():
        raise Invalid(f"{user.username} is already a member.", code="duplicate")
    added = Membership.objects.create(group=group, user=user, role=Role.MEMBER)
    audit.record("member_add", actor_id=actor.pk, target_user_id=user.pk, target_group_id=group.pk)
    _announce_group(group, [user.pk])
    return added


def _target(group: Group, username: str) -> Membership:
    return member_by_username(group, username)


@transaction.atomic
def member_remove(*, actor: User, group_id, username: str) -> None:
    group, membership = access_group(actor, group_id, for_update=True)
    target = _target(group, username)
    if target.user_id == actor.pk:
        raise Invalid("To leave the group, use Leave.", code="invalid")
    check_can_remove(membership, target)
    target.delete()
    audit.record(
        "member_remove",
        actor_id=actor.pk,
        target_user_id=target.user_id,
        target_group_id=group.pk,
        detail={"role": target.role},
    )
    events.conversations_removed([target.user_id], group.conversations.values_list("pk", flat=True))


@transaction.atomic
def member_set_role(*, actor: User, group_id, username: str, role: str) -> Membership:
    if role not in (Role.ADMIN, Role.MEMBER):
        raise Invalid("Role must be admin or member.", code="invalid")
    group, membership = access_group(actor, group_id, for_update=True)
    target = _target(group, username)
    check_can_set_role(membership, target)
    if target.role != role:
        audit.record(
            "role_change",
            actor_id=actor.pk,
            target_user_id=target.user_id,
            target_group_id=group.pk,
            detail={"from": target.role, "to": role},
        )
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def group_transfer(*, actor: User, group_id, username: str) -> Membership:
    """Make another member (named by username or display name) the owner; the old owner stays on as an admin."""
    group, membership = access_group(actor, group_id, for_update=True)
    require_owner(membership)
    try:
        person = _person(username, among=User.objects.filter(memberships__group=group))
    except Invalid as error:
        if error.code != "unknown_users":
            raise
        raise Invalid(f"{username} is not a member of this group.", code="not_member") from None
    target = _target(group, person.username)
    if target.pk == membership.pk:
        raise Invalid("You already own this group.", code="invalid")
    # Demote first: the database allows one owner per group at any moment.
    Membership.objects.filter(pk=membership.pk).update(role=Role.ADMIN)
    Membership.objects.filter(pk=target.pk).update(role=Role.OWNER)
    for user_id, old_role, new_role in ((actor.pk, Role.OWNER, Role.ADMIN), (target.user_id, target.role, Role.OWNER)):
        audit.record(
            "role_change",
            actor_id=actor.pk,
            target_user_id=user_id,
            target_group_id=group.pk,
            detail={"from": old_role, "to": new_role},
        )
    target.role = Role.OWNER
    return target


@transaction.atomic
def group_delete(*, actor: User, group_id) -> None:
    group, membership = access_group(actor, group_id, for_update=True)
    require_owner(membership)
    conversation_ids = list(group.conversations.values_list("pk", flat=True))
    member_ids = list(group.memberships.values_list("user_id", flat=True))
    audit.record(
        "group_delete", actor_id=actor.pk, target_group_id=group.pk, detail={"name": group.name, "members": member_ids}
    )
    group.delete()
    events.conversations_removed(member_ids, conversation_ids)


@transaction.atomic
def group_leave(*, actor: User, group_id) -> None:
    group, membership = access_group(actor, group_id, for_update=True)
    if membership.role == Role.OWNER:
        raise Forbidden("Transfer ownership to another member before leaving.")
    Membership.objects.filter(pk=membership.pk).delete()
    audit.record("member_leave", actor_id=actor.pk, target_user_id=actor.pk, target_group_id=group.pk)
    events.conversations_removed([actor.pk], group.conversations.values_list("pk", flat=True))


@transaction.atomic
def memberships_staff_save(
    *, group: Group, deleted: Iterable[Membership], saved: Iterable[Membership], actor: User | None = None
) -> None:
    """Staff edit a group's member list (the Django admin's inline): the same effects as the members' own forms.

    Staff are not members, so the role checks of `member_remove` and friends do not
    apply; the caller (the admin form) has checked the one-owner rule. Removed
    members' sockets are told at once (`conversation.removed`, and they stop
    receiving the group's conversations), added members' sockets get
    `conversation.added`.
    """
    # Lock the member list, as the members' own changes do.
    before = dict(Membership.objects.select_for_update().filter(group=group).values_list("user_id", "role"))
    deleted, saved = list(deleted), list(saved)
    for membership in deleted:
        membership.delete()
    # Demotions and removals before the new owner: the database allows one owner per group at any moment.
    for membership in sorted(saved, key=lambda m: m.role == Role.OWNER):
        membership.save()
    removed_ids = [m.user_id for m in deleted if m.user_id in before]
    added_ids = [m.user_id for m in saved if m.user_id not in before]
    staff = {"actor_id": actor.pk if actor else None, "target_group_id": group.pk}
    for user_id in removed_ids:
        audit.record(
            "member_remove", target_user_id=user_id, detail={"role": before[user_id], "by_staff": True}, **staff
        )
    for membership in saved:
        old_role = before.get(membership.user_id)
        if old_role is None:
            audit.record("member_add", target_user_id=membership.user_id, detail={"by_staff": True}, **staff)
        elif old_role != membership.role:
            detail = {"from": old_role, "to": membership.role, "by_staff": True}
            audit.record("role_change", target_user_id=membership.user_id, detail=detail, **staff)
    if removed_ids:
        events.conversations_removed(removed_ids, group.conversations.values_list("pk", flat=True))
    if added_ids:
        _announce_group(group, added_ids)


@transaction.atomic
def group_staff_delete(*, group: Group, actor: User | None = None) -> None:
    """Staff delete a group (the Django admin): its members' sockets lose its conversations at once."""
    conversation_ids = list(group.conversations.values_list("pk", flat=True))
    member_ids = list(group.memberships.values_list("user_id", flat=True))
    detail = {"name": group.name, "members": member_ids, "by_staff": True}
    audit.record("group_delete", actor_id=actor.pk if actor else None, target_group_id=group.pk, detail=detail)
    group.delete()
    events.conversations_removed(member_ids, conversation_ids)


@transaction.atomic
def group_owner_leave(*, actor: User, group_id) -> Membership | None:
    """The owner goes for good (their account is being deleted), and the group keeps an owner.

    Ownership passes to the longest-standing admin, else the longest-standing
    member; a group with nobody else in it is deleted. Returns the new owner's
    membership, or None when the group was deleted.
    """
    group, membership = access_group(actor, group_id, for_update=True)
    require_owner(membership)
    others = group.memberships.exclude(pk=membership.pk).order_by("joined_at", "pk")
    successor = others.filter(role=Role.ADMIN).first() or others.first()
    conversation_ids = list(group.conversations.values_list("pk", flat=True))
    if successor is None:
        group.delete()
    else:
        # Remove the old owner first: the database allows one owner per group at any moment.
        membership.delete()
        Membership.objects.filter(pk=successor.pk).update(role=Role.OWNER)
        successor.role = Role.OWNER
    events.conversations_removed([actor.pk], conversation_ids)
    return successor


NOT_JOINABLE = "That group does not exist or you are not a member."


@transaction.atomic
def group_join(*, actor: User, group_id) -> tuple[Group, bool]:
    """Join a public group as a member. Returns (group, joined): False when already a member, of a public
    group or a private one. A private group the actor is not in is NotFound, like a missing one."""
    try:
        group_id = int(group_id)
    except (TypeError, ValueError):
        raise NotFound(NOT_JOINABLE) from None
    if not 0 < group_id <= MAX_ID:
        raise NotFound(NOT_JOINABLE)
    existing = Membership.objects.select_related("group").filter(group_id=group_id, user=actor).first()
    if existing is not None:
        return existing.group, False
    group = Group.objects.filter(pk=group_id, is_public=True).first()
    if group is None:
        raise NotFound(NOT_JOINABLE)
    try:
        with transaction.atomic():
            Membership.objects.create(group=group, user=actor, role=Role.MEMBER)
    except IntegrityError:  # joined from another tab at the same moment
        return group, False
    audit.record(
        "member_add", actor_id=actor.pk, target_user_id=actor.pk, target_group_id=group.pk, detail={"via": "join"}
    )
    _announce_group(group, [actor.pk])
    return group, True


def groups_join_defaults(*, user: User) -> list[Group]:
    """Put a new account in every group named in `DEFAULT_GROUPS` (names ignoring letter case, public or
    private: the operator chose them). Names matching no group are skipped."""
    wanted = {name.strip().lower() for name in settings.DEFAULT_GROUPS if name.strip()}
    if not wanted:
        return []
    joined = []
    with transaction.atomic():
        for group in Group.objects.annotate(lower_name=Lower("name")).filter(lower_name__in=wanted).order_by("pk"):
            _, created = Membership.objects.get_or_create(group=group, user=user, defaults={"role": Role.MEMBER})
            if created:
                audit.record(
                    "member_add", target_user_id=user.pk, target_group_id=group.pk, detail={"via": "default_groups"}
                )
                _announce_group(group, [user.pk])
                joined.append(group)
    return joined


# Invite links ------------------------------------------------------------------------------------

INVITE_EXPIRY = {"1d": timedelta(days=1), "7d": timedelta(days=7), "never": None}


def invite_token_hash(token: str) -> str:
    """Invites are found by this; the token itself is only ever in the link."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite_create(
    *, actor: User, group_id, expires: str, max_uses: int | None = None, email: str = ""
) -> tuple[Invite, str]:
    """A new invite link (owners and admins). Returns the invite and its token, shown once.

    With `email`, the link is also mailed to that address (the job commits with the invite),
    and it works once unless a use limit is given.
    """
    group, membership = access_group(actor, group_id)
    require_manager(membership)
    if expires not in INVITE_EXPIRY:
        raise Invalid("Choose when the link expires: 1 day, 7 days or never.", code="invalid")
    if max_uses is not None and max_uses < 1:
        raise Invalid("A use limit must be at least 1.", code="invalid")
    if email and max_uses is None:
        max_uses = 1  # a link mailed to one person is for that person
    token = secrets.token_urlsafe(24)
    lifetime = INVITE_EXPIRY[expires]
    invite = Invite.objects.create(
        group=group,
        created_by=actor,
        token_hash=invite_token_hash(token),
        email=email,
        expires_at=timezone.now() + lifetime if lifetime else None,
        max_uses=max_uses,
    )
    if email:
        link = site_url(reverse("groups:invite", args=[token]))
        email_send(
            to=email,
            name="group_invite",
            context={"inviter": actor.name, "group": group.name, "link": link, "expires_at": invite.expires_at},
        )
    return invite, token


@transaction.atomic
def invite_revoke(*, actor: User, group_id, invite_id) -> Invite:
    group, membership = access_group(actor, group_id)
    require_manager(membership)
    invite = Invite.objects.filter(group=group, pk=_int_or_none(invite_id)).first()
    if invite is None:
        raise NotFound("That invite does not exist.")
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
    return invite


def _int_or_none(value) -> int | None:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


def invite_problem(invite: Invite | None) -> str | None:
    """Why this invite cannot be used now, in words for the person holding the link (None: it can)."""
    if invite is None or invite.revoked_at is not None:
        return "This invite link is not valid. Ask for a new one."
    if invite.expires_at is not None and invite.expires_at <= timezone.now():
        return "This invite link has expired. Ask for a new one."
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "This invite link has been used as many times as it allows. Ask for a new one."
    return None


def invite_by_token(token: str) -> Invite | None:
    return Invite.objects.select_related("group").filter(token_hash=invite_token_hash(token or "")).first()


@transaction.atomic
def invite_accept(*, actor: User, token: str) -> Group:
    """Join the group through a link: one use counted, the new member's sockets get the conversations live.

    Someone already a member just goes in (no use counted). Invalid when the link is
    revoked, expired or used up (checked with the invite row locked, so two people
    cannot both take the last use).
    """
    invite = Invite.objects.select_for_update().filter(token_hash=invite_token_hash(token or "")).first()
    problem = invite_problem(invite)
    if problem:
        raise Invalid(problem, code="invite_invalid")
    group = invite.group
    # The group's member rows, locked as every membership change does.
    list(Membership.objects.select_for_update().filter(group=group).values_list("pk", flat=True))
    if Membership.objects.filter(group=group, user=actor).exists():
        return group
    Membership.objects.create(group=group, user=actor, role=Role.MEMBER)
    Invite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    _announce_group(group, [actor.pk])
    return group

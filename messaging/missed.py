"""Missed-message email: a direct message or a mention unread for MISSED_MESSAGE_DELAY, while no socket is open,
is mailed (never for a muted conversation).

Sending a direct message calls `missed_message_schedule` for the other person:
if no check is queued for them, one is queued to run MISSED_MESSAGE_DELAY later
(and never sooner than that long after their last such mail), so a burst of
messages makes one job and at most one mail per delay. The check
(`missed_messages_mail`, run by the worker) mails every direct message that is
still unread, is at least that old, and was not in an earlier mail, one mail
for all of them with a link to each conversation; nothing when they were read
meanwhile, when the person has a socket open (they are on the site: the check
comes back later instead), or when they turned these mails off.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from accounts.models import User
from accounts.unsubscribe import unsubscribe_token
from chatsite.mail import email_send, site_url
from messaging import unread
from messaging.access import visible_to
from messaging.models import Conversation, Message, MissedMessageNotice, Mute
from messaging.realtime.presence import store as presence_store

logger = logging.getLogger(__name__)

MESSAGES_PER_CONVERSATION = 5  # shown in the mail; the rest are counted


def _delay() -> timedelta:
    return timedelta(seconds=settings.MISSED_MESSAGE_DELAY)


def missed_message_schedule(user_id: int) -> None:
    """A direct message for this user was just stored: make sure a check is queued (one at a time)."""
    check = missed_messages_mail
    if not check.get_backend().supports_defer:
        return  # a backend that cannot run jobs later (the immediate one, in tests) cannot do this
    now = timezone.now()
    notice = MissedMessageNotice.objects.filter(user_id=user_id).first()
    if notice is None:
        try:
            with transaction.atomic():
                notice = MissedMessageNotice.objects.create(user_id=user_id, covered_until=now - timedelta(seconds=1))
        except IntegrityError:  # created by a concurrent send
            notice = MissedMessageNotice.objects.get(user_id=user_id)
    if notice.scheduled_for is not None:
        return
    run_at = now + _delay()
    if notice.last_sent_at is not None:
        run_at = max(run_at, notice.last_sent_at + _delay())
    # Claim the slot: only one concurrent sender queues the job.
    if MissedMessageNotice.objects.filter(user_id=user_id, scheduled_for__isnull=True).update(scheduled_for=run_at):
        check.using(run_after=run_at).enqueue(user_id=user_id)


def _unread_direct_messages(user: User, *, after, until):
    """What the user missed in (after, until]: direct messages to them and messages mentioning them, from
    someone else, not deleted, past their read marker, in conversations they can still see and have not
    muted."""
    return (
        unread.unread_messages(user)
        .filter(
            Q(conversation__kind=Conversation.Kind.DIRECT) | Q(mentions__user=user),
            conversation__in=Conversation.objects.filter(visible_to(user)),
            created_at__gt=after,
            created_at__lte=until,
        )
        .exclude(conversation__in=Mute.objects.filter(user=user).values("conversation"))
        .select_related("author", "conversation")
        .distinct()
        .order_by("conversation_id", "seq")
    )


def _reschedule(notice: MissedMessageNotice, run_at) -> None:
    MissedMessageNotice.objects.filter(pk=notice.pk).update(scheduled_for=run_at)
    missed_messages_mail.using(run_after=run_at).enqueue(user_id=notice.user_id)


@task()
def missed_messages_mail(*, user_id: int) -> str:
    """The queued check: mail what the user missed, if anything (returns what it did, for the log and tests)."""
    now = timezone.now()
    with transaction.atomic():
        notice = MissedMessageNotice.objects.select_for_update().filter(user_id=user_id).first()
        if notice is None:
            return "no schedule"
        MissedMessageNotice.objects.filter(pk=notice.pk).update(scheduled_for=None)
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or not user.missed_message_email:
            return "off"
        cutoff = now - _delay()
        due = list(_unread_direct_messages(user, after=notice.covered_until, until=cutoff))
        younger = _unread_direct_messages(user, after=max(cutoff, notice.covered_until), until=now)
        next_young = younger.order_by("created_at").values_list("created_at", flat=True).first()
        if presence_store().online_among([user_id]):
            if due or next_young:  # on the site now: look again later, in case they leave without reading
                _reschedule(notice, now + _delay())
            return "online"
        if next_young is not None:  # a newer one is not old enough yet: look again when it is
            run_at = next_young + _delay()
            _reschedule(notice, max(run_at, now + _delay()) if due else run_at)  # one mail per delay at most
        if not due:
            return "nothing unread"
        _send(user, due)
        MissedMessageNotice.objects.filter(pk=notice.pk).update(
            covered_until=max(m.created_at for m in due), last_sent_at=now
        )
    return f"mailed {len(due)}"


def _send(user: User, messages: list[Message]) -> None:
    conversations: dict[int, dict] = {}
    for message in messages:
        entry = conversations.setdefault(
            message.conversation_id,
            {
                "from": message.author.name if message.author else "deleted user",
                "link": site_url(reverse("messaging:conversation", args=[message.conversation_id])),
                "messages": [],
                "more": 0,
            },
        )
        if len(entry["messages"]) < MESSAGES_PER_CONVERSATION:
            entry["messages"].append({"body": message.body, "at": message.created_at})
        else:
            entry["more"] += 1
    unsubscribe = site_url(reverse("accounts:unsubscribe", args=[unsubscribe_token(user)]))
    email_send(
        to=user.email,
        name="missed_messages",
        context={
            "user": user,
            "count": len(messages),
            "conversations": list(conversations.values()),
            "unsubscribe": unsubscribe,
        },
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    logger.info("missed-message email: %d messages in %d conversations", len(messages), len(conversations))

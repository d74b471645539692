import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Conversation(models.Model):
    """Where messages live: one of a group's conversations, or a direct one between two users."""

    class Kind(models.TextChoices):
        GROUP = "group", "Group"
        DIRECT = "direct", "Direct"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="conversations"
    )
    name = models.CharField(max_length=80, blank=True)
    # Direct conversations: the two participants, lower user id first (one row per pair).
    # Null once that participant's account is deleted: the other keeps the history.
    user_low = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_high = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The seq of the newest message: the counter new messages take their seq from,
    # bumped under the row lock in the transaction that stores the message.
    last_seq = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "group", Lower("name"), condition=Q(kind="group"), name="messaging_conversation_topic_unique"
            ),
            models.UniqueConstraint(
                fields=["user_low", "user_high"],
                condition=Q(kind="direct"),
                name="messaging_conversation_direct_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="group", group__isnull=False, user_low__isnull=True, user_high__isnull=True)
                    # A direct conversation's users may be null: deleted accounts (see user_low).
                    | Q(kind="direct", group__isnull=True)
                ),
                name="messaging_conversation_kind_shape",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "-last_message_at"], name="messaging_conv_group_activity"),
            models.Index(fields=["user_low", "-last_message_at"], name="messaging_conv_low_activity"),
            models.Index(fields=["user_high", "-last_message_at"], name="messaging_conv_high_activity"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.pk}"

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    # Null once the author's account is deleted: shown as "deleted user".
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    body = models.TextField(blank=True)
    # The body rendered once by messaging.rendering when stored or edited (pages and frames
    # insert it as it is); empty once deleted.
    html = models.TextField(blank=True, default="")
    # The message this one answers (same conversation; services.message_send checks it).
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    # Idempotency key chosen by the sending client: a retried send returns the original.
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="messaging_message_seq_unique"),
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="messaging_message_client_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["author", "created_at"], name="messaging_msg_author_created")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class ReadState(models.Model):
    """How far a user has read a conversation: the last seq they saw."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_states")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="read_states")
    last_read_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="messaging_readstate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.conversation_id} to {self.last_read_seq}"


class Reaction(models.Model):
    """One user's emoji on one message (toggled by services.reaction_toggle)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    # One emoji grapheme (services.clean_emoji): a flag, a family or a keycap is several code points.
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="messaging_reaction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.emoji} on {self.message_id}"


class Mention(models.Model):
    """A user named in a message (`@username`, or `@all` in a group's conversation) who can see it.

    The conversation and seq are copied from the message so that a user's unread mentions
    are counted from this table alone, next to the unread count (selectors)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="messaging_mention_unique")]
        indexes = [
            models.Index(fields=["user", "conversation", "seq"], name="messaging_mention_unread"),
            models.Index(fields=["user", "-created_at"], name="messaging_mention_recent"),
        ]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.conversation_id}#{self.seq}"


class Mute(models.Model):
    """A user muted a conversation: it never notifies, sorts below the others and does not count
    in the tab title's total (mentions still show their marker)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="messaging_mute_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} muted {self.conversation_id}"


class Star(models.Model):
    """A user starred a conversation: it sits in the "Starred" section at the top of their sidebar."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="messaging_star_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} starred {self.conversation_id}"


class MissedMessageNotice(models.Model):
    """Per user: the missed-message email's schedule and what it already covered (messaging/missed.py)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="missed_message_notice"
    )
    # When the queued check runs; null when none is queued (the next direct message queues one).
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # Messages up to this time were mailed about already (or predate the first check).
    covered_until = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"missed-message email of {self.user_id}"


def new_attachment_id() -> str:
    """A random, unguessable id (128 bits): attachment URLs cannot be enumerated."""
    return secrets.token_urlsafe(16)


class Attachment(models.Model):
    """A file or image shared in a conversation.

    Uploaded first (`message` null: only its uploader sees it), then stored with a message in
    the message's transaction; one never attached is deleted after ATTACHMENT_UNATTACHED_TTL
    by `manage.py cleanup_attachments`. The bytes live in the `attachments` storage under
    random names; `name` is only for display and downloads.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        FILE = "file", "File"

    id = models.CharField(primary_key=True, max_length=32, default=new_attachment_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    # Null once the uploader's account is deleted; the file stays with its message.
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=255)  # cleaned for display and the download header
    content_type = models.CharField(max_length=100)  # detected from the content, never the browser's claim
    size = models.PositiveBigIntegerField()  # bytes stored (the re-encoded image for images)
    file = models.CharField(max_length=255)  # the storage name
    thumbnail = models.CharField(max_length=255, blank=True)  # images only
    thumbnail_size = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)  # order within the message
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["message", "position"], name="messaging_att_message_pos"),
            models.Index(fields=["uploader", "created_at"], name="messaging_att_uploader"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} ({self.name})"

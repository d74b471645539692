from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.models import Session
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from accounts import avatars, names

# \A and \Z, not ^ and $: "$" also matches before a trailing newline.
username_validator = RegexValidator(
    regex=r"\A[A-Za-z0-9_.-]{3,30}\Z",
    message="Use 3 to 30 characters: letters, digits, “_”, “.” or “-”.",
)


class User(AbstractUser):
    """A person who chats. Username and email are unique ignoring letter case."""

    class Theme(models.TextChoices):
        SYSTEM = "system", "Follow the system"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    username = models.CharField(
        "username",
        max_length=30,
        unique=True,
        validators=[username_validator],
        help_text="3 to 30 characters: letters, digits, _ . -",
        error_messages={"unique": "That username is taken."},
    )
    email = models.EmailField("email address", max_length=254)
    display_name = models.CharField(max_length=80, blank=True)
    # An IANA zone name ("Europe/Paris") or empty: shown as the person's local time on their profile.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # Folded words of the username and display name (accounts.names.search_name), kept by save().
    search_name = models.CharField(max_length=400, blank=True, default="", editable=False)
    # Set when the emailed verification link is opened; a changed address starts unverified again.
    email_verified = models.BooleanField(default=False)
    # Missed-message email (a direct message unread for MISSED_MESSAGE_DELAY while no socket is open).
    missed_message_email = models.BooleanField(default=True)
    # Light, dark, or what the device prefers: set on <html data-theme> by the server, so pages never flash.
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    # The storage name of the user's picture (accounts/avatars.py), empty for none: pages show the initial.
    avatar = models.CharField(max_length=200, blank=True, default="", editable=False)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="That username is taken.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="Another account uses that email address.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs) -> None:
        """Every write path (services, the admin, createsuperuser) keeps the search key in step with the names."""
        self.search_name = names.search_name(self.username, self.display_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"username", "display_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def avatar_url(self) -> str | None:
        """Where the picture is served, with its version (None without one: show the initial)."""
        return avatars.avatar_url(self.username, self.avatar)

    @property
    def name(self) -> str:
        """What other people see: the display name, or the username without one."""
        return self.display_name or self.username


class UserSession(models.Model):
    """What the sessions page shows about one login session: device, address, last seen.

    Keyed by the session row, so it goes when the session does (logout, expiry,
    a rotated key); written on login and then at most once a minute by
    accounts.middleware.SessionActivityMiddleware.
    """

    session = models.OneToOneField(Session, on_delete=models.CASCADE, primary_key=True, related_name="activity")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions")
    user_agent = models.CharField(max_length=300, blank=True)
    address = models.CharField(max_length=45, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "last_seen"], name="accounts_usersession_user_idx")]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.address}"


class TOTPDevice(models.Model):
    """A confirmed authenticator app: two-factor is on while the user has one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last 30-second step a code was accepted for: a code works once.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"authenticator of {self.user_id}"


class RecoveryCode(models.Model):
    """A one-time code for a lost phone, stored hashed (like a password)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"

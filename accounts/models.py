from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

# \A and \Z, not ^ and $: "$" also matches before a trailing newline.
username_validator = RegexValidator(
    regex=r"\A[A-Za-z0-9_.-]{3,30}\Z",
    message="Use 3 to 30 characters: letters, digits, “_”, “.” or “-”.",
)


class User(AbstractUser):
    """A person who chats. Username and email are unique ignoring letter case."""

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

    @property
    def name(self) -> str:
        """What other people see: the display name, or the username without one."""
        return self.display_name or self.username

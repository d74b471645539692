from django.conf import settings
from django.db import models
from django.db.models import Q


class Group(models.Model):
    """A group chat: members with roles, and the conversations they all see."""

    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    # Public groups are listed at /groups/ and anyone logged in may join; private ones only by being added.
    is_public = models.BooleanField(default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="chat_groups")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a group. Exactly one membership per group has the owner role."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="groups_membership_unique"),
            models.UniqueConstraint(fields=["group"], condition=Q(role="owner"), name="groups_membership_one_owner"),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "admin", "member"]), name="groups_membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["user", "group"], name="groups_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"

    @property
    def is_manager(self) -> bool:
        """Owners and admins manage members and moderate messages."""
        return self.role in (self.Role.OWNER, self.Role.ADMIN)


class Invite(models.Model):
    """A link that lets whoever holds it join a group. Only a hash of its token is stored."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invites")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True, max_length=254)  # the address it was mailed to, if any
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # null: never
    max_uses = models.PositiveIntegerField(null=True, blank=True)  # null: no limit
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["group", "created_at"], name="groups_invite_group_idx")]

    def __str__(self) -> str:
        return f"invite to {self.group_id} ({self.uses} uses)"

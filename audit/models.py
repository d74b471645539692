"""One row per security event. Ids, not foreign keys: the log outlives the accounts and groups it names."""

from django.db import models


class AuditEvent(models.Model):
    class Kind(models.TextChoices):
        LOGIN = "login", "log-in"
        LOGIN_FAILED = "login_failed", "failed log-in"
        LOGIN_THROTTLED = "login_throttled", "log-in refused by the throttle"
        LOGOUT = "logout", "log-out"
        PASSWORD_CHANGE = "password_change", "password change"
        ROLE_CHANGE = "role_change", "role change"
        MEMBER_ADD = "member_add", "member added"
        MEMBER_REMOVE = "member_remove", "member removed"
        MEMBER_LEAVE = "member_leave", "member left"
        GROUP_DELETE = "group_delete", "group deleted"
        ACCOUNT_DEACTIVATE = "account_deactivate", "account deactivated"
        ACCOUNT_DELETE = "account_delete", "account deleted"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="The user who did it (none: staff or unknown).")
    target_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    target_group_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    address = models.CharField(max_length=64, blank=True, help_text="The client address, where there was a request.")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["actor_id", "created_at"], name="audit_actor_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind}"

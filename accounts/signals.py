"""Log-ins, log-outs and failed log-ins go to the audit log, from Django's own auth signals.

Connected in AccountsConfig.ready(); every way in (the log-in page, sign-up, the
admin's log-in page) sends them.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

import audit
from chatsite.http import client_address


def _address(request) -> str:
    return client_address(request) if request is not None and hasattr(request, "META") else ""


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit.record("login", actor_id=user.pk, target_user_id=user.pk, address=_address(request))


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record("logout", actor_id=user.pk, target_user_id=user.pk, address=_address(request))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in `credentials`; keep only the name that was tried.
    audit.record("login_failed", address=_address(request), detail={"username": str(credentials.get("username", ""))})

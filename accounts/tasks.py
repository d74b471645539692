"""Account work done by the task worker, not the request: mail written from what the database says then."""

from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from accounts.selectors import user_for_password_reset
from chatsite.mail import email_send, site_url


@task()
def password_reset_mail(*, email: str) -> None:
    """Mail a reset link if an active account has this (verified) address; otherwise nothing.

    The request only queued this job, whatever the address: looking the account up
    here keeps the request's answer and timing the same whether it exists or not.
    """
    user = user_for_password_reset(email)
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = site_url(reverse("accounts:password_reset_confirm", args=[uid, token]))
    email_send(to=user.email, name="password_reset", context={"user": user, "link": link})

"""The unsubscribe link of missed-message mails: a signed token that works without logging in, for one account.

A module of its own, importing only the user model: the mail is written in
messaging (messaging/missed.py), below which accounts' services sit.
"""

from django.core import signing

from accounts.models import User

_SALT = "accounts.unsubscribe-missed"


def unsubscribe_token(user: User) -> str:
    return signing.dumps(user.pk, salt=_SALT)


def user_for_unsubscribe_token(token: str) -> User | None:
    try:
        pk = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=pk).first()

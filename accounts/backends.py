from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from accounts.selectors import user_by_login


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the email address, either in any letter case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = user_by_login(username)
        if user is None:
            # Hash anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

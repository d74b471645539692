from accounts.models import User


def user_by_login(identifier: str) -> User | None:
    """The account a login name points at: username or email, ignoring letter case."""
    identifier = identifier.strip()
    field = "email__iexact" if "@" in identifier else "username__iexact"
    return User.objects.filter(**{field: identifier}).first()


def login_account_key(identifier: str) -> str:
    """The throttling identity: the account when it exists, else the normalised text."""
    user = user_by_login(identifier)
    return f"user:{user.pk}" if user else f"name:{identifier.strip().lower()}"

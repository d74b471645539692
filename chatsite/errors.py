"""Domain errors shared by every app. Views map them to HTTP, consumers to `error` frames."""


class DomainError(Exception):
    code = "invalid"
    detail = "That request is not valid."

    def __init__(self, detail: str | None = None, *, code: str | None = None):
        if detail is not None:
            self.detail = detail
        if code is not None:
            self.code = code
        super().__init__(self.detail)


class NotAuthenticated(DomainError):
    """Nobody is logged in (JSON endpoints answer it; pages redirect to the log-in page instead)."""

    code = "not_authenticated"
    detail = "Log in first."


class NotFound(DomainError):
    """Does not exist, or is not yours: the same answer for both, so ids leak nothing."""

    code = "not_found"
    detail = "That conversation does not exist or you are not a member."


class Forbidden(DomainError):
    """You can see it, but your role does not allow this."""

    code = "forbidden"
    detail = "You are not allowed to do that."


class Invalid(DomainError):
    """Bad input: `code` says which rule (`blank`, `too_long`, `invalid`)."""

    code = "invalid"


class RateLimited(DomainError):
    code = "rate_limited"
    detail = "You are sending too fast. Wait a moment and try again."

"""Domain errors to HTTP: the one mapping every page view shares.

Services raise `NotFound`, `Forbidden`, `Invalid` and `RateLimited`; views wrap
themselves in `domain_errors` instead of catching them at each call site, so a
missing id and someone else's id always get the same 404 page.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from chatsite.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Invalid: 400,
    RateLimited: 429,
}

TITLE_BY_STATUS: dict[int, str] = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    429: "Slow down",
}


def client_address(request: HttpRequest) -> str:
    """The client's address (login throttling, the audit log): the proxy's last hop only when configured to trust it."""
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error, following subclasses (an `Invalid` subclass is still a 400)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def _same_site_referer(request: HttpRequest) -> str | None:
    """Where the visitor came from, if that is this site: the error page's "Go back" link."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


def error_response(request: HttpRequest, error: DomainError, *, back_url: str | None = None) -> HttpResponse:
    """The error page: a short title, the error's own detail, and a way back."""
    status = status_for(error)
    if back_url is None:
        back_url = _same_site_referer(request)
    context = {
        "status": status,
        "title": TITLE_BY_STATUS.get(status, "That did not work"),
        "detail": error.detail,
        "code": error.code,
        "back_url": back_url,
    }
    return render(request, "error.html", context, status=status)


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a page view: a domain error escaping it becomes the rendered error page with its status."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return error_response(request, error)

    return wrapper

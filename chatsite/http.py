"""Domain errors to HTTP: one mapping per kind of response, shared by every app's views.

Services raise `NotFound`, `Forbidden`, `Invalid` and `RateLimited`; views do not catch them
at each call site but wear the decorator of what they answer with:

- `domain_errors`: pages. The error page with the error's status (`error_response`).
- `json_errors`: JSON endpoints. 401 JSON for an anonymous caller (not a redirect to the log-in
  page), and `{"error": code, "detail": text}` with the error's status (`json_error`).
- `page_or_json_errors`: endpoints that answer a form with a page and a script
  (`Accept: application/json`) with JSON: log-in required and `domain_errors` for the first,
  `json_errors` for the second.

A form that a service refused is shown again with the error on its field: `form_error`; a form a
script posted (JSON) is refused with the domain error its field raised, code kept: `form_invalid`.
The status of an error is `status_for`'s, everywhere; `Retry-After` follows an error that
says when to try again. So a missing id and someone else's id always get the same 404.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from chatsite.errors import DomainError, Forbidden, Invalid, NotAuthenticated, NotFound, RateLimited

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    NotFound: 404,
    Forbidden: 403,
    Invalid: 400,
    RateLimited: 429,
}

# Refusals whose status says more than 400 (uploads: messaging/attachments.py).
STATUS_BY_CODE: dict[str, int] = {"too_large": 413, "over_quota": 413, "type_refused": 415}

TITLE_BY_STATUS: dict[int, str] = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    429: "Slow down",
}


def query_text(request: HttpRequest, name: str, max_length: int) -> str:
    """A free-text query parameter (a search box) as the text looked up: trimmed, at most `max_length`
    characters, without NUL (PostgreSQL text cannot hold it: the lookup raised DataError, a 500).
    Forms refuse NUL on their own; this is for boxes read straight from the query string."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:max_length]


def client_address(request: HttpRequest) -> str:
    """The client's address (login throttling, the audit log): the proxy's last hop only when configured to trust it."""
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error: by its code where STATUS_BY_CODE names it, else by its
    class, following subclasses (an `Invalid` subclass is still a 400)."""
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
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


def retry_after(response: HttpResponse, error: DomainError) -> HttpResponse:
    """`Retry-After` on a response to a refusal that says when to try again (RateLimited); the response."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


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
    return retry_after(render(request, "error.html", context, status=status), error)


def json_error(error: DomainError) -> JsonResponse:
    """`{"error": code, "detail": text}` with the error's status."""
    response = JsonResponse({"error": error.code, "detail": error.detail}, status=status_for(error))
    return retry_after(response, error)


def form_error(form: Form, field: str | None, error: DomainError) -> int:
    """A service refused the form's input: the error's detail goes on `field` (None: the whole
    form), to be shown again with the returned status."""
    form.add_error(field, error.detail)
    return status_for(error)


def form_invalid(form: Form) -> Invalid:
    """A refused form's first error as the domain error it came from, for a JSON answer: the
    field's cleaning kept the service's code (`blank`, `too_long`), so a script gets the code the
    socket sends for the same input, not a bare `invalid`."""
    for errors in form.errors.as_data().values():
        return Invalid(errors[0].messages[0], code=errors[0].code or Invalid.code)
    return Invalid()


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a page view: a domain error escaping it becomes the rendered error page with its status."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return error_response(request, error)

    return wrapper


def json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a JSON endpoint: 401 JSON for an anonymous caller; a domain error escaping it
    becomes its JSON body and status."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return json_error(NotAuthenticated())
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return json_error(error)

    return wrapper


def wants_json(request: HttpRequest) -> bool:
    """Scripts ask for JSON with `Accept: application/json`; forms get pages and redirects."""
    return "application/json" in request.headers.get("Accept", "")


def page_or_json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate an endpoint that answers forms with pages and scripts with JSON (`wants_json`):
    `login_required` and `domain_errors` for the first, `json_errors` for the second."""
    as_page = login_required(domain_errors(view))
    as_json = json_errors(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return (as_json if wants_json(request) else as_page)(request, *args, **kwargs)

    return wrapper

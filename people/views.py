"""Finding people: thin adapters over `accounts.selectors`, each lookup counted by `people.throttle`.

No page or JSON here shows an email address: only ids, usernames and display names.
"""

import zoneinfo
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import avatars
from accounts.models import User
from accounts.selectors import people_search
from accounts.serializers import user_json
from chatsite.errors import Invalid, NotFound
from chatsite.http import domain_errors, json_errors, query_text
from chatsite.numbers import whole_number
from groups.access import access_group
from groups.selectors import groups_shared_by
from messaging.access import access_conversation
from messaging.selectors import can_see_conversation
from people.throttle import lookup_count

QUERY_MAX_LENGTH = 100  # characters of a search box that are looked at


def _query(request: HttpRequest) -> str:
    return query_text(request, "q", QUERY_MAX_LENGTH)


def _limited_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page that counts as a lookup: over the limit, LookupsLimited (the 429 error page with
    `Retry-After`, through `domain_errors`)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        lookup_count(request.user.pk)
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@login_required
@domain_errors
@_limited_page
def directory(request: HttpRequest) -> HttpResponse:
    """GET /people/?q=&page=: everyone active whose name has a word starting with each term."""
    query = _query(request)
    page = Paginator(people_search(query), settings.PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/directory.html", {"query": query, "page": page})


def _limit(raw: str | None) -> int:
    if raw is None:
        return settings.PEOPLE_SEARCH_LIMIT
    top = settings.PEOPLE_SEARCH_MAX_LIMIT
    limit = whole_number(raw)
    if limit is None or not 1 <= limit <= top:
        raise Invalid(f"limit must be a whole number from 1 to {top}.", code="invalid")
    return limit


@require_GET
@json_errors
def search(request: HttpRequest) -> JsonResponse:
    """GET /people/search/?q=&limit=&group=&conversation=: `{"people": [user_json]}`
    for pickers; with `group`, only that group's members (a group the caller is in, else 404); with
    `conversation`, only the people who can see it (one the caller can see, else 404)."""
    limit = _limit(request.GET.get("limit"))
    lookup_count(request.user.pk)
    people = people_search(_query(request))
    if request.GET.get("group"):
        # Capped by length before converting, as every numeric parameter.
        group, _membership = access_group(request.user, whole_number(request.GET["group"]))
        people = people.filter(memberships__group=group)
    if request.GET.get("conversation"):
        # The composer's @-mention suggestions: the people who can see that conversation.
        conversation, _membership = access_conversation(request.user, whole_number(request.GET["conversation"]))
        people = people.filter(can_see_conversation(conversation))
    found = list(people[:limit]) if _query(request) else []
    return JsonResponse({"people": [user_json(user) for user in found]})


def _local_time(user: User):
    """Now in the person's own time zone, or None when they have not set one (or it is unknown here)."""
    if not user.time_zone:
        return None
    try:
        return timezone.now().astimezone(zoneinfo.ZoneInfo(user.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@require_GET
@login_required
@domain_errors
@_limited_page
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """GET /people/<username>/: name, username, the groups you share, local time, a "Message" button."""
    person = User.objects.filter(username__iexact=username, is_active=True).first()
    if person is None:
        raise NotFound(f"There is no user named “{username}”.")
    local_time = _local_time(person)
    context = {
        "person": person,
        "is_you": person.pk == request.user.pk,
        "groups": list(groups_shared_by(request.user, person)),
        "local_time": local_time,
        # Formatted here: the template's date filter would convert back to the site's zone.
        "local_time_text": local_time.strftime("%H:%M") if local_time else "",
    }
    return render(request, "people/profile.html", context)


@require_GET
def avatar(request: HttpRequest, username: str) -> HttpResponse:
    """GET /people/<username>/avatar/?v=: the user's picture (WebP), to logged-in users.

    Not a lookup (a page of 50 messages shows many): it tells nothing the page showing it did not.
    404 for no such user, a deactivated one, or one without a picture. With the current `v` it
    may be kept AVATAR_CACHE_SECONDS (a new picture is a new `v`); any other `v` is not kept.
    """
    if not request.user.is_authenticated:
        return _hardened(HttpResponse("Log in first.", status=401, content_type="text/plain; charset=utf-8"))
    person = User.objects.filter(username__iexact=username, is_active=True).only("pk", "username", "avatar").first()
    if person is None or not person.avatar:
        return _hardened(HttpResponse("No picture.", status=404, content_type="text/plain; charset=utf-8"))
    try:
        stored = avatars.storage().open(person.avatar, "rb")
        data = stored.read()
        stored.close()
    except FileNotFoundError:
        return _hardened(HttpResponse("No picture.", status=404, content_type="text/plain; charset=utf-8"))
    response = HttpResponse(data, content_type=avatars.CONTENT_TYPE)
    current = request.GET.get("v") == avatars.version(person.avatar)
    response["Cache-Control"] = f"private, max-age={settings.AVATAR_CACHE_SECONDS}" if current else "private, no-cache"
    return _hardened(response)


def _hardened(response: HttpResponse) -> HttpResponse:
    """As every uploaded file is served: no sniffing, no scripts, not embedded by other sites."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response

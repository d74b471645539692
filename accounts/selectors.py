"""Reads about accounts that need a rule or a careful query."""

import json
import zoneinfo
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import avatars, names, registry
from accounts.models import User, UserSession
from chatsite.errors import Invalid, NotFound
from chatsite.mail import site_url


def user_by_login(identifier: str) -> User | None:
    """The account a login name points at: username or email, ignoring letter case."""
    identifier = identifier.strip()
    field = "email__iexact" if "@" in identifier else "username__iexact"
    return User.objects.filter(**{field: identifier}).first()


def account_throttle_key(user: User) -> str:
    """An account's identity in the password throttle (accounts/throttle.py)."""
    return f"user:{user.pk}"


def login_account_key(identifier: str) -> str:
    """The throttling identity: the account when it exists, else the normalised text."""
    user = user_by_login(identifier)
    return account_throttle_key(user) if user else f"name:{identifier.strip().lower()}"


# --- Finding people -------------------------------------------------------------------------------
# Nothing here reads or returns email addresses: these feed pages and JSON other users see.

PUBLIC_FIELDS = ("id", "username", "display_name", "search_name", "avatar")


def people_search(query: str) -> QuerySet[User]:
    """Active accounts whose username or display name has a word starting with each term of `query`,
    ignoring case and accents ("zoe od" finds "Zoë Ödegaard"), ordered by shown name. Blank: everyone."""
    people = User.objects.filter(is_active=True).only(*PUBLIC_FIELDS)
    for term in names.query_terms(query):
        people = people.filter(search_name__contains=" " + term)
    return people.order_by("search_name", "pk")


class Ambiguous(Invalid):
    """A display name more than one person has: ask for the username."""

    code = "ambiguous"


def user_by_name(text: str, *, among: QuerySet[User] | None = None) -> User:
    """The active account a person typed: a username (any case, optional "@") or, failing that,
    a display name (ignoring case and accents) that exactly one account has.

    NotFound when nobody matches; Ambiguous when several people share that display name.
    `among` narrows the candidates (the members of a group).
    """
    typed = (text or "").strip()
    candidates = (among if among is not None else User.objects.all()).filter(is_active=True)
    bare = typed.removeprefix("@")
    if bare:
        by_username = candidates.filter(username__iexact=bare).first()
        if by_username is not None:
            return by_username
    wanted = names.fold(typed)
    matches = []
    if wanted:
        narrowed = candidates
        for term in names.query_terms(typed):
            narrowed = narrowed.filter(search_name__contains=" " + term)
        matches = [user for user in narrowed[:50] if names.fold(user.display_name) == wanted]
    if not matches:
        raise NotFound(f"There is no user named “{typed}”.")
    if len(matches) > 1:
        raise Ambiguous(f"More than one person is called “{typed}”. Enter their username instead (e.g. @username).")
    return matches[0]


def users_by_names(entries) -> list[User]:
    """Resolve the entries of a members field (see `groups.forms.parse_member_entries`), in order, without repeats.

    An entry that is nobody's username or display name but has several words is read as one
    name per word, so "bob carol" still names two people. Invalid (code `unknown_users`) names every
    entry or word that matches nobody; Ambiguous names the display names several people share.
    """
    found: dict[int, User] = {}
    missing: list[str] = []
    ambiguous: list[str] = []
    for entry in entries:
        try:
            resolved = [user_by_name(entry)]
        except Ambiguous:
            ambiguous.append(entry)
            continue
        except NotFound:
            parts = entry.split()
            if len(parts) < 2:
                missing.append(entry)
                continue
            resolved = []
            for part in parts:
                try:
                    resolved.append(user_by_name(part))
                except Ambiguous:
                    ambiguous.append(part)
                except NotFound:
                    missing.append(part)
        for user in resolved:
            found.setdefault(user.pk, user)
    if missing:
        unique = list(dict.fromkeys(missing))
        raise Invalid("No such user: " + ", ".join(sorted(unique, key=str.lower)) + ".", code="unknown_users")
    if ambiguous:
        unique = list(dict.fromkeys(ambiguous))
        raise Ambiguous(
            "More than one person is called " + ", ".join(f"“{n}”" for n in unique) + ". Enter their username instead."
        )
    return list(found.values())


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _avatar_export(user: User) -> dict[str, Any] | None:
    if not user.avatar:
        return None
    size = avatars.storage().size(user.avatar) if avatars.storage().exists(user.avatar) else None
    return {"url": site_url(user.avatar_url), "type": avatars.CONTENT_TYPE, "size": size}


def _export_head(user: User) -> dict[str, Any]:
    head: dict[str, Any] = {
        "exported_at": _iso(timezone.now()),
        "profile": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            # The picture (download it from the URL while logged in), or null.
            "avatar": _avatar_export(user),
        },
    }
    for name, read in registry.sections():  # what the apps above hold (memberships, ...)
        head[name] = read(user)
    return head


def user_data_export(user: User) -> Iterator[str]:
    """The user's data as one JSON document, written in chunks so a long history is never held in memory.

    `{"exported_at", "profile", ...the registered sections (accounts/registry.py)...}`;
    the streamed section (the messages, oldest first) comes last.
    """
    head = json.dumps(_export_head(user), ensure_ascii=False, indent=1)
    streamed = registry.stream()
    if streamed is None:
        yield head + "\n"
        return
    name, pages = streamed
    yield head[: head.rindex("}")].rstrip() + f",\n {json.dumps(name)}: ["
    first = True
    for page in pages(user):
        text = ",\n  ".join(json.dumps(item, ensure_ascii=False) for item in page)
        yield ("\n  " if first else ",\n  ") + text
        first = False
    yield "\n ]\n}\n"


def user_for_password_reset(email: str) -> User | None:
    """The active account a reset link may be mailed to: its address must be verified, unless verification is off."""
    users = User.objects.filter(email__iexact=email.strip(), is_active=True)
    if settings.EMAIL_VERIFICATION != "off":
        users = users.filter(email_verified=True)
    return users.first()


def session_public_id(session_key: str) -> str:
    """How pages and URLs name a session: never its key, which is as good as the cookie."""
    return salted_hmac("accounts.session-id", session_key).hexdigest()[:20]


def device_name(user_agent: str) -> str:
    """ "Firefox on Windows" from a User-Agent header: enough to recognise one's own devices."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), "")
    system = next((name for token, name in _SYSTEMS if token in ua), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("python-requests", "Script"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def sessions_for_user(user: User, *, current_key: str | None) -> list[dict[str, Any]]:
    """The user's live login sessions for the sessions page, the current one first, then by last seen."""
    rows = (
        UserSession.objects.filter(user=user, session__expire_date__gt=timezone.now())
        .select_related("session")
        .order_by("-last_seen")
    )
    sessions = [
        {
            "id": session_public_id(row.session_id),
            "device": device_name(row.user_agent),
            "user_agent": row.user_agent,
            "address": row.address,
            "last_seen": row.last_seen,
            "created_at": row.created_at,
            "current": row.session_id == current_key,
        }
        for row in rows
    ]
    return sorted(sessions, key=lambda s: not s["current"])


def session_key_by_public_id(user: User, public_id: str) -> str | None:
    """The key of the user's session with this public id (None: gone, or someone else's)."""
    for key in UserSession.objects.filter(user=user).values_list("session_id", flat=True):
        if constant_time_compare(session_public_id(key), public_id):
            return key
    return None


def user_time_zone(user: User) -> tzinfo | None:
    """The zone a person chose in their settings, or None when they have not (or it is unknown here)."""
    if not getattr(user, "time_zone", ""):
        return None
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None

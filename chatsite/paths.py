"""Paths handed on: to scripts through `data-` attributes, and to code that fills one in many times.

Routes are spelled once, in the `urls.py` files and chatsite/routing.py. Python reverses them
(`reverse`), templates use `{% url %}`, and scripts read them from `<body>`'s `data-*-url`
attributes (templates/base.html, static/js/urls.js). A path with ids reaches a script as a
template reversed with PLACEHOLDER in place of each id (`/chats/0/messages/0/edit/`): no real
row has the id 0, so the script can put the real ids in, left to right.

The pages every member loads (base.html, the sidebar, the conversation page) reverse their routes
with `{% path %}` (`path_to`): the same result as `{% url %}`, the route reversed once per process
(the resolver costs about 30 µs a call, and a conversation page named 35 paths); and name their
stylesheets and scripts with `{% static_path %}`, `{% static %}` asked once per process (the
manifest's lookup and URL joining cost about 70 µs a file).
"""

from collections.abc import Callable
from functools import lru_cache
from weakref import WeakKeyDictionary

from django.conf import settings
from django.contrib.staticfiles.storage import StaticFilesStorage
from django.core.files.storage import storages
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse

from chatsite.numbers import MAX_ID

PLACEHOLDER = 0  # ids start at 1 (chatsite.numbers.row_id), so 0 never names a row
SOCKET_PATH = "ws/"  # the WebSocket route (chatsite/routing.py), below the site's root
# Reversed in place of the ids, then cut out: 19 digits, as long as the longest id, so any route whose
# converter takes an id takes them; a route that refuses them, or spells one, is reversed each time.
_MARKS = tuple(str(7_919_000_000_000_000_001 + n) for n in range(8))


@lru_cache(maxsize=256)
def _pieces(resolver, prefix: str, viewname: str, count: int) -> tuple[str, ...] | None:
    """The route's path cut around its `count` ids: `count + 1` fixed pieces, or None when the route
    cannot be filled in that way. Keyed by the resolver (a new one when the URLconf changes) and the
    script prefix, which `reverse` reads from the current thread."""
    if count > len(_MARKS):
        return None
    marks = _MARKS[:count]
    try:
        path = reverse(viewname, args=marks)
    except NoReverseMatch:  # a converter refusing the marks: reverse each time (and fail there if it must)
        return None
    pieces = []
    rest = path
    for mark in marks:
        head, found, rest = rest.partition(mark)
        if not found or any(m in head for m in _MARKS):
            return None
        pieces.append(head)
    if any(m in rest for m in _MARKS):
        return None
    pieces.append(rest)
    return tuple(pieces)


def path_to(viewname: str, *args) -> str:
    """`reverse(viewname, args=args)`, the route reversed once per process (URLconf and script prefix)
    and its ids filled in. Arguments other than ids (whole numbers 0..MAX_ID), such as usernames,
    which `reverse` quotes, go through `reverse` each time."""
    if not all(type(arg) is int and 0 <= arg <= MAX_ID for arg in args):
        return reverse(viewname, args=args)
    pieces = _pieces(get_resolver(get_urlconf()), get_script_prefix(), viewname, len(args))
    if pieces is None:
        return reverse(viewname, args=args)
    if not args:
        return pieces[0]
    filled = [pieces[0]]
    for arg, piece in zip(args, pieces[1:], strict=True):
        filled += (str(arg), piece)
    return "".join(filled)


def path_filler(viewname: str, *args) -> Callable[[object], str]:
    """`lambda last: reverse(viewname, args=[*args, last])`, reversed once: for markup that fills
    the same route in for 50 and more items (the resolver costs microseconds each time)."""
    head, _, tail = path_to(viewname, *args, PLACEHOLDER).rpartition(f"/{PLACEHOLDER}/")
    return lambda last: f"{head}/{last}/{tail}"


# Per static files storage (a new one when the STORAGES setting changes): {(name, DEBUG): URL}.
_STATIC_URLS: WeakKeyDictionary = WeakKeyDictionary()


def static_path(name: str) -> str:
    """`{% static name %}`: the static files storage's URL of `name`. The project's storages (files
    on disk, hashed names from a manifest read at start-up) give the same URL for a name all the
    process long, so it is asked once; any other storage (one that signs its URLs, say) each time."""
    storage = storages["staticfiles"]
    if not isinstance(storage, StaticFilesStorage):
        return storage.url(name)
    urls = _STATIC_URLS.get(storage)
    if urls is None:
        urls = _STATIC_URLS.setdefault(storage, {})
    key = (name, settings.DEBUG)  # in DEBUG, the manifest's storage gives the unhashed name
    url = urls.get(key)
    if url is None:
        url = urls[key] = storage.url(name)
    return url


def socket_path(request: HttpRequest) -> dict[str, str]:
    """Context processor: `socket_path`, the WebSocket's path, for `<body data-socket-url>`."""
    return {"socket_path": "/" + SOCKET_PATH}

"""Paths handed on: to scripts through `data-` attributes, and to code that fills one in many times.

Routes are spelled once, in the `urls.py` files and chatsite/routing.py. Python reverses them
(`reverse`), templates use `{% url %}`, and scripts read them from `<body>`'s `data-*-url`
attributes (templates/base.html, static/js/urls.js). A path with ids reaches a script as a
template reversed with PLACEHOLDER in place of each id (`/chats/0/messages/0/edit/`): no real
row has the id 0, so the script can put the real ids in, left to right.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import reverse

PLACEHOLDER = 0  # ids start at 1 (chatsite.numbers.row_id), so 0 never names a row
SOCKET_PATH = "ws/"  # the WebSocket route (chatsite/routing.py), below the site's root


def path_filler(viewname: str, *args) -> Callable[[object], str]:
    """`lambda last: reverse(viewname, args=[*args, last])`, reversed once: for markup that fills
    the same route in for 50 and more items (the resolver costs microseconds each time)."""
    head, _, tail = reverse(viewname, args=[*args, PLACEHOLDER]).rpartition(f"/{PLACEHOLDER}/")
    return lambda last: f"{head}/{last}/{tail}"


def socket_path(request: HttpRequest) -> dict[str, str]:
    """Context processor: `socket_path`, the WebSocket's path, for `<body data-socket-url>`."""
    return {"socket_path": "/" + SOCKET_PATH}

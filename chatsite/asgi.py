"""ASGI entry point: HTTP to Django, WebSocket through the origin check (chatsite/origin.py), the line of
handshakes (chatsite/handshakes.py) and session auth (messaging.realtime.auth)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

# Django must be set up before importing anything that touches models.
get_asgi_application()

from chatsite.handler import HTTPHandler  # noqa: E402

# Django's HTTP handler with a request's sync work in one thread hop, on threads kept (chatsite/handler.py).
django_asgi_app = HTTPHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chatsite.handshakes import HandshakeGate  # noqa: E402
from chatsite.origin import SameOriginMiddleware  # noqa: E402
from chatsite.routing import websocket_urlpatterns  # noqa: E402
from chatsite.uploads import UploadLimitASGI  # noqa: E402
from messaging.realtime.auth import SessionAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Upload views refuse a body over their limit before Django spools it (chatsite/uploads.py).
        "http": UploadLimitASGI(django_asgi_app),
        "websocket": SameOriginMiddleware(HandshakeGate(SessionAuthMiddleware(URLRouter(websocket_urlpatterns)))),
    }
)

# Everything loaded so far (Django, the app, their modules) lives as long as the process.
# Freezing it keeps the garbage collector from walking it again on every full collection:
# under load those walks paused the event loop for 100-200 ms at a time (BENCHMARKS.md).
gc.collect()
gc.freeze()
# Open sockets are long-lived objects too, and a full collection walks all of them: while
# thousands of sockets connect, one ran every few hundred handshakes and each paused the
# loop longer (50 ms at 1,000 sockets, 340 ms at 5,000); at 200 messages/s on 1,000 sockets
# they took the p99 from 16 to 385 ms. A hundred times fewer full collections (the third
# threshold, default 10: settings.GC_FULL_THRESHOLD); young objects are collected as before.
young, middle, _full = gc.get_threshold()
gc.set_threshold(young, middle, settings.GC_FULL_THRESHOLD)

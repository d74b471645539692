"""WebSocket routes: the public contract for sockets (see docs/protocol.md)."""

from django.urls import path

from chatsite.paths import SOCKET_PATH
from messaging.realtime.consumer import ChatConsumer

websocket_urlpatterns: list = [
    path(SOCKET_PATH, ChatConsumer.as_asgi()),
]

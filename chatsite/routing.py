"""WebSocket routes: the public contract for sockets (see docs/protocol.md)."""

from django.urls import path

from messaging.realtime.consumer import ChatConsumer

websocket_urlpatterns: list = [
    path("ws/", ChatConsumer.as_asgi()),
]

"""WebSocket routes: the public contract for sockets (see docs/protocol.md)."""

websocket_urlpatterns: list = []

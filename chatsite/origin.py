"""The WebSocket handshake's `Origin` check: the site's own origin, or one listed in CSRF_TRUSTED_ORIGINS.

Browsers send cookies with a cross-site WebSocket handshake, and the
same-origin policy does not apply to sockets: this check is what stops another
site's page from opening a socket with a visitor's session. Channels'
AllowedHostsOriginValidator compared host names only, so `http://host:9999` or
`https://host` passed for a site at `http://host:8000`.

The site's origin is worked out as Django works out the HTTP side's: the
`Host` header (which must be in ALLOWED_HOSTS, as for any request), and the
scheme the server saw (`wss` is `https`), or the proxy's X-Forwarded-Proto
when SECURE_PROXY_SSL_HEADER is set. The `Origin` must then be that scheme,
host and port exactly (default ports may be left out), or match an entry of
CSRF_TRUSTED_ORIGINS (`https://*.example.com` covers subdomains, as for
forms). Anything else is refused before `accept` (HTTP 403).
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


def _headers(scope) -> dict[bytes, bytes]:
    """The handshake's headers by lower-case name (the last one wins, as in Django's META)."""
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _secure(scope, headers: dict[bytes, bytes]) -> bool:
    """Whether the handshake came over TLS, as `HttpRequest.is_secure()` decides for HTTP."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        meta_name, secure_value = proxy_header
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        value = headers.get(name)
        if value is not None:
            return value.decode("latin1").split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _normalise(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the default port filled in; None when it is not an http(s) origin."""
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS or not netloc:
        return None
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number or out of range
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname.lower(), port


def site_origin(scope) -> tuple[str, str, int] | None:
    """This site's origin as the handshake names it; None without a valid, allowed Host."""
    headers = _headers(scope)
    host = headers.get(b"host", b"").decode("latin1").strip()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return _normalise("https" if _secure(scope, headers) else "http", host)


def _trusted(origin: str, normalised: tuple[str, str, int]) -> bool:
    """Whether CSRF_TRUSTED_ORIGINS lists this origin (exactly, or as `scheme://*.domain`)."""
    scheme, host, port = normalised
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        parts = urlsplit(entry)
        if "*" in parts.netloc:
            if parts.scheme.lower() != scheme:
                continue
            pattern_host, pattern_port = split_domain_port(parts.netloc.replace("*", "", 1))
            wanted_port = int(pattern_port) if pattern_port else DEFAULT_PORTS.get(scheme)
            if port == wanted_port and is_same_domain(host, pattern_host):
                return True
        elif _normalise(parts.scheme, parts.netloc) == normalised:
            return True
    return False


def origin_allowed(scope) -> bool:
    """The handshake's `Origin` is this site's own origin, or a trusted one."""
    raw = _headers(scope).get(b"origin")
    if raw is None:
        return False
    origin = raw.decode("latin1").strip()
    parts = urlsplit(origin)
    if parts.path or parts.query or parts.fragment:
        return False
    normalised = _normalise(parts.scheme, parts.netloc)
    if normalised is None:
        return False
    return normalised == site_origin(scope) or _trusted(origin, normalised)


class SameOriginMiddleware:
    """Refuse (403, before `accept`) a WebSocket handshake whose `Origin` is not this site's or a trusted one."""

    _asgi_single_callable = True  # asgiref's hint: `__call__` returns the awaitable

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, scope, receive, send):
        # The inner app's coroutine itself, not one awaiting it: no frame of this check is kept for as
        # long as the socket is open.
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return WebsocketDenier()(scope, receive, send)
        return self.inner(scope, receive, send)

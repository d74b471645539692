"""One task per process that keeps its sockets counted as online and re-checks their access.

Every tick (a few seconds) it does what is due:
- presence: every WS_PRESENCE_TTL / 3 seconds, refresh every socket's presence
  entry in one Redis pipeline, so a crashed process's sockets stop counting as
  online within WS_PRESENCE_TTL;
- revocation: every REVOCATION_RECHECK_SECONDS, ask the database in one query
  (`selectors.access_rows`) about every user with a socket here, and let each
  socket act on the answer: close if the account is gone or inactive or the
  session's password hash is stale, follow a changed set of conversations. The
  safety net under the access events (the channel layer does not guarantee
  delivery; an admin's SQL fix publishes nothing);
- groups a socket could not join while the channel layer was down are joined again.

A socket that fails here is dropped and logged once; the task carries on for
the others. It ends when no socket is left, and starts again with the next one.
"""

import asyncio
import contextlib
import logging
import random
import time
from typing import Protocol

from django.conf import settings

from messaging.realtime import presence, selectors
from messaging.realtime.workers import in_db_thread, in_thread, log_outage

logger = logging.getLogger("messaging.realtime")

TICK = 2.5  # seconds between looks at what is due


class Beating(Protocol):
    """What the heartbeat needs of a socket (ChatConsumer)."""

    socket_id: str
    user_id: int

    def inject(self, message: dict) -> None: ...

    def needs_rejoin(self) -> bool: ...


class Heartbeat:
    def __init__(self) -> None:
        self.sockets: dict[str, Beating] = {}
        self.task: asyncio.Task | None = None
        self.refreshing: asyncio.Future | None = None  # the presence refresh in flight
        self.refreshing_ids: frozenset[str] = frozenset()
        self.refresh_at = 0.0
        self.recheck_at = 0.0

    def add(self, socket: Beating) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.sockets = {}  # any left belong to a loop that has gone (tests run one loop each)
            now = time.monotonic()
            self.refresh_at = now + settings.WS_PRESENCE_TTL / 3
            # Spread the processes' first re-checks, so a restart does not line them all up.
            self.recheck_at = now + settings.REVOCATION_RECHECK_SECONDS * random.uniform(0.5, 1.0)
            self.task = loop.create_task(self.run())
        self.sockets[socket.socket_id] = socket

    async def remove(self, socket: Beating) -> None:
        """Forget the socket; first let a refresh that includes it finish, or that refresh could
        re-add its presence entry after the socket has removed it."""
        if self.sockets.pop(socket.socket_id, None) is None:
            return
        if self.refreshing is not None and socket.socket_id in self.refreshing_ids:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.refreshing)

    def drop(self, socket: Beating, what: str) -> None:
        """A socket that failed here: forget it (logged once a minute), keep beating for the others."""
        self.sockets.pop(socket.socket_id, None)
        log_outage(f"heartbeat dropped a socket: {what} failed")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(min(TICK, settings.WS_PRESENCE_TTL / 3, settings.REVOCATION_RECHECK_SECONDS))
            if not self.sockets:
                self.task = None  # no await since the check: the next socket starts a new task
                return
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:  # never lose the task: every socket of the process depends on it
                log_outage("heartbeat tick failed")

    async def beat(self) -> None:
        now = time.monotonic()
        if now >= self.refresh_at:
            self.refresh_at = now + settings.WS_PRESENCE_TTL / 3
            await self.refresh()
        if now >= self.recheck_at:
            self.recheck_at = now + settings.REVOCATION_RECHECK_SECONDS
            await self.recheck()
        await self.rejoin()

    async def refresh(self) -> None:
        sockets = [(socket.user_id, socket_id) for socket_id, socket in self.sockets.items()]
        self.refreshing_ids = frozenset(socket_id for _user, socket_id in sockets)
        self.refreshing = asyncio.ensure_future(in_thread(presence.store().refresh_many)(sockets))
        try:
            await asyncio.shield(self.refreshing)
        except Exception:
            log_outage("presence refresh failed")
        finally:
            self.refreshing, self.refreshing_ids = None, frozenset()

    async def recheck(self) -> None:
        user_ids = {socket.user_id for socket in self.sockets.values()}
        try:
            rows = await in_db_thread(selectors.access_rows)(user_ids)
        except Exception:
            log_outage("access re-check failed")
            return
        # Handed to each socket as an event of its own, handled in turn with its other events:
        # one slow socket never holds up the heartbeat.
        for socket in list(self.sockets.values()):
            if socket.user_id not in user_ids:
                # Opened while the query ran: its user was not asked about, so a missing row says
                # nothing (it is not "the account is gone"). The next re-check covers it.
                continue
            try:
                socket.inject({"type": "access.recheck", "row": rows.get(socket.user_id)})
            except Exception:
                self.drop(socket, "re-check")

    async def rejoin(self) -> None:
        """Groups a socket could not join while the channel layer was down: try again."""
        for socket in list(self.sockets.values()):
            try:
                if socket.needs_rejoin():
                    socket.inject({"type": "groups.rejoin"})
            except Exception:
                self.drop(socket, "rejoin")


heartbeat = Heartbeat()

"""`HandshakeGate`: at most WS_HANDSHAKES_IN_FLIGHT socket handshakes in the app at once, the rest in line.

A handshake (session and user, the groups, `hello`'s reads, presence) takes a few
hops to the worker pool and the channel layer. When thousands arrive together (a
reconnect storm: a proxy restart, a network blip), each hop's queue holds all of
them, so every handshake advanced one step per round and all finished together at
the very end, after the WebSocket server had given up on them (uvicorn closes a
connection whose handshake is not answered within 10 s). In line instead, a
handshake takes its turn when one in flight has answered (accepted with `hello`
sent, or refused): they finish in arrival order at the process's connect rate,
and the first are back at once.

The turn ends with the first frame after `accept` (the `hello`) or a close; at the
latest when the app returns.
"""

import asyncio

from django.conf import settings

# What ends a handshake's turn: a refusal, or the first frame after `accept`.
_TURN_ENDS = frozenset({"websocket.send", "websocket.close", "websocket.http.response.start"})


class HandshakeGate:
    def __init__(self, inner):
        self.inner = inner
        self.turns: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _turns(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        turns = self.turns.get(loop)
        if turns is None:
            self.turns = {loop: asyncio.Semaphore(settings.WS_HANDSHAKES_IN_FLIGHT)}  # one loop per process
            turns = self.turns[loop]
        return turns

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        turns = self._turns()
        await turns.acquire()
        turn = _Turn(turns, send)
        try:
            return await self.inner(scope, receive, turn)
        finally:
            turn.end()


class _Turn:
    """The app's `send` during a handshake's turn, which it ends with the first frame after `accept` or a
    refusal: one small object per socket, not two closures and a cell. Once the turn has ended it only
    passes messages on: a socket may then send through `after_turn` itself (messaging.realtime.loop,
    `handshake_answered`), one call less for every frame."""

    __slots__ = ("after_turn", "turns")

    def __init__(self, turns: asyncio.Semaphore, send) -> None:
        self.turns: asyncio.Semaphore | None = turns
        self.after_turn = send

    def end(self) -> None:
        if self.turns is not None:
            self.turns.release()
            self.turns = None

    async def __call__(self, message: dict) -> None:
        if self.turns is not None and message["type"] in _TURN_ENDS:
            self.end()
        await self.after_turn(message)

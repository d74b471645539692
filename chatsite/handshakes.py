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
        held = True

        def end_turn() -> None:
            nonlocal held
            if held:
                held = False
                turns.release()

        async def send_ending_turn(message: dict) -> None:
            if held and message["type"] in _TURN_ENDS:
                end_turn()
            await send(message)

        # Once the turn has ended this only passes messages on: a socket may then send through `send`
        # itself (messaging.realtime.loop, `handshake_answered`), one call less for every frame.
        send_ending_turn.after_turn = send
        try:
            return await self.inner(scope, receive, send_ending_turn)
        finally:
            end_turn()

"""Reference peer: a bare room broadcast server on the ``websockets`` asyncio implementation.

Speaks the same JSON frames as the chat server, minus auth and storage:

* connect ``ws://HOST:PORT/ws/?rooms=1,2`` and receive ``{"type": "hello", ...}``;
* send ``{"type": "message.send", "conversation": 1, "body": "...", "client_id": "..."}``;
* receive ``{"type": "message.ack", ...}`` (sender only), then ``{"type": "message.new", "message": {...}}``
  on every socket in the room, sender included.

Usage: ``python server.py [PORT]`` (or the ``PORT`` / ``HOST`` environment variables).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve

BACKLOG = 4096


class Room:
    __slots__ = ("members", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self.members: set[ServerConnection] = set()


rooms: dict[int, Room] = {}
user_ids = itertools.count(1)
message_ids = itertools.count(1)


def get_room(room_id: int) -> Room:
    room = rooms.get(room_id)
    if room is None:
        room = rooms[room_id] = Room()
    return room


def parse_rooms(path: str) -> list[int]:
    ids: list[int] = []
    for value in parse_qs(urlsplit(path).query).get("rooms", []):
        for part in value.split(","):
            if part.strip().isdigit() and int(part) > 0 and int(part) not in ids:
                ids.append(int(part))
    return ids


def reject_other_paths(connection: ServerConnection, request):
    if urlsplit(request.path).path != "/ws/":
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
    return None


def error(code: str, client_id=None) -> str:
    return json.dumps({"type": "error", "code": code, "client_id": client_id})


async def handler(ws: ServerConnection) -> None:
    user_id = next(user_ids)
    user = {"id": user_id, "username": f"peer{user_id}", "display_name": f"Peer {user_id}"}
    joined = parse_rooms(ws.request.path)
    for room_id in joined:
        get_room(room_id).members.add(ws)
    try:
        hello = {
            "type": "hello",
            "user": user,
            "conversations": [{"id": r, "last_seq": get_room(r).seq, "unread": 0} for r in joined],
        }
        await ws.send(json.dumps(hello))
        async for raw in ws:
            try:
                frame = json.loads(raw)
            except ValueError:
                await ws.send(error("bad_json"))
                continue
            if not isinstance(frame, dict) or frame.get("type") != "message.send":
                await ws.send(error("unknown_type", frame.get("client_id") if isinstance(frame, dict) else None))
                continue
            room_id = frame.get("conversation")
            body = frame.get("body")
            if room_id not in joined or not isinstance(body, str):
                await ws.send(error("forbidden", frame.get("client_id")))
                continue
            room = rooms[room_id]
            room.seq += 1
            message = {
                "id": next(message_ids),
                "seq": room.seq,
                "conversation": room_id,
                "author": user,
                "body": body,
                "client_id": frame.get("client_id"),
                "created_at": datetime.now(UTC).isoformat(),
                "edited_at": None,
                "deleted": False,
            }
            # Both writes are synchronous, so no other handler can interleave a later seq in between.
            broadcast(
                [ws], json.dumps({"type": "message.ack", "client_id": frame.get("client_id"), "message": message})
            )
            broadcast(room.members, json.dumps({"type": "message.new", "message": message}))
    finally:
        for room_id in joined:
            rooms[room_id].members.discard(ws)


async def main() -> None:
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "8766"))
    host = os.environ.get("HOST", "127.0.0.1")
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(
        handler,
        host,
        port,
        compression=None,
        process_request=reject_other_paths,
        max_size=64 * 1024,
        backlog=BACKLOG,
    ):
        print(f"py_websockets peer listening on ws://{host}:{port}/ws/ (pid {os.getpid()})", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())

"""The Redis pub/sub channel layer, with a socket's groups joined and left in one command.

channels_redis's `group_add` takes the shard's lock and sends one SUBSCRIBE per
group; a socket joins its user's and session's groups and then every conversation
of the user, so a connect waited its turn for that lock once per group, behind
every other connect of the process (and every publish, which takes the same
lock). `group_add_many` and `group_discard_many` do the same bookkeeping for a
list of groups with one lock turn and at most one SUBSCRIBE (UNSUBSCRIBE) per
shard, for the groups this process does not listen to yet (no longer needs).

Written against channels_redis 4.3 (pinned in requirements.txt): it uses the
loop layer's `channels`/`groups` maps and the shard's `_lock`, `_subscribed_to`
and `_pubsub`, as the layer's own `group_add`/`group_discard` do.
tests/realtime/test_layer_groups.py holds the two to the same outcome.

`hand_over` lets a socket take its events straight from the layer's receiving task
(messaging.realtime.loop): in place of the channel's `asyncio.Queue` it puts a
`Handover`, which the receiving task calls as it calls the queue's `put_nowait`;
`release` ends such a channel when the socket ends.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable

from channels_redis import pubsub

from chatsite.outage import log_outage

logger = logging.getLogger("messaging.realtime")


class _Decoded:
    """The last payload the pub/sub layer handed over, decoded: a group's event reaches every
    socket of the group in this process as the same bytes object, one socket after the other."""

    data: bytes | None = None
    message: dict | None = None


def _decode(deserialize, data: bytes) -> dict:
    if data is not _Decoded.data:
        _Decoded.message = deserialize(data)
        _Decoded.data = data  # held, so its identity cannot be reused while it is the key
    return _Decoded.message


class Handover:
    """Stands in for the pub/sub layer's per-channel `asyncio.Queue`: the layer's receiving task calls
    `put_nowait` with each payload for the channel, which goes decoded straight to `take`.

    A burst the layer reads at once (one socket read from Redis, up to 64 KiB) is handed over before
    any socket's delivery runs: the socket's backlog bounds allow for that (messaging.realtime.loop).
    Nobody reads it: the socket ends it with the layer's `release`. `get` (a `receive` on the channel)
    never returns; cancelled, the layer's `receive` cleans up as `release` does.
    """

    __slots__ = ("deserialize", "take")

    def __init__(self, take, deserialize) -> None:
        self.take = take
        self.deserialize = deserialize

    def put_nowait(self, data: bytes) -> None:
        # Called from the layer's receiving task, for every socket of the process: it must not raise.
        try:
            message = _decode(self.deserialize, data)
        except Exception:
            log_outage(logger, "channel layer event that cannot be decoded dropped")
            return
        self.take(message)

    async def get(self) -> None:
        await asyncio.get_running_loop().create_future()  # never done: cancelled when the socket ends


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    def hand_over(self, channel: str, take: Callable[[dict], object]) -> bool:
        """From now on, give `take` each event for `channel` (one of this process, from `new_channel()`) as
        the layer receives it, decoded, instead of queueing it for `receive`; anything already queued goes
        first. Events are shared by every channel of the process they are for: `take` must not change them.
        False if the channel has no queue here (the layer was flushed): `receive` reads it as before."""
        layer = self._get_layer()
        queue = layer.channels.get(channel)
        if not isinstance(queue, asyncio.Queue):
            return False
        handover = Handover(take, self.deserialize)
        while not queue.empty():
            handover.put_nowait(queue.get_nowait())
        layer.channels[channel] = handover
        return True

    async def release(self, channel: str) -> None:
        """The end of a handed-over channel: what the layer's `receive` does when the reader waiting in it
        is cancelled (forget the channel, unsubscribe from it), without a reader task per socket waiting
        in `receive` for that alone."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is None:
            return
        try:
            await layer._get_shard(channel).unsubscribe(channel)
        except Exception:
            log_outage(logger, "channel layer unsubscribe failed")

    async def group_add_many(self, groups: Iterable[str], channel: str) -> None:
        """`group_add(group, channel)` for each group."""
        layer = self._get_layer()
        if channel not in layer.channels:
            raise RuntimeError("group_add_many() takes a channel of this process (from new_channel()).")
        by_shard = defaultdict(list)
        for group in groups:
            name = layer._get_group_channel_name(group)
            layer.groups.setdefault(name, set()).add(channel)
            by_shard[layer._get_shard(name)].append(name)
        for shard, names in by_shard.items():
            async with shard._lock:
                new = [name for name in names if name not in shard._subscribed_to]
                if new:
                    shard._ensure_redis()
                    shard._ensure_receiver()
                    await shard._pubsub.subscribe(*new)
                    shard._subscribed_to.update(new)

    async def group_discard_many(self, groups: Iterable[str], channel: str) -> None:
        """`group_discard(group, channel)` for each group."""
        layer = self._get_layer()
        by_shard = defaultdict(list)
        for group in groups:
            name = layer._get_group_channel_name(group)
            members = layer.groups.get(name)
            if not members or channel not in members:
                continue
            members.remove(channel)
            if not members:
                del layer.groups[name]
                by_shard[layer._get_shard(name)].append(name)
        for shard, names in by_shard.items():
            async with shard._lock:
                # A socket may have joined one of them again while this waited for the lock.
                gone = [name for name in names if name in shard._subscribed_to and name not in layer.groups]
                if gone:
                    shard._ensure_redis()
                    shard._ensure_receiver()
                    await shard._pubsub.unsubscribe(*gone)
                    shard._subscribed_to.difference_update(gone)

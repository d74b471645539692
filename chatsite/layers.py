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
"""

from collections import defaultdict
from collections.abc import Iterable

from channels_redis import pubsub


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
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

"""A socket's groups joined and left in one command (chatsite/layers.py), as `group_add`/`group_discard` would.

Against the real Redis pub/sub layer (REDIS_URL): what a channel receives, and what the
process is subscribed to, after the batch calls and after the one-at-a-time calls. Group
names are unique to each test, so a shared Redis does not interfere.
"""

import asyncio
import os
import uuid

import pytest
from channels.layers import get_channel_layer

from chatsite.layers import RedisPubSubChannelLayer

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: the Redis pub/sub layer")


async def _receives(layer, channel: str, n: int) -> bool:
    """Whether an event numbered `n` reaches `channel` within a moment."""
    try:
        return (await asyncio.wait_for(layer.receive(channel), 1.0))["n"] == n
    except TimeoutError:
        return False


def _subscribed(layer) -> set[str]:
    return set().union(*(shard._subscribed_to for shard in layer._get_layer()._shards))


async def test_groups_joined_at_once_deliver_and_left_at_once_stop():
    layer = get_channel_layer()
    assert isinstance(layer, RedisPubSubChannelLayer)
    tag = uuid.uuid4().hex
    groups = [f"batch.{tag}.{k}" for k in range(3)]
    mine, other = await layer.new_channel(), await layer.new_channel()

    await layer.group_add_many(groups, mine)
    await layer.group_add(groups[0], other)  # one group shared with another socket
    for k, group in enumerate(groups):
        await layer.group_send(group, {"type": "conversation.frame", "n": k})
        assert await _receives(layer, mine, k)
    assert await _receives(layer, other, 0)

    await layer.group_discard_many(groups, mine)
    names = {layer._get_layer()._get_group_channel_name(group) for group in groups}
    assert _subscribed(layer) & names == {layer._get_layer()._get_group_channel_name(groups[0])}  # still `other`'s
    for k, group in enumerate(groups):
        await layer.group_send(group, {"type": "conversation.frame", "n": 10 + k})
    assert await _receives(layer, other, 10)
    assert not await _receives(layer, mine, 10)

    await layer.group_discard_many([groups[0], f"never.{tag}"], other)  # one never joined: ignored
    assert not _subscribed(layer) & names


async def test_joining_again_what_is_joined_changes_nothing_and_a_foreign_channel_is_refused():
    layer = get_channel_layer()
    group = f"again.{uuid.uuid4().hex}"
    mine = await layer.new_channel()
    await layer.group_add_many([group], mine)
    await layer.group_add_many([group, group], mine)
    await layer.group_send(group, {"type": "conversation.frame", "n": 1})
    assert await _receives(layer, mine, 1)
    assert not await _receives(layer, mine, 1)  # delivered once
    with pytest.raises(RuntimeError):
        await layer.group_add_many([group], "specific.not-of-this-process")
    await layer.group_discard_many([group], mine)

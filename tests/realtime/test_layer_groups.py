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


async def test_a_handed_over_channel_gets_each_event_decoded_once_in_order_and_unsubscribes_when_its_reader_ends():
    """`hand_over` (the socket loop's path): events go to the callback as the layer receives them, the same
    decoded event to every channel of the group; a payload that cannot be decoded is dropped, the next comes;
    the reader waiting in `receive` still runs the layer's clean-up when cancelled."""
    layer = get_channel_layer()
    group = f"handover.{uuid.uuid4().hex}"
    one, two = await layer.new_channel(), await layer.new_channel()
    got_one, got_two = [], []
    both = asyncio.Event()

    def collect(into: list):
        def take(event: dict) -> None:
            into.append(event)
            if len(got_one) == len(got_two) == 2:
                both.set()

        return take

    assert layer.hand_over(one, collect(got_one)) and layer.hand_over(two, collect(got_two))
    readers = [asyncio.ensure_future(layer.receive(channel)) for channel in (one, two)]
    await layer.group_add_many([group], one)
    await layer.group_add_many([group], two)

    await layer.group_send(group, {"type": "conversation.frame", "n": 1})
    name = layer._get_layer()._get_group_channel_name(group)
    shard = layer._get_layer()._get_shard(name)
    await shard.publish(name, b"\xc1 not msgpack")  # what no layer would send
    await layer.group_send(group, {"type": "conversation.frame", "n": 2})
    await asyncio.wait_for(both.wait(), 5)
    assert [event["n"] for event in got_one] == [event["n"] for event in got_two] == [1, 2]
    assert got_one[0] is got_two[0]  # decoded once for the process

    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    assert one not in layer._get_layer().channels and not _subscribed(layer) & {one, two}
    await layer.group_discard_many([group], one)
    await layer.group_discard_many([group], two)


@pytest.mark.django_db(transaction=True)
async def test_a_closed_socket_leaves_no_channel_or_subscription_behind(connect, alice):
    """The socket's own channel is handed over (no reader task waits in `receive` to clean it up):
    the socket releases it when it ends."""
    layer = get_channel_layer()
    await connect(alice)  # the process's own tasks (heartbeat, the layer's receiver) start with a first socket
    before, tasks = set(layer._get_layer().channels), len(asyncio.all_tasks())
    socket = await connect(alice)
    (mine,) = set(layer._get_layer().channels) - before
    assert len(asyncio.all_tasks()) - tasks == 2  # the app's (the test's communicator runs it) and delivery
    assert mine in _subscribed(layer)
    await socket.ws.disconnect()
    for _ in range(500):  # the release runs in the background
        if mine not in layer._get_layer().channels and mine not in _subscribed(layer):
            break
        await asyncio.sleep(0.01)
    assert mine not in layer._get_layer().channels and mine not in _subscribed(layer)


async def test_release_forgets_a_handed_over_channel_and_unsubscribes():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    assert layer.hand_over(channel, lambda event: None)
    await layer.release(channel)
    assert channel not in layer._get_layer().channels and channel not in _subscribed(layer)
    await layer.release(channel)  # twice is harmless

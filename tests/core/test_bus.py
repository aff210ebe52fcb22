"""The PostgreSQL bus: transactional publish, once-per-group delivery, retries, dead letters, replay."""

import asyncio
import time
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import Subscription, publish, write_outbox
from nexora.core.bus.postgres import GroupConsumer, PostgresBus, sequence_once
from nexora.core.config import BusSettings
from nexora.core.errors import ValidationFailed
from nexora.core.events import Event
from tests.fixtures.bus import deliveries, drain, publish_batch, recorder

FAST = BusSettings(
    batch_size=50, max_attempts=3, retry_backoff_ms=20, retry_backoff_max_ms=100, poll_interval_seconds=0.2
)


def _group(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_event_published_in_a_rolled_back_transaction_is_never_delivered(runtime, bus_table) -> None:
    db = runtime.db
    group = _group("rollback")
    kept = await publish_batch(db, "kept", 1)
    rolled_back = None

    async def failing_business_change() -> None:
        nonlocal rolled_back
        async with db.unit_of_work() as session:
            rolled_back = await publish(session, "auth.logout", {"user_id": "ghost"}, source="tests")
            raise RuntimeError("business rule failed")

    with pytest.raises(RuntimeError):
        await failing_business_change()
    assert rolled_back is not None
    consumer = GroupConsumer(db, Subscription(group, ("auth.events",), recorder(group)), FAST)

    async def kept_handled() -> bool:
        return bool(await deliveries(db, group, kept))

    await drain(db, consumer, kept_handled)
    assert await deliveries(db, group, [rolled_back.id]) == {}
    async with db.unit_of_work() as session:
        assert (
            await session.scalar(text("SELECT count(*) FROM core.outbox WHERE event_id = :e"), {"e": rolled_back.id})
            == 0
        )


async def test_each_group_handles_an_event_once_even_when_redelivered(runtime, bus_table) -> None:
    db = runtime.db
    ids = await publish_batch(db, "once", 7)
    consumers = []
    for name in (_group("audit-like"), _group("analytics-like")):
        consumer = GroupConsumer(db, Subscription(name, ("auth.events",), recorder(name)), FAST)
        consumers.append(consumer)

        async def all_handled(name: str = name) -> bool:
            return len(await deliveries(db, name, ids)) == len(ids)

        await drain(db, consumer, all_handled)

    # Redeliver everything: rewind both groups' offsets to the start of the log.
    async with db.unit_of_work() as session:
        await session.execute(
            text("UPDATE core.consumer_offset SET position = 0 WHERE group_name = ANY(:g)"),
            {"g": [c.group for c in consumers]},
        )
    for consumer in consumers:

        async def caught_up(consumer: GroupConsumer = consumer) -> bool:
            return not await consumer.process_batch()

        await drain(db, consumer, caught_up)
        counts = await deliveries(db, consumer.group, ids)
        assert counts == dict.fromkeys(ids, 1)


async def test_a_handler_that_keeps_failing_ends_in_dead_letters_and_can_be_replayed(runtime, bus_table) -> None:
    db = runtime.db
    group = _group("poison")
    broken = {"on": True}
    ids = await publish_batch(db, "poison", 4)
    poison_marker = "poison-1"
    bus = PostgresBus(db, FAST)
    handler = recorder(group, fail_when=lambda e: broken["on"] and e.data.get("user_id") == poison_marker)
    consumer = GroupConsumer(db, Subscription(group, ("auth.events",), handler), FAST)

    async def others_handled() -> bool:
        counts = await deliveries(db, group, ids)
        return len(counts) == 3

    await drain(db, consumer, others_handled)
    letters = [letter for letter in await bus.dead_letters(group=group) if letter.event_id == ids[1]]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.attempts == 3
    assert letter.error == "RuntimeError: cannot handle poison-1"
    assert await deliveries(db, group, [ids[1]]) == {}  # failed attempts rolled back their writes

    broken["on"] = False
    assert await bus.replay([letter.id]) == 1
    assert await bus.replay([letter.id]) == 0  # replaying twice does nothing more

    async def poison_handled() -> bool:
        return (await deliveries(db, group, [ids[1]])).get(ids[1]) == 1

    await drain(db, consumer, poison_handled)
    assert await deliveries(db, group, ids) == dict.fromkeys(ids, 1)
    replayed = next(item for item in await bus.dead_letters(group=group) if item.id == letter.id)
    assert replayed.replayed_at is not None


async def test_a_replayed_dead_letter_reaches_only_the_group_that_failed_it(runtime, bus_table) -> None:
    db = runtime.db
    failing, healthy = _group("failing"), _group("healthy")
    ids = await publish_batch(db, "targeted", 1)
    broken = {"on": True}
    bus = PostgresBus(db, FAST)
    # Only this test's event fails: the group also reads (and handles) the whole topic history.
    handler = recorder(failing, lambda e: broken["on"] and e.id in ids)
    bad = GroupConsumer(db, Subscription(failing, ("auth.events",), handler), FAST)
    good = GroupConsumer(db, Subscription(healthy, ("auth.events",), recorder(healthy)), FAST)

    async def dead() -> bool:
        return any(letter.event_id == ids[0] for letter in await bus.dead_letters(group=failing))

    async def good_done() -> bool:
        return bool(await deliveries(db, healthy, ids))

    await drain(db, bad, dead)
    await drain(db, good, good_done)
    broken["on"] = False
    letter = next(letter for letter in await bus.dead_letters(group=failing) if letter.event_id == ids[0])
    await bus.replay([letter.id])

    async def bad_done() -> bool:
        return bool(await deliveries(db, failing, ids))

    await drain(db, bad, bad_done)
    await drain(db, good, lambda: _true())
    assert await deliveries(db, healthy, ids) == {ids[0]: 1}
    assert await deliveries(db, failing, ids) == {ids[0]: 1}


async def _true() -> bool:
    return True


async def test_notify_wakes_a_running_bus_without_waiting_for_the_poll(runtime, bus_table) -> None:
    db = runtime.db
    group = _group("notify")
    # Start the group at the end of the log: what is timed is the wake-up, not reading the history.
    async with db.unit_of_work() as session:
        await sequence_once(session)
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO core.consumer_offset (group_name, position)"
                " SELECT :g, coalesce(max(position), 0) FROM core.outbox"
            ),
            {"g": group},
        )
    bus = PostgresBus(db, BusSettings(poll_interval_seconds=30))
    bus.subscribe(Subscription(group, ("auth.events",), recorder(group)))
    await bus.start()
    try:
        await asyncio.sleep(0.3)  # let the listener connect before publishing
        started = time.monotonic()
        ids = await publish_batch(db, "notify", 3)
        while time.monotonic() - started < 10 and len(await deliveries(db, group, ids)) < 3:
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - started
        assert len(await deliveries(db, group, ids)) == 3
        assert elapsed < 5, f"delivery took {elapsed:.1f}s: the NOTIFY wake-up did not work"
        assert (await bus.lag())[group] == 0
    finally:
        await bus.stop()


async def test_positions_follow_publish_order_within_a_key(runtime, bus_table) -> None:
    db = runtime.db
    ids = await publish_batch(db, "order", 30)
    group = _group("order")
    consumer = GroupConsumer(db, Subscription(group, ("auth.events",), recorder(group)), FAST)

    async def done() -> bool:
        return len(await deliveries(db, group, ids)) == 30

    await drain(db, consumer, done)
    async with db.unit_of_work() as session:
        handled = (
            (
                await session.execute(
                    text(
                        "SELECT event_id FROM test_bus.handled"
                        " WHERE group_name = :g AND event_id = ANY(:ids) ORDER BY id"
                    ),
                    {"g": group, "ids": ids},
                )
            )
            .scalars()
            .all()
        )
    assert list(handled) == ids


async def test_publish_rejects_a_payload_that_breaks_the_schema(runtime) -> None:
    async with runtime.db.unit_of_work() as session:
        with pytest.raises(ValidationFailed, match="does not match its schema"):
            await publish(session, "auth.logout", {"user_id": 42}, source="tests")
        with pytest.raises(ValidationFailed, match="does not define"):
            await publish(session, "auth.logout", {"user_id": "x", "password": "p"}, source="tests")
        with pytest.raises(ValidationFailed, match="unknown event type"):
            await publish(session, "auth.nope", {}, source="tests")


async def test_a_batch_of_many_tenants_runs_each_event_in_its_tenant_and_keeps_each_tenants_order(
    runtime, bus_table
) -> None:
    """Events of several tenants (and the platform) interleave in one batch; each is handled with its
    own tenant set, each tenant's events in publish order, and a poison event in one tenant is
    dead-lettered without losing or repeating anyone else's."""
    db = runtime.db
    group = _group("tenants")
    tenants = [uuid.uuid4() for _ in range(3)]
    owners = [*tenants, None]
    events = [
        Event(
            type="auth.logout",
            data={"user_id": f"{index % 4}:{index // 4}"},
            source="tests",
            subject=f"user-{index % 4}",
            tenant_id=owners[index % 4],
        )
        for index in range(48)
    ]
    async with db.unit_of_work() as session:
        await write_outbox(session, events)
    poison = events[1 + 4 * 5]  # the sixth event of the second tenant

    async def handle(event: Event, session: AsyncSession) -> None:
        current = await session.scalar(text("SELECT current_setting('nexora.tenant_id', true)"))
        await session.execute(
            text("INSERT INTO test_bus.handled (group_name, event_id, subject, marker) VALUES (:g, :e, :s, :m)"),
            {"g": group, "e": event.id, "s": current or "", "m": event.data["user_id"]},
        )
        if event.id == poison.id:
            raise RuntimeError("poison")

    consumer = GroupConsumer(db, Subscription(group, ("auth.events",), handle), FAST)

    async def settled() -> bool:
        async with db.unit_of_work() as session:
            dead = await session.scalar(
                text("SELECT count(*) FROM core.dead_letter WHERE group_name = :g AND event_id = :e"),
                {"g": group, "e": poison.id},
            )
        return dead == 1 and len(await deliveries(db, group, [e.id for e in events])) == len(events) - 1

    await drain(db, consumer, settled)
    async with db.unit_of_work() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT subject, marker FROM test_bus.handled WHERE group_name = :g AND event_id = ANY(:ids) "
                    "ORDER BY id"
                ),
                {"g": group, "ids": [e.id for e in events]},
            )
        ).all()
    # Rolled-back passes left no rows: every event but the poison is recorded exactly once.
    assert sorted(row.marker for row in rows) == sorted(e.data["user_id"] for e in events if e.id != poison.id)
    for owner_index, owner in enumerate(owners):
        mine = [row for row in rows if row.marker.startswith(f"{owner_index}:")]
        assert {row.subject for row in mine} == {"" if owner is None else str(owner)}
        order = [int(row.marker.split(":")[1]) for row in mine]
        assert order == sorted(order)

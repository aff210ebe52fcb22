"""The end-to-end bus suite, run against both backends through the public ``EventBus`` interface."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from nexora.core.bus import Subscription, publish
from nexora.core.events import topics
from tests.core.bus_backends.harness import Backend, only_tagged, unique, wait_for
from tests.fixtures.bus import deliveries, publish_batch, recorder
from tests.fixtures.kafka import kafka_bus_settings


@pytest.fixture(params=["postgres", "kafka"])
def backend(request, runtime, settings, bus_table) -> Backend:
    if request.param == "postgres":
        return Backend("postgres", runtime.db)
    broker = request.getfixturevalue("kafka_broker")
    return Backend("kafka", runtime.db, kafka_bus_settings(settings, broker))


async def _markers_in_order(db, group: str, tag: str) -> list[tuple[str, str]]:
    async with db.unit_of_work() as session:
        rows = await session.execute(
            text("SELECT subject, marker FROM test_bus.handled WHERE group_name = :g AND marker LIKE :t ORDER BY id"),
            {"g": group, "t": f"{tag}-%"},
        )
        return [(row.subject, row.marker) for row in rows]


async def test_every_group_handles_every_event_once(backend: Backend) -> None:
    tag = unique("once")
    groups = [unique("audit-like"), unique("analytics-like")]
    subscriptions = [Subscription(g, ("auth.events",), only_tagged(tag, recorder(g))) for g in groups]
    ids = await publish_batch(backend.db, tag, 12)

    async with backend.running(*subscriptions):

        async def all_handled() -> bool:
            return all([len(await deliveries(backend.db, g, ids)) == len(ids) for g in groups])

        await wait_for(all_handled)
    for group in groups:
        assert await deliveries(backend.db, group, ids) == dict.fromkeys(ids, 1)


async def test_an_event_of_a_rolled_back_transaction_is_never_delivered(backend: Backend) -> None:
    tag = unique("rollback")
    group = unique("rollback")
    rolled_back = []

    async def failing_business_change() -> None:
        async with backend.db.unit_of_work() as session:
            event = await publish(session, "auth.logout", {"user_id": f"{tag}-ghost"}, source="tests", subject="s")
            rolled_back.append(event.id)
            raise RuntimeError("business rule failed")

    with pytest.raises(RuntimeError):
        await failing_business_change()
    kept = await publish_batch(backend.db, tag, 1)

    async with backend.running(Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))):

        async def kept_handled() -> bool:
            return bool(await deliveries(backend.db, group, kept))

        await wait_for(kept_handled)
    assert await deliveries(backend.db, group, rolled_back) == {}


async def test_events_about_one_subject_are_handled_in_publish_order(backend: Backend) -> None:
    tag = unique("order")
    group = unique("order")
    published: list[tuple[str, str]] = []
    for batch in range(4):
        async with backend.db.unit_of_work() as session:
            for i in range(10):
                subject, marker = f"{tag}-subject-{i % 4}", f"{tag}-{batch}-{i}"
                await publish(session, "auth.logout", {"user_id": marker}, source="tests", subject=subject)
                published.append((subject, marker))

    async with backend.running(Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))):

        async def all_handled() -> bool:
            return len(await _markers_in_order(backend.db, group, tag)) == len(published)

        await wait_for(all_handled)
    handled = await _markers_in_order(backend.db, group, tag)
    assert sorted(handled) == sorted(published)
    for subject in {subject for subject, _ in published}:
        assert [m for s, m in handled if s == subject] == [m for s, m in published if s == subject]


async def test_a_poison_event_is_dead_lettered_with_its_error_and_replayed_to_its_group_only(backend: Backend) -> None:
    tag = unique("poison")
    failing, healthy = unique("failing"), unique("healthy")
    ids = await publish_batch(backend.db, tag, 4)
    poison = f"{tag}-1"
    broken = {"on": True}
    subscriptions = [
        Subscription(
            failing,
            ("auth.events",),
            only_tagged(tag, recorder(failing, lambda e: broken["on"] and e.data["user_id"] == poison)),
        ),
        Subscription(healthy, ("auth.events",), only_tagged(tag, recorder(healthy))),
    ]

    async with backend.running(*subscriptions) as bus:

        async def dead_lettered() -> bool:
            return any(letter.event_id == ids[1] for letter in await bus.dead_letters(group=failing))

        await wait_for(dead_lettered)

        async def others_handled() -> bool:
            return len(await deliveries(backend.db, failing, ids)) == 3

        await wait_for(others_handled)
        (letter,) = [letter for letter in await bus.dead_letters(group=failing) if letter.event_id == ids[1]]
        assert letter.attempts == 3
        assert letter.error == f"RuntimeError: cannot handle {poison}"
        assert letter.type == "auth.logout"
        assert letter.replayed_at is None
        assert await deliveries(backend.db, failing, [ids[1]]) == {}  # the failed attempts rolled back

        broken["on"] = False
        assert await bus.replay([letter.id]) == 1
        assert await bus.replay([letter.id]) == 0  # a letter is replayed once

        async def poison_handled() -> bool:
            return (await deliveries(backend.db, failing, [ids[1]])).get(ids[1]) == 1

        await wait_for(poison_handled)
        (replayed,) = [item for item in await bus.dead_letters(group=failing) if item.id == letter.id]
        assert replayed.replayed_at is not None

    assert await deliveries(backend.db, failing, ids) == dict.fromkeys(ids, 1)
    assert await deliveries(backend.db, healthy, ids) == dict.fromkeys(ids, 1)  # the replay skipped this group


async def test_events_delivered_again_change_nothing(backend: Backend) -> None:
    tag = unique("again")
    group = unique("again")
    ids = await publish_batch(backend.db, tag, 6)
    subscription = Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))
    async with backend.running(subscription):

        async def all_handled() -> bool:
            return len(await deliveries(backend.db, group, ids)) == len(ids)

        await wait_for(all_handled)

    await backend.rewind(group)
    # One more event per subject: once each is handled, everything before it was read again.
    async with backend.db.unit_of_work() as session:
        sentinels = [
            (await publish(session, "auth.logout", {"user_id": f"{tag}-s{i}"}, source="tests", subject=f"{tag}-{i}")).id
            for i in range(3)
        ]
    async with backend.running(subscription):

        async def sentinels_handled() -> bool:
            return len(await deliveries(backend.db, group, sentinels)) == len(sentinels)

        await wait_for(sentinels_handled)
    assert await deliveries(backend.db, group, ids) == dict.fromkeys(ids, 1)


async def test_lag_counts_pending_events_and_is_zero_once_a_group_caught_up(backend: Backend) -> None:
    tag = unique("lag")
    group = unique("lag")
    subscription = Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))
    ids = await publish_batch(backend.db, tag, 5)
    async with backend.running(subscription) as bus:

        async def caught_up() -> bool:
            return len(await deliveries(backend.db, group, ids)) == len(ids) and (await bus.lag()).get(group) == 0

        await wait_for(caught_up)

    bus = backend.make()
    bus.subscribe(subscription)
    await publish_batch(backend.db, tag + "-pending", 3)
    assert (await bus.lag())[group] >= 3
    await bus.stop()


async def test_topics_lists_every_event_topic(backend: Backend) -> None:
    bus = backend.make()
    try:
        listed = {row["topic"] for row in await bus.topics()}
    finally:
        await bus.stop()
    assert set(topics()) <= listed


async def test_a_reachable_bus_is_ready(backend: Backend) -> None:
    bus = backend.make()
    try:
        assert await bus.ready() is True
    finally:
        await bus.stop()


async def test_a_batch_handler_gets_each_event_once_in_runs(backend: Backend) -> None:
    tag = unique("runs")
    group = unique("runs")
    record = recorder(group)
    runs: list[list[str]] = []

    async def one_by_one(event, session) -> None:
        raise AssertionError("with a batch handler the per-event handler is not called")

    async def per_run(events, session) -> None:
        mine = [event for event in events if str(event.data.get("user_id", "")).startswith(f"{tag}-")]
        if mine:
            runs.append([event.data["user_id"] for event in mine])
        for event in mine:
            await record(event, session)

    ids = await publish_batch(backend.db, tag, 30)
    subscription = Subscription(group, ("auth.events",), one_by_one, batch_handler=per_run)
    async with backend.running(subscription):

        async def all_handled() -> bool:
            return len(await deliveries(backend.db, group, ids)) == len(ids)

        await wait_for(all_handled)
    assert await deliveries(backend.db, group, ids) == dict.fromkeys(ids, 1)
    delivered = [marker for run in runs for marker in run]
    assert sorted(delivered) == sorted(f"{tag}-{i}" for i in range(30))
    assert len(runs) < 30, "events arrive in runs, not one by one"

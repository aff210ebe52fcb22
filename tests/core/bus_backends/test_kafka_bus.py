"""What only the Kafka backend does: topics, the relay and its records, DLQ topics, malformed bytes,
the schema registry path, readiness and lag metrics."""

from __future__ import annotations

import asyncio
import io
import uuid

import psycopg
import pytest
from fastavro import schemaless_reader
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import text

from nexora.core.bus import Subscription, publish
from nexora.core.bus.kafka import DECLARED_TOPICS, KafkaBus
from nexora.core.bus.kafka.clients import AsyncProducer, KafkaAdmin, OutgoingMessage
from nexora.core.bus.kafka.relay import OutboxRelay
from nexora.core.events import Event, catalogue
from nexora.core.events.wire import CatalogueSchemas, EventCodec, header_map
from tests.core.bus_backends.harness import Backend, only_tagged, unique, wait_for
from tests.core.bus_backends.kafka_records import produce_raw, read_topic
from tests.fixtures.bus import deliveries, publish_batch, recorder
from tests.fixtures.kafka import TEST_PARTITIONS, kafka_bus_settings


@pytest.fixture
def kafka(runtime, settings, kafka_broker, bus_table) -> Backend:
    return Backend("kafka", runtime.db, kafka_bus_settings(settings, kafka_broker))


async def _relayed(db, ids: list[uuid.UUID]) -> bool:
    async with db.unit_of_work() as session:
        pending = await session.scalar(
            text("SELECT count(*) FROM core.outbox WHERE event_id = ANY(:ids) AND relayed_at IS NULL"), {"ids": ids}
        )
    return pending == 0


async def test_start_creates_every_event_topic_and_its_dead_letter_topic(kafka: Backend) -> None:
    assert kafka.settings is not None
    async with kafka.running(consume=False):
        partitions = await KafkaAdmin(kafka.settings.kafka).partitions()
    for topic in DECLARED_TOPICS:
        assert partitions.get(topic) == TEST_PARTITIONS, topic
        assert partitions.get(f"{topic}.dlq") == TEST_PARTITIONS, topic
    for event_type in catalogue().values():
        assert event_type.topic in partitions
        assert f"{event_type.topic}.dlq" in partitions


async def test_the_relay_publishes_committed_events_in_the_confluent_wire_format(kafka: Backend) -> None:
    assert kafka.settings is not None
    tag = unique("wire")
    tenant = uuid.uuid4()
    async with kafka.db.unit_of_work() as session:
        event = await publish(
            session, "auth.logout", {"user_id": f"{tag}-0"}, source="tests", subject=f"{tag}-subject", tenant_id=tenant
        )
    async with kafka.running(consume=False):
        await wait_for(lambda: _relayed(kafka.db, [event.id]))

    records = [r for r in await read_topic(kafka.settings.kafka, "auth.events") if _id(r) == event.id]
    assert len(records) == 1
    (record,) = records
    value = record.value
    assert value is not None
    assert value[0] == 0  # magic byte
    assert int.from_bytes(value[1:5], "big") == catalogue()["auth.logout"].schema_id
    body = schemaless_reader(io.BytesIO(value[5:]), catalogue()["auth.logout"].parsed_schema(), None)
    assert body == {"user_id": f"{tag}-0"}
    assert record.key == f"{tag}-subject".encode()
    headers = header_map(record.headers)
    assert headers["ce_id"] == str(event.id).encode()
    assert headers["ce_type"] == b"auth.logout"
    assert headers["ce_source"] == b"tests"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_subject"] == f"{tag}-subject".encode()
    assert headers["ce_tenant"] == str(tenant).encode()
    assert headers["content-type"] == b"application/avro"


async def test_an_event_committed_after_a_later_one_is_relayed_after_it_and_not_skipped(kafka: Backend) -> None:
    """No sequencer on the Kafka bus: the relay reads committed rows, so a transaction that inserted
    first but commits last is relayed by a later pass, after the events that committed before it."""
    assert kafka.settings is not None
    tag = unique("late")
    subject = f"{tag}-subject"
    producer = AsyncProducer(kafka.settings.kafka)
    relay = OutboxRelay(kafka.db, producer, EventCodec(CatalogueSchemas()))
    try:
        async with kafka.db.unit_of_work() as slow:
            late = await publish(slow, "auth.logout", {"user_id": f"{tag}-late"}, source="tests", subject=subject)
            async with kafka.db.unit_of_work() as quick:
                early = await publish(
                    quick, "auth.logout", {"user_id": f"{tag}-early"}, source="tests", subject=subject
                )
            while await relay.relay_once():
                pass
            assert await _relayed(kafka.db, [early.id])
        while await relay.relay_once():
            pass
    finally:
        await relay.close()
        await producer.close()

    assert await _relayed(kafka.db, [late.id])
    async with kafka.db.unit_of_work() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM core.outbox WHERE event_id = ANY(:ids)"), {"ids": [early.id, late.id]}
        )
    assert left == 0, "relayed rows are removed from the outbox"
    records = [r for r in await read_topic(kafka.settings.kafka, "auth.events") if r.key == subject.encode()]
    assert [_id(r) for r in records] == [early.id, late.id]


async def _outbox_id(session, event_id: uuid.UUID) -> int:
    return await session.scalar(text("SELECT id FROM core.outbox WHERE event_id = :e"), {"e": event_id})


async def _committed(db, tag: str, suffix: str) -> tuple[Event, int]:
    """One event about ``tag``, committed in its own transaction, and its outbox row id."""
    async with db.unit_of_work() as session:
        event = await publish(session, "auth.logout", {"user_id": f"{tag}-{suffix}"}, source="tests", subject=tag)
        return event, await _outbox_id(session, event.id)


async def _relay_until_idle(relay: OutboxRelay, passes: int = 5) -> int:
    """Several passes, as the relay loop runs them on each wake-up; how many rows they sent."""
    return sum([await relay.relay_once() for _ in range(passes)])


async def test_the_relay_floor_never_passes_a_writer_that_is_still_running(kafka: Backend) -> None:
    """Passes scan from a floor (dead entries of deleted rows below it are never walked again); the
    floor stays below the row of a transaction that is still open, however many passes run, so that
    row is relayed by the first pass after it commits, with no sweep from the lowest id."""
    assert kafka.settings is not None
    tag = unique("floor")
    producer = AsyncProducer(kafka.settings.kafka)
    relay = OutboxRelay(kafka.db, producer, EventCodec(CatalogueSchemas()), batch_size=3, sweep_seconds=1e9)
    try:
        before, before_id = await _committed(kafka.db, tag, "0")
        await _relay_until_idle(relay)
        assert relay.floor >= before_id
        async with kafka.db.unit_of_work() as slow:
            late = await publish(slow, "auth.logout", {"user_id": f"{tag}-late"}, source="tests", subject=tag)
            late_id = await _outbox_id(slow, late.id)
            async with kafka.db.unit_of_work() as quick:
                early = [
                    await publish(quick, "auth.logout", {"user_id": f"{tag}-{i}"}, source="tests", subject=tag)
                    for i in range(1, 8)
                ]
            assert await _relay_until_idle(relay, 8) >= 7
            assert await _relayed(kafka.db, [event.id for event in early])
            assert before_id <= relay.floor < late_id, "the floor waits for the open transaction"
        assert await relay.relay_once() >= 1, "the first pass after the commit finds the late row"
        assert await _relayed(kafka.db, [late.id])
        newest, newest_id = await _committed(kafka.db, tag, "new")
        await _relay_until_idle(relay)
        assert relay.floor >= newest_id, "with no writer running the floor reaches the newest row sent"
    finally:
        await relay.close()
        await producer.close()
    records = [r for r in await read_topic(kafka.settings.kafka, "auth.events") if r.key == tag.encode()]
    sent = [_id(r) for r in records]
    assert sent == [before.id, *(event.id for event in early), late.id, newest.id], "commit order per key"


async def test_a_row_below_the_floor_is_relayed_by_the_sweep(kafka: Backend, database) -> None:
    """A row that appears below the floor (here moved there by the table owner; ``write_outbox``
    never leaves one) is not lost: the periodic sweep from the lowest id relays it."""
    assert kafka.settings is not None
    tag = unique("sweep")
    producer = AsyncProducer(kafka.settings.kafka)
    relay = OutboxRelay(kafka.db, producer, EventCodec(CatalogueSchemas()), sweep_seconds=1e9)
    try:
        first, first_id = await _committed(kafka.db, tag, "1")
        await _relay_until_idle(relay)
        assert relay.floor >= first_id
        hidden, _ = await _committed(kafka.db, tag, "2")
        with psycopg.connect(database.owner_url) as owner:
            columns = "event_id, topic, type, key, tenant_id, target_group, envelope"
            owner.execute(
                f"INSERT INTO core.outbox (id, {columns}) OVERRIDING SYSTEM VALUE"
                f" SELECT %s, {columns} FROM core.outbox WHERE event_id = %s",
                (first_id, hidden.id),
            )
            owner.execute("DELETE FROM core.outbox WHERE event_id = %s AND id <> %s", (hidden.id, first_id))
        assert await _relay_until_idle(relay) == 0, "passes scan from the floor"
        assert not await _relayed(kafka.db, [hidden.id])
        relay.sweep_seconds, relay._next_sweep = 1e9, 0.0
        assert await relay.relay_once() == 1
        assert await _relayed(kafka.db, [hidden.id])
    finally:
        await relay.close()
        await producer.close()
    records = [r for r in await read_topic(kafka.settings.kafka, "auth.events") if r.key == tag.encode()]
    assert [_id(r) for r in records] == [first.id, hidden.id]


async def test_one_process_leads_the_relay_and_another_takes_over_when_it_stops(kafka: Backend) -> None:
    """The relay lead is a session lock: a second relay stands by, even with rows waiting, and takes
    over (from the lowest id) once the leader's connection is gone."""
    assert kafka.settings is not None
    tag = unique("lead")
    producer = AsyncProducer(kafka.settings.kafka)
    codec = EventCodec(CatalogueSchemas())
    leader = OutboxRelay(kafka.db, producer, codec, standby_seconds=0.0)
    standby = OutboxRelay(kafka.db, producer, codec, standby_seconds=0.0)
    try:
        first = await publish_batch(kafka.db, tag, 3)
        assert await _relay_until_idle(leader) == 3
        assert leader.leading
        second = await publish_batch(kafka.db, f"{tag}-b", 2)
        assert await _relay_until_idle(standby) == 0, "the standby sends nothing while another leads"
        assert not standby.leading
        assert not await _relayed(kafka.db, second)
        await leader.close()
        assert await _relay_until_idle(standby) == 2
        assert standby.leading
        assert await _relayed(kafka.db, first + second)
    finally:
        await leader.close()
        await standby.close()
        await producer.close()


async def test_a_consuming_leader_hands_the_relay_to_a_process_that_does_not_consume(kafka: Backend) -> None:
    """A worker leads only while no API replica stands by: one that does is handed the lead."""
    assert kafka.settings is not None
    tag = unique("handover")
    producer = AsyncProducer(kafka.settings.kafka)
    codec = EventCodec(CatalogueSchemas())
    worker = OutboxRelay(kafka.db, producer, codec, standby_seconds=0.0, look_seconds=0.0, preferred=False)
    api = OutboxRelay(kafka.db, producer, codec, standby_seconds=0.0)
    try:
        first = await publish_batch(kafka.db, tag, 2)
        assert await worker.relay_once() == 2
        assert worker.leading, "alone, the worker leads"
        assert await worker.relay_once() == 0
        assert worker.leading, "nobody else stands by: it keeps the lead"
        second = await publish_batch(kafka.db, f"{tag}-b", 2)
        assert await api.relay_once() == 0
        assert not api.leading, "the lead is taken: the API replica stands by"
        assert await worker.relay_once() == 0
        assert not worker.leading, "the worker sees it and hands over"
        assert not await _relayed(kafka.db, second)
        assert await api.relay_once() == 2
        assert api.leading
        assert await _relay_until_idle(worker) == 0
        assert not worker.leading
        assert await _relayed(kafka.db, first + second)
    finally:
        await worker.close()
        await api.close()
        await producer.close()


async def test_a_process_with_the_relay_off_leaves_the_outbox_to_others(runtime, settings, kafka_broker) -> None:
    """``NEXORA_KAFKA_RELAY=false`` (a worker beside relaying API replicas): the bus starts no relay;
    a bus that may relay sends what was waiting."""
    tag = unique("norelay")
    quiet = Backend("kafka", runtime.db, kafka_bus_settings(settings, kafka_broker, relay=False))
    ids = await publish_batch(runtime.db, tag, 2)
    async with quiet.running(consume=False) as bus:
        assert bus.relay is None  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)
        assert not await _relayed(runtime.db, ids)
    relaying = Backend("kafka", runtime.db, kafka_bus_settings(settings, kafka_broker))
    async with relaying.running(consume=False):
        await wait_for(lambda: _relayed(runtime.db, ids))


async def test_copies_of_an_event_in_one_fetched_batch_are_handled_once(kafka: Backend) -> None:
    """A relay that died after producing but before removing its rows sends them again: the copies
    may arrive in the same batch as the original, and only the first is handled."""
    assert kafka.settings is not None
    tag = unique("copies")
    group = unique("copies")
    codec = EventCodec(CatalogueSchemas())
    events = [
        Event(type="auth.logout", data={"user_id": f"{tag}-{i}"}, source="tests", subject=f"{tag}-subject")
        for i in range(4)
    ]
    encoded = [await codec.encode(event.to_cloudevent()) for event in events]
    records = [OutgoingMessage("auth.events", f"{tag}-subject".encode(), value, headers) for value, headers in encoded]
    # One key, so one partition, in this order: the last event is handled after every copy.
    await produce_raw(kafka.settings.kafka, *records[:3], *records[:2], records[0], records[3])
    ids = [event.id for event in events]
    async with kafka.running(Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))):
        await wait_for(lambda: _handled(kafka.db, group, ids))
    assert await deliveries(kafka.db, group, ids) == dict.fromkeys(ids, 1)


async def test_a_poison_event_reaches_the_dlq_topic_with_its_error_in_headers(kafka: Backend) -> None:
    assert kafka.settings is not None
    tag = unique("dlqtopic")
    group = unique("dlqtopic")
    ids = await publish_batch(kafka.db, tag, 2)
    poison = only_tagged(tag, recorder(group, lambda e: e.id == ids[0]))
    async with kafka.running(Subscription(group, ("auth.events",), poison)) as bus:
        await wait_for(lambda: _handled(kafka.db, group, ids[1:]))

        async def dead_lettered() -> bool:
            return any(letter.event_id == ids[0] for letter in await bus.dead_letters(group=group))

        await wait_for(dead_lettered)

    dead = [r for r in await read_topic(kafka.settings.kafka, "auth.events.dlq") if _id(r) == ids[0]]
    assert len(dead) == 1
    headers = header_map(dead[0].headers)
    assert headers["nexora-dlq-group"] == group.encode()
    assert headers["nexora-dlq-error"] == f"RuntimeError: cannot handle {tag}-0".encode()
    assert headers["nexora-dlq-reason"] == b"handler-failed"
    assert headers["nexora-dlq-attempts"] == b"3"
    assert headers["nexora-dlq-source"].startswith(b"auth.events/")
    assert headers["ce_type"] == b"auth.logout"  # the original record travels unchanged
    assert dead[0].key == f"{tag}-0".encode()


async def test_malformed_bytes_are_dead_lettered_with_a_clear_reason_and_the_consumer_keeps_going(
    kafka: Backend,
) -> None:
    assert kafka.settings is not None
    tag = unique("malformed")
    group = unique("malformed")
    before = await publish_batch(kafka.db, tag, 1)
    unknown_id = bytes([0]) + (9999).to_bytes(4, "big") + b"\x02x"
    await produce_raw(
        kafka.settings.kafka,
        OutgoingMessage("auth.events", f"{tag}-0".encode(), b'{"json": "not avro"}', [("origin", tag.encode())]),
        OutgoingMessage(
            "auth.events",
            f"{tag}-0".encode(),
            unknown_id,
            [("origin", tag.encode()), ("ce_type", b"auth.logout"), ("ce_id", str(uuid.uuid4()).encode())],
        ),
        OutgoingMessage("auth.events", f"{tag}-0".encode(), b"\x00\x00", [("origin", tag.encode())]),
    )
    after = await publish_batch(kafka.db, tag + "-after", 1)

    subscription = Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))
    async with kafka.running(subscription) as bus:
        await wait_for(lambda: _handled(kafka.db, group, before + after))

        async def three_letters() -> bool:
            return len(await _letters_from(bus, group, tag)) == 3

        await wait_for(three_letters)
        letters = sorted(await _letters_from(bus, group, tag), key=lambda letter: letter.id)

    errors = sorted(letter.error for letter in letters)
    assert errors == [
        "not the Confluent wire format: 2 bytes is shorter than the magic byte and schema id",
        "not the Confluent wire format: magic byte is 0x7b, expected 0x00",
        "unknown schema id 9999: it is not in the schema catalogue",
    ]
    assert all(letter.attempts == 1 for letter in letters)
    assert sorted(letter.event_id is None for letter in letters) == [False, True, True]


async def test_with_a_schema_registry_ids_are_registered_and_looked_up_there(
    runtime, settings, kafka_broker, bus_table, schema_registry
) -> None:
    registered = kafka_bus_settings(settings, kafka_broker, registry_url=schema_registry.url)
    backend = Backend("kafka", runtime.db, registered)
    tag = unique("registry")
    group = unique("registry")
    ids = await publish_batch(runtime.db, tag, 3)
    async with backend.running(Subscription(group, ("auth.events",), only_tagged(tag, recorder(group)))):
        await wait_for(lambda: _handled(runtime.db, group, ids))

    subject = "auth.events-nexora.events.auth.Logout"
    assert ("POST", f"/subjects/{subject}/versions") in schema_registry.requests
    (schema_id,) = schema_registry.subjects[subject]
    assert schema_id != catalogue()["auth.logout"].schema_id
    ours = [r for r in await read_topic(registered.kafka, "auth.events") if _id(r) in ids]
    assert {int.from_bytes((r.value or b"")[1:5], "big") for r in ours} == {schema_id}
    assert await deliveries(runtime.db, group, ids) == dict.fromkeys(ids, 1)


async def test_an_id_the_registry_does_not_know_is_dead_lettered(
    runtime, settings, kafka_broker, bus_table, schema_registry
) -> None:
    registered = kafka_bus_settings(settings, kafka_broker, registry_url=schema_registry.url)
    backend = Backend("kafka", runtime.db, registered)
    tag = unique("unregistered")
    group = unique("unregistered")
    event_id = uuid.uuid4()
    await produce_raw(
        registered.kafka,
        OutgoingMessage(
            "auth.events",
            tag.encode(),
            bytes([0]) + (777_777).to_bytes(4, "big") + b"\x02x",
            [("origin", tag.encode()), ("ce_type", b"auth.logout"), ("ce_id", str(event_id).encode())],
        ),
    )
    async with backend.running(Subscription(group, ("auth.events",), recorder(group))) as bus:

        async def dead_lettered() -> bool:
            return any(letter.event_id == event_id for letter in await bus.dead_letters(group=group))

        await wait_for(dead_lettered)
        (letter,) = [letter for letter in await bus.dead_letters(group=group) if letter.event_id == event_id]
    assert letter.error == "unknown schema id 777777: neither the schema registry nor the catalogue knows it"


async def test_consumer_lag_is_exported_as_a_metric(kafka: Backend) -> None:
    group = unique("metric")
    bus = kafka.make()
    bus.subscribe(Subscription(group, ("auth.events",), recorder(group)))
    await publish_batch(kafka.db, unique("metric"), 2)
    assert isinstance(bus, KafkaBus)
    await bus.refresh_lag_metrics()
    await bus.stop()
    exported = generate_latest(REGISTRY).decode()
    series = f'nexora_bus_consumer_lag{{group="{group}"}}'
    line = next(line for line in exported.splitlines() if line.startswith(series))
    assert float(line.split()[-1]) >= 2


def _id(record) -> uuid.UUID | None:
    raw = header_map(record.headers).get("ce_id")
    return uuid.UUID(raw.decode()) if raw else None


async def _handled(db, group: str, ids: list[uuid.UUID]) -> bool:
    return len(await deliveries(db, group, ids)) == len(ids)


async def _letters_from(bus, group: str, tag: str) -> list:
    """The group's dead letters of records this test wrote (every group meets older tests' garbage)."""
    return [
        letter
        for letter in await bus.dead_letters(group=group)
        if letter.envelope.get("headers", {}).get("origin") == tag
    ]


async def _get(settings, runtime, bus: KafkaBus, path: str):
    import httpx

    from nexora.assembly import create_api
    from nexora.core.runtime import Runtime

    kafka_runtime = Runtime(
        settings=settings,
        db=runtime.db,
        cipher=runtime.cipher,
        bus=bus,
        authenticator=runtime.authenticator,
        services=runtime.services,
    )
    app = create_api(settings, runtime=kafka_runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://nexora.test") as http:
            return await http.get(path)


async def test_readyz_reports_whether_the_kafka_broker_answers(runtime, settings, kafka_broker) -> None:
    from tests.fixtures.kafka import free_port

    reachable = kafka_bus_settings(settings, kafka_broker)
    ready = await _get(reachable, runtime, KafkaBus(reachable, runtime.db), "/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["bus"] == "ok"
    assert ready.json()["bus_backend"] == "kafka"

    unreachable = kafka_bus_settings(settings, kafka_broker, bootstrap_servers=f"127.0.0.1:{free_port()}")
    not_ready = await _get(unreachable, runtime, KafkaBus(unreachable, runtime.db), "/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["bus"] == "unavailable"

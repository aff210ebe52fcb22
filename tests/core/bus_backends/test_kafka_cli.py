"""``nexora bus topics|lag|dlq list|replay`` against the Kafka backend."""

from __future__ import annotations

import json
import subprocess
import sys

from nexora.core.bus import Subscription
from tests.core.bus_backends.harness import Backend, only_tagged, unique, wait_for
from tests.fixtures.bus import deliveries, publish_batch, recorder
from tests.fixtures.kafka import TEST_PARTITIONS, kafka_bus_settings
from tests.fixtures.live import process_env


def nexora(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nexora", *args], env=env, capture_output=True, text=True, timeout=120)


async def test_bus_commands_work_on_the_kafka_backend(runtime, settings, kafka_broker, bus_table) -> None:
    backend = Backend("kafka", runtime.db, kafka_bus_settings(settings, kafka_broker))
    env = process_env(
        settings,
        NEXORA_BUS="kafka",
        NEXORA_KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap_servers,
        NEXORA_KAFKA_PARTITIONS=str(TEST_PARTITIONS),
    )
    tag, group = unique("cli"), unique("cli")
    ids = await publish_batch(runtime.db, tag, 2)
    broken = {"on": True}
    handler = only_tagged(tag, recorder(group, lambda e: broken["on"] and e.id == ids[0]))
    subscription = Subscription(group, ("auth.events",), handler)
    async with backend.running(subscription) as bus:

        async def settled() -> bool:
            letters = await bus.dead_letters(group=group)
            return any(letter.event_id == ids[0] for letter in letters) and (await bus.lag()).get(group) == 0

        await wait_for(settled)

    topics = nexora("bus", "topics", "--format", "json", env=env)
    assert topics.returncode == 0, topics.stderr
    rows = {row["topic"]: row for row in json.loads(topics.stdout)}
    assert rows["auth.events"]["partitions"] == TEST_PARTITIONS
    assert rows["auth.events"]["events"] > 0
    assert rows["auth.events"]["dlq_events"] > 0
    assert rows["nhi.activity"]["partitions"] == TEST_PARTITIONS

    lag = nexora("bus", "lag", "--format", "json", env=env)
    assert lag.returncode == 0, lag.stderr
    assert {"group": group, "lag": 0} in json.loads(lag.stdout)

    listed = nexora("bus", "dlq", "list", "--group", group, "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    # The group also dead-lettered the malformed records older tests left on the topic.
    (letter,) = [row for row in json.loads(listed.stdout) if row["event_id"] == str(ids[0])]
    assert letter["event_id"] == str(ids[0])
    assert letter["error"] == f"RuntimeError: cannot handle {tag}-0"
    assert letter["id"].startswith("auth.events.dlq:")
    assert letter["replayed_at"] is None

    bad = nexora("bus", "dlq", "replay", "not-an-id", env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        "error: a Kafka dead-letter id looks like '<topic>.dlq:<partition>:<offset>'"
    )

    replayed = nexora("bus", "dlq", "replay", letter["id"], env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == "replayed 1 dead letter(s)"

    broken["on"] = False
    async with backend.running(subscription):

        async def poison_handled() -> bool:
            return (await deliveries(runtime.db, group, [ids[0]])).get(ids[0]) == 1

        await wait_for(poison_handled)
    assert await deliveries(runtime.db, group, ids) == dict.fromkeys(ids, 1)

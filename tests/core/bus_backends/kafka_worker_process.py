"""A worker process on the Kafka bus (relay + one consumer group member) for the process tests.

Usage: python kafka_worker_process.py APP_URL BOOTSTRAP GROUP WORKER TAG STATE_FILE HANDLE_MS

Records each delivery of an event whose marker starts with TAG in ``test_kafka.handled``, taking
HANDLE_MS per event, and keeps STATE_FILE holding its current partition assignment (JSON).
"""

import asyncio
import json
import os
import sys
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import text

from nexora.core.bus import Subscription
from nexora.core.bus.kafka import KafkaBus
from nexora.core.config import BusSettings, DatabaseSettings, KafkaSettings, Settings
from nexora.core.db import Database


async def main(url: str, bootstrap: str, group: str, worker: str, tag: str, state: Path, handle_ms: int) -> None:
    settings = Settings(
        database=DatabaseSettings(url=SecretStr(url), pool_size=4, max_overflow=0),
        bus="kafka",
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap, partitions=3, session_timeout_ms=3000, max_poll_interval_ms=6000
        ),
        events=BusSettings(batch_size=25, max_attempts=3, retry_backoff_ms=20, poll_interval_seconds=0.2),
    )
    db = Database(url, settings.database)

    async def handle(event, session) -> None:
        marker = str(event.data.get("user_id", ""))
        if not marker.startswith(f"{tag}-"):
            return
        await session.execute(
            text(
                "INSERT INTO test_kafka.handled (group_name, worker, event_id, subject, marker)"
                " VALUES (:g, :w, :e, :s, :m)"
            ),
            {"g": group, "w": worker, "e": event.id, "s": event.subject, "m": marker},
        )
        await asyncio.sleep(handle_ms / 1000)  # slow enough to be killed in the middle of a batch

    bus = KafkaBus(settings, db)
    bus.subscribe(Subscription(group, ("auth.events",), handle))
    await bus.start()
    while True:
        consumer = bus.workers[0].consumer if bus.workers else None
        assigned = sorted(p.partition for p in consumer.assignment()) if consumer is not None else []
        temporary = state.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pid": os.getpid(), "partitions": assigned}))
        temporary.replace(state)
        await asyncio.sleep(0.1)


if __name__ == "__main__":
    url, bootstrap, group, worker, tag, state, handle_ms = sys.argv[1:8]
    asyncio.run(main(url, bootstrap, group, worker, tag, Path(state), int(handle_ms)))

"""A consumer process for the crash test: records each delivery slowly until it is killed.

Usage: python bus_worker_process.py APP_URL GROUP
"""

import asyncio
import sys

from sqlalchemy import text

from nexora.core.bus import Subscription
from nexora.core.bus.postgres import PostgresBus
from nexora.core.config import BusSettings, DatabaseSettings
from nexora.core.db import Database


async def main(url: str, group: str) -> None:
    db = Database(url, DatabaseSettings(pool_size=2, max_overflow=0))

    async def handle(event, session) -> None:
        await session.execute(
            text("INSERT INTO test_bus.handled (group_name, event_id, subject, marker) VALUES (:g, :e, :s, :m)"),
            {"g": group, "e": event.id, "s": event.subject, "m": event.data.get("user_id")},
        )
        await asyncio.sleep(0.01)  # slow enough to be killed in the middle of a batch

    bus = PostgresBus(db, BusSettings(batch_size=25, poll_interval_seconds=0.2))
    bus.subscribe(Subscription(group, ("auth.events",), handle))
    await bus.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

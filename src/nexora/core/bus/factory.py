"""Choose the bus backend from settings."""

from __future__ import annotations

from nexora.core.bus import EventBus
from nexora.core.config import Settings
from nexora.core.db import Database


def create_bus(settings: Settings, db: Database) -> EventBus:
    """``postgres`` unless ``NEXORA_BUS=kafka`` or Kafka servers are configured."""
    if settings.bus_backend == "kafka":
        from nexora.core.bus.kafka import KafkaBus  # type: ignore[import-not-found,unused-ignore]

        bus: EventBus = KafkaBus(settings, db)
        return bus
    from nexora.core.bus.postgres import PostgresBus

    return PostgresBus(db, settings.events)

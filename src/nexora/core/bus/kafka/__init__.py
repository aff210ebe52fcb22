"""Kafka backend of the bus: the outbox relayed to Kafka, aiokafka consumer groups, dead-letter topics.

``bus`` is the backend (:class:`KafkaBus`), ``relay`` moves committed outbox rows to their topics,
``consumer`` runs one consumer group per subscription, ``dlq`` reads and writes the dead-letter
topics, ``clients`` wraps the Kafka clients.
"""

from nexora.core.bus.kafka.bus import DECLARED_TOPICS, KafkaBus, bus_topics

__all__ = ["DECLARED_TOPICS", "KafkaBus", "bus_topics"]

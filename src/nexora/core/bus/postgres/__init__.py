"""PostgreSQL backend of the bus: sequencer, consumer groups, retries and dead letters.

* Publishers insert outbox rows with no position (see :func:`nexora.core.bus.publish`).
* The **sequencer** stamps committed rows with increasing positions in id order, one transaction at
  a time across all processes (transaction-level advisory lock), so the set of positioned rows a
  consumer sees is always a gap-free prefix.
* A **consumer group** keeps its offset in ``core.consumer_offset``. Each batch is one
  transaction: the offset row is locked (one active consumer per group, others stand by), each
  event's handler runs in a savepoint with the event's tenant set, and the handler's writes, the
  de-duplication marks and the new offset commit together. A consumer killed mid-batch therefore
  resumes from its last committed offset with none of the batch's effects applied.
* A failing event is retried with exponential backoff (the group waits: order is kept); after
  ``max_attempts`` it is moved to ``core.dead_letter`` with its error and the group moves on.
  Replay re-delivers a dead letter to its group only.
* Wake-ups use LISTEN/NOTIFY, with a poll interval as a fallback.
"""

from nexora.core.bus.postgres.bus import PostgresBus
from nexora.core.bus.postgres.consumer import GroupConsumer
from nexora.core.bus.postgres.sequencer import SEQUENCE_BATCH, SEQUENCED_CHANNEL, sequence_once, sequence_pending

__all__ = ["SEQUENCED_CHANNEL", "SEQUENCE_BATCH", "GroupConsumer", "PostgresBus", "sequence_once", "sequence_pending"]

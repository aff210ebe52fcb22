"""Shannon entropy: a leaf module, so filters, rules and validators can share it without import cycles."""

from __future__ import annotations

import math
from collections import Counter


def shannon_entropy(data: str | bytes) -> float:
    """Bits per symbol of ``data``."""
    if not data:
        return 0.0
    counts = Counter(data)
    total = len(data)
    return -sum(count / total * math.log2(count / total) for count in counts.values())

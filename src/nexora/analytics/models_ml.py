"""The streaming anomaly model: Half-Space Trees (river) over per-identity hourly features.

One model per tenant. Each time an identity's hour closes (its first event of a later hour), the
engine scores that hour's features and then learns them. Features are relative to the identity's
own baseline (ratio to its median hour, hour-of-week rarity) so identities of very different volumes
share one model. The state is plain JSON (compressed), never pickle: it is stored in the database and
read back by another process.
"""

from __future__ import annotations

import json
import math
import zlib
from typing import Any

from nexora.analytics.profiles import Profile

FEATURES: tuple[str, ...] = ("events", "ratio", "actions", "errors", "new_values", "hour_rarity")
STATE_VERSION = 1
_LOG_EVENTS = math.log1p(10_000)
_LOG_ACTIONS = math.log1p(64)
_LOG_NEW = math.log1p(32)


def _clip(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def rate_features(profile: Profile) -> dict[str, float]:
    """Features of the profile's current (closing) hour, each scaled to 0..1."""
    count = profile.hour_count
    if count == 0:
        return dict.fromkeys(FEATURES, 0.0)
    median = profile.rate_median if profile.ring else float(count)
    histogram = profile.hour_of_week
    bucket = (profile.hour + 72) % 168
    total = sum(histogram) - count
    if total > 0:
        share = max(histogram[bucket] - count, 0.0) / total
        rarity = 1.0 - _clip(share * 168)
    else:
        rarity = 0.5
    return {
        "events": _clip(math.log1p(count) / _LOG_EVENTS),
        "ratio": _clip(0.5 + (math.log1p(count) - math.log1p(median)) / 6),
        "actions": _clip(math.log1p(len(profile.hour_actions)) / _LOG_ACTIONS),
        "errors": profile.hour_errors / count,
        "new_values": _clip(math.log1p(profile.hour_new) / _LOG_NEW),
        "hour_rarity": rarity,
    }


class RateModel:
    """Half-Space Trees with a sample count; built on first use so importing this module stays cheap."""

    def __init__(self, seed: int = 42, n_trees: int = 10, height: int = 8, window_size: int = 250) -> None:
        self.seed = seed
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.samples = 0  # hours learned
        self._trees: Any = None

    def _model(self) -> Any:
        if self._trees is None:
            from river.anomaly import HalfSpaceTrees

            self._trees = HalfSpaceTrees(
                n_trees=self.n_trees, height=self.height, window_size=self.window_size, seed=self.seed
            )
        return self._trees

    def score_and_learn(self, features: dict[str, float]) -> float:
        """The anomaly score (0..1, high is anomalous) of ``features`` before learning them."""
        model = self._model()
        score = float(model.score_one(features)) if model.trees else 0.0
        model.learn_one(features)
        self.samples += 1
        return score

    def score(self, features: dict[str, float]) -> float:
        model = self._model()
        return float(model.score_one(features)) if model.trees else 0.0

    def to_bytes(self) -> bytes:
        """The model as compressed JSON: its parameters, sample count and every node's masses."""
        state: dict[str, Any] = {
            "v": STATE_VERSION,
            "seed": self.seed,
            "n_trees": self.n_trees,
            "height": self.height,
            "window_size": self.window_size,
            "samples": self.samples,
        }
        model = self._trees
        if model is not None and model.trees:
            state["counter"] = model.counter
            state["first_window"] = model._first_window
            state["masses"] = [
                [mass for node in tree.iter_dfs() for mass in (node.l_mass, node.r_mass)] for tree in model.trees
            ]
        return zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> RateModel:
        """A model from :meth:`to_bytes`; raises ValueError if the state does not fit this version."""
        try:
            state = json.loads(zlib.decompress(data))
        except (zlib.error, ValueError) as error:
            raise ValueError(f"unreadable model state: {error}") from None
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
            raise ValueError("model state of another version")
        model = cls(state["seed"], state["n_trees"], state["height"], state["window_size"])
        model.samples = int(state["samples"])
        masses = state.get("masses")
        if masses:
            trees = model._model()
            trees.learn_one(dict.fromkeys(FEATURES, 0.0))  # builds the same trees from the same seed
            if len(masses) != len(trees.trees):
                raise ValueError("model state does not match its trees")
            for tree, values in zip(trees.trees, masses, strict=True):
                nodes = list(tree.iter_dfs())
                if len(values) != 2 * len(nodes):
                    raise ValueError("model state does not match its trees")
                for index, node in enumerate(nodes):
                    node.l_mass, node.r_mass = values[2 * index], values[2 * index + 1]
            trees.counter = state["counter"]
            trees._first_window = state["first_window"]
        return model

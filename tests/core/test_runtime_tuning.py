"""Process tuning for long-running services."""

from __future__ import annotations

import gc

from nexora.core.runtime import GC_THRESHOLDS, tune_collector


def test_services_freeze_start_up_objects_and_collect_young_objects_less_often() -> None:
    before = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 10_000  # the modules and objects imported so far
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

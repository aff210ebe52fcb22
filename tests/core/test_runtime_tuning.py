"""Process tuning for long-running services."""

from __future__ import annotations

import gc

from nexora.core.runtime import GC_THRESHOLDS, run_service, tune_collector


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


def test_services_run_on_uvloop_when_it_is_installed() -> None:
    import asyncio

    import uvloop

    seen: list[type] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()))

    run_service(main())
    assert seen == [uvloop.Loop]

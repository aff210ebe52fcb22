"""Discovery's public use cases (the only module other domains and the interfaces import)."""

from __future__ import annotations

from nexora.discovery.service.connectors import (
    create_connector,
    delete_connector,
    find_connector,
    get_connector,
    list_connectors,
    test_connector,
    update_connector,
    validate_settings,
)
from nexora.discovery.service.demo import load_demo
from nexora.discovery.service.events import build_events
from nexora.discovery.service.findings import FindingFilters, list_findings, list_report
from nexora.discovery.service.identities import InventoriedIdentity, attributable_identities
from nexora.discovery.service.inventory import (
    EXPORT_COLUMNS,
    LIST_COLUMNS,
    SORTS,
    NhiFilters,
    export_csv,
    export_rows,
    findings_of,
    get_nhi,
    list_changes,
    list_nhis,
    overview,
    update_nhi,
)
from nexora.discovery.service.load import load, refresh_statistics, sweep
from nexora.discovery.service.posture import ReportedFinding, evaluate_and_store, report, report_order
from nexora.discovery.service.runs import (
    cancel_background_runs,
    execute_run,
    get_run,
    list_runs,
    run_due,
    run_due_connectors,
    run_in_background,
    run_now,
    start_run,
)
from nexora.discovery.service.uploads import UPLOAD_MEDIA_TYPES, run_upload
from nexora.discovery.service.upsert import LoadResult, upsert_edges, upsert_nhis

__all__ = [
    "EXPORT_COLUMNS",
    "LIST_COLUMNS",
    "SORTS",
    "UPLOAD_MEDIA_TYPES",
    "FindingFilters",
    "InventoriedIdentity",
    "LoadResult",
    "NhiFilters",
    "ReportedFinding",
    "attributable_identities",
    "build_events",
    "cancel_background_runs",
    "create_connector",
    "delete_connector",
    "evaluate_and_store",
    "execute_run",
    "export_csv",
    "export_rows",
    "find_connector",
    "findings_of",
    "get_connector",
    "get_nhi",
    "get_run",
    "list_changes",
    "list_connectors",
    "list_findings",
    "list_nhis",
    "list_report",
    "list_runs",
    "load",
    "load_demo",
    "overview",
    "refresh_statistics",
    "report",
    "report_order",
    "run_due",
    "run_due_connectors",
    "run_in_background",
    "run_now",
    "run_upload",
    "start_run",
    "sweep",
    "test_connector",
    "update_connector",
    "update_nhi",
    "upsert_edges",
    "upsert_nhis",
    "validate_settings",
]

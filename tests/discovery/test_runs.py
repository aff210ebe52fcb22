"""Run lifecycle: one run at a time, background runs are cancelled at shutdown and say why, every run is
recorded whatever its provider answered, the schedule runs what is due."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import psycopg
import yaml

from nexora.assembly import create_api
from nexora.core.config import Settings
from nexora.core.runtime import Runtime
from nexora.discovery import service
from nexora.discovery.connectors.base import storable_text
from nexora.discovery.service.runs import BACKGROUND, CANCELLED
from nexora.ops.provision import ProvisionedDatabase
from tests.discovery.fixtures import Api
from tests.discovery.recorded_api import DATA, RecordedApi, recorded
from tests.fixtures.app import TenantFactory


async def _until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.02)


async def test_shutdown_cancels_a_background_run_and_records_why(
    settings: Settings, runtime: Runtime, new_tenant: TenantFactory
) -> None:
    admin = await new_tenant()
    app = create_api(settings, runtime=runtime)
    with RecordedApi(recorded("github.json")) as github:
        github.hold = threading.Event()  # the provider hangs: the run cannot finish on its own
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://nexora.test") as http:
                api = Api(http, admin)
                connector = await api.create_connector(
                    "github-hangs", "github", {"org": "acme", "base_url": github.url}, {"token": "t"}
                )
                started = await http.post(f"/api/v1/connectors/{connector['id']}/runs", headers=admin.headers)
                assert started.status_code == 202, started.text
                assert started.json()["status"] == "running"
                await _until(lambda: sum(github.seen.values()) > 0)
            stopping = time.monotonic()
        shutdown_seconds = time.monotonic() - stopping
        github.hold.set()

    async with runtime.db.unit_of_work(admin.tenant_id) as session:
        run = await service.get_run(session, admin.tenant_id, started.json()["id"])
        connector_row = await service.get_connector(session, admin.tenant_id, run.connector_id)
    assert shutdown_seconds < 5, "shutdown must not wait for the hanging provider"
    assert (run.status, run.stage) == ("failed", "done")
    assert run.errors == [{"scope": "run", "message": CANCELLED}]
    assert run.finished_at is not None
    assert connector_row.last_status == "failed"
    assert not [task for task in runtime.services.get(BACKGROUND, set()) if not task.done()]


async def test_a_cancelled_run_no_longer_blocks_the_next_one(
    settings: Settings, runtime: Runtime, new_tenant: TenantFactory
) -> None:
    admin = await new_tenant()
    app = create_api(settings, runtime=runtime)
    with RecordedApi(recorded("github.json")) as github:
        github.hold = threading.Event()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://nexora.test") as http:
                connector = await Api(http, admin).create_connector(
                    "github-again", "github", {"org": "acme", "base_url": github.url}, {"token": "t"}
                )
                await http.post(f"/api/v1/connectors/{connector['id']}/runs", headers=admin.headers)
                await _until(lambda: sum(github.seen.values()) > 0)
        github.hold.set()
        github.hold = None

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://nexora.test") as http:
                again = await Api(http, admin).run(connector["id"])

    assert again["status"] == "succeeded", again["errors"]


async def test_a_run_asked_for_while_one_is_running_is_a_conflict(api: Api, runtime: Runtime) -> None:
    connector = await api.create_connector("demo-busy", "demo", {})
    async with runtime.db.unit_of_work(api.admin.tenant_id) as session:
        running = await service.start_run(session, api.admin.tenant_id, connector["id"], "manual")

    refused = await api.client.post(
        f"/api/v1/connectors/{connector['id']}/runs", headers=api.admin.headers, params={"wait": "true"}
    )

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "'demo-busy' is already running" in refused.json()["detail"]
    assert [run["id"] for run in (await api.get("/api/v1/runs", connector_id=connector["id"]))["items"]] == [
        str(running.id)
    ]


def test_provider_text_postgresql_cannot_store_is_made_storable() -> None:
    assert storable_text("bad\x00host \ud800!") == "bad\ufffdhost ?!"


async def test_a_host_name_with_a_nul_is_refused_and_the_run_still_finishes(api: Api) -> None:
    # Such a name once reached the client and came back, NUL included, in its error text; the outbound
    # guard now refuses it as invalid before any connection.
    kubeconfig = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": "https://bad\x00host:6443"}}],
            "users": [{"name": "u", "user": {"token": "static-token"}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x",
        }
    )
    connector = await api.create_connector("cluster-nul", "kubernetes", {}, {"kubeconfig": kubeconfig})

    first = await api.run(connector["id"])
    again = await api.run(connector["id"])

    assert first["status"] == "failed"
    assert [error["message"] for error in first["errors"]] == ["the URL's host name is not valid"]
    assert again["status"] == "failed", "the first run was recorded as finished: it no longer blocks the next"


async def test_the_schedule_runs_due_connectors_only(api: Api, runtime: Runtime, database: ProvisionedDatabase) -> None:
    tenant_id = api.admin.tenant_id
    due = await api.create_connector("gcp-due", "gcp-export", {"path": str(DATA / "gcp")})
    off = await api.client.post(
        "/api/v1/connectors",
        headers=api.admin.headers,
        json={"name": "gcp-off", "kind": "gcp-export", "config": {"path": str(DATA / "gcp")}, "enabled": False},
    )
    assert off.status_code == 201, off.text
    await api.create_connector("code-uploads", "code", {})  # fed by uploads only: never scheduled
    await api.client.post("/api/v1/demo", headers=api.admin.headers)

    first = await service.run_due_connectors(runtime, tenant_id)
    second = await service.run_due_connectors(runtime, tenant_id)
    with psycopg.connect(database.superuser_url) as connection:
        connection.execute(
            "UPDATE discovery.connector SET last_run_at = now() - interval '7 hours' WHERE id = %s", (due["id"],)
        )
    third = await service.run_due_connectors(runtime, tenant_id)

    runs = (await api.get("/api/v1/runs", limit=50))["items"]
    scheduled = [run for run in runs if run["trigger"] == "schedule"]
    assert (first, second, third) == (1, 0, 1)
    assert {run["connector_id"] for run in scheduled} == {due["id"]}
    assert [run["status"] for run in scheduled] == ["succeeded", "succeeded"]


async def test_the_app_role_refreshes_statistics_only_after_big_changes(
    runtime: Runtime, new_tenant: TenantFactory, database: ProvisionedDatabase
) -> None:
    admin = await new_tenant()

    async with runtime.db.unit_of_work(admin.tenant_id) as session:
        small = await service.refresh_statistics(session, service.LoadResult(discovered=1, edges_new=1))
        big = await service.refresh_statistics(session, service.LoadResult(discovered=10**7, edges_new=10**7))
    with psycopg.connect(database.superuser_url) as connection:
        analysed = connection.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'discovery' AND last_analyze IS NOT NULL"
        ).fetchall()

    assert not {"discovery.nhi", "discovery.edge"} & set(small)
    assert {"discovery.nhi", "discovery.edge"} <= set(big)
    assert {"nhi", "edge"} <= {row[0] for row in analysed}

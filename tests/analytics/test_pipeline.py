"""Activity through the bus, S3 sources on a real moto server, alert webhooks behind the SSRF guard,
and retention of the daily partitions."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psycopg
import pytest
from sqlalchemy import text

from nexora.analytics import service, worker
from nexora.core.bus import publish
from nexora.core.bus.postgres import GroupConsumer
from nexora.core.config import BusSettings
from nexora.core.runtime import Runtime
from tests.analytics.cloudtrail import cloudtrail_file, routine, user_call
from tests.analytics.conftest import Inventoried
from tests.fixtures.bus import drain
from tests.fixtures.moto import MotoServer

BUS = BusSettings(batch_size=100, max_attempts=3, retry_backoff_ms=20, poll_interval_seconds=0.2)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _local(runtime: Runtime) -> Runtime:
    """The runtime with loopback allow-listed, as an operator would for an in-cluster receiver."""
    settings = runtime.settings.model_copy(
        update={"outbound": runtime.settings.outbound.model_copy(update={"allowed_networks": ["127.0.0.0/8"]})}
    )
    return Runtime(settings=settings, db=runtime.db, cipher=runtime.cipher, bus=runtime.bus, services=runtime.services)


async def _alert_count(runtime: Runtime, tenant_id: uuid.UUID, detector_technique: str) -> int:
    async with runtime.db.unit_of_work(tenant_id) as session:
        alerts, _ = await service.list_alerts(session, tenant_id, service.AlertFilters(), limit=500, cursor=None)
    return sum(1 for alert in alerts if alert.technique_id == detector_technique)


async def test_records_published_on_the_activity_topic_are_scored_once(
    runtime: Runtime, inventoried: Inventoried
) -> None:
    tenant = inventoried.admin.tenant_id
    consumer = GroupConsumer(runtime.db, worker.subscriptions(runtime)[0], BUS)
    attack = user_call(
        "CreateAccessKey",
        user=inventoried.user,
        key_id=inventoried.key_id,
        at=_now() - timedelta(minutes=5),
        request={"userName": "bus-victim"},
    )
    records = [json.dumps(r) for r in routine(inventoried.user, inventoried.key_id, _now() - timedelta(hours=1), 5)]
    async with runtime.db.unit_of_work(tenant) as session:
        for payload in ([*records, json.dumps(attack)], [json.dumps(attack), "{broken"]):
            await publish(
                session,
                "nhi.activity",
                {"source": "cloudtrail", "origin": "shipper-1", "records": payload},
                source="tests",
                tenant_id=tenant,
            )

    async def scored() -> bool:
        return await _alert_count(runtime, tenant, "T1098.001") == 1

    await drain(runtime.db, consumer, scored)
    async with runtime.db.unit_of_work(tenant) as session:
        identity = await service.get_identity(session, tenant, f"aws:key/{inventoried.key_id}")
        batches = await service.list_batches(session, tenant)
    assert identity["event_count"] == 6  # the attack sent twice is stored and scored once
    (with_rejects,) = [b for b in batches if b.origin == "bus:shipper-1"]
    assert (with_rejects.accepted, with_rejects.duplicates, with_rejects.rejected) == (0, 1, 1)


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
    ],
)
async def test_a_webhook_to_an_internal_address_is_refused(client: httpx.AsyncClient, tenant_admin, url: str) -> None:
    response = await client.post(
        "/api/v1/analytics/webhooks", headers=tenant_admin.headers, json={"name": "hook", "url": url}
    )
    assert response.status_code == 422, response.text
    assert (await client.get("/api/v1/analytics/webhooks", headers=tenant_admin.headers)).json() == []


async def test_new_alerts_are_posted_signed_to_an_allowed_webhook(
    runtime: Runtime, inventoried: Inventoried, receiver: tuple[str, list]
) -> None:
    url, received = receiver
    local = _local(runtime)
    tenant = inventoried.admin.tenant_id
    async with runtime.db.unit_of_work(tenant) as session:
        await service.create_webhook(
            session, local, tenant, name="soc", url=url, secret="hook-secret", min_severity="medium"
        )
    attack = user_call(
        "CreateAccessKey",
        user=inventoried.user,
        key_id=inventoried.key_id,
        at=_now() - timedelta(minutes=2),
        request={"userName": "hooked"},
    )
    await service.ingest_stream(local, tenant, "cloudtrail", _file([attack]), name="t.json.gz", origin="test")
    consumer = GroupConsumer(runtime.db, worker.subscriptions(local)[1], BUS)

    async def delivered() -> bool:
        return bool(received)

    await drain(runtime.db, consumer, delivered)
    headers, body = received[0]
    stamp, mac = (part.split("=", 1)[1] for part in headers["X-Nexora-Signature"].split(","))
    assert hmac.compare_digest(mac, hmac.new(b"hook-secret", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest())
    alert = json.loads(body)["alert"]
    assert alert["technique_id"] == "T1098.001"
    assert attack["eventID"] in alert["event_ids"]
    async with runtime.db.unit_of_work(tenant) as session:
        (hook,) = await service.list_webhooks(session, tenant)
    assert hook.last_status == "HTTP 204"


def _file(records: list[dict]) -> object:
    import io

    return io.BytesIO(cloudtrail_file(records))


async def test_an_s3_source_ingests_new_cloudtrail_files_once(
    runtime: Runtime, inventoried: Inventoried, moto: MotoServer
) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="trail-bucket")
    prefix = f"AWSLogs/{inventoried.account}/CloudTrail/us-east-1/"
    start = _now() - timedelta(hours=3)
    s3.put_object(
        Bucket="trail-bucket",
        Key=f"{prefix}2026/12/06/a.json.gz",
        Body=cloudtrail_file(routine(inventoried.user, inventoried.key_id, start, 4)),
    )
    s3.put_object(
        Bucket="trail-bucket",
        Key=f"{prefix}2026/12/06/b.json.gz",
        Body=cloudtrail_file(routine(inventoried.user, inventoried.key_id, start + timedelta(hours=1), 3)),
    )
    local = _local(runtime)
    tenant = inventoried.admin.tenant_id
    async with runtime.db.unit_of_work(tenant) as session:
        source = await service.create_source(
            session,
            local,
            tenant,
            name="trail",
            bucket="trail-bucket",
            prefix=prefix,
            region="us-east-1",
            endpoint_url=moto.url,
            credentials={"access_key_id": "AKIAMOTOADMIN0000000", "secret_access_key": "moto-admin-secret"},
            interval_seconds=300,
        )
        source_id = source.id

    first = await service.poll_source(local, tenant, source_id)
    assert [(b.accepted, b.attributed) for b in first] == [(4, 4), (3, 3)]
    assert await service.poll_source(local, tenant, source_id) == []
    s3.put_object(
        Bucket="trail-bucket",
        Key=f"{prefix}2026/12/06/c.json.gz",
        Body=gzip.compress(b'{"Records": [{"eventName": 1}]}'),
    )
    (third,) = await service.poll_source(local, tenant, source_id)
    assert (third.accepted, third.rejected) == (0, 1)
    async with runtime.db.unit_of_work(tenant) as session:
        (stored,) = await service.list_sources(session, tenant)
    assert stored.last_key.endswith("c.json.gz")
    assert stored.last_status == "ok: 1 new objects"
    assert "moto-admin-secret" not in (stored.credentials or "")


async def test_an_s3_source_pointing_inside_the_host_is_refused_without_an_allow_list(
    client: httpx.AsyncClient, tenant_admin
) -> None:
    response = await client.post(
        "/api/v1/activity/sources",
        headers=tenant_admin.headers,
        json={
            "name": "sneaky",
            "bucket": "trail-bucket",
            "endpoint_url": "http://169.254.169.254/",
            "credentials": {"access_key_id": "AKIAMOTOADMIN0000000", "secret_access_key": "x"},
        },
    )
    assert response.status_code == 422
    no_credentials = await client.post(
        "/api/v1/activity/sources", headers=tenant_admin.headers, json={"name": "host-creds", "bucket": "trail-bucket"}
    )
    assert no_credentials.status_code == 422
    assert "credentials" in no_credentials.json()["detail"]


async def test_retention_drops_whole_days_and_isolation_holds_on_every_partition(
    runtime: Runtime, inventoried: Inventoried, database
) -> None:
    tenant = inventoried.admin.tenant_id
    old_day = (_now() - timedelta(days=200)).date()
    async with runtime.db.unit_of_work(tenant) as session:
        await session.execute(text("SELECT analytics.ensure_activity_partitions(:d, :d)"), {"d": old_day})
    name = f"activity_{old_day:%Y%m%d}"
    with psycopg.connect(database.superuser_url) as connection:
        security = connection.execute(
            "SELECT relrowsecurity FROM pg_class WHERE relname = %s AND relnamespace = 'analytics'::regnamespace",
            (name,),
        ).fetchone()
    assert security == (True,)
    dropped = await service.drop_expired_activity(runtime)
    assert name in dropped
    recent = f"activity_{_now().date():%Y%m%d}"
    assert recent not in dropped
    with psycopg.connect(database.app_url) as connection:
        with pytest.raises(psycopg.errors.RaiseException, match="not allowed"):
            connection.execute("SELECT analytics.ensure_activity_partitions(current_date - 1000, current_date)")
        connection.rollback()
        with pytest.raises(psycopg.errors.Error):
            connection.execute(f"DROP TABLE analytics.{recent}")


async def test_a_geoip_database_locates_sources_and_a_new_country_is_alerted(
    runtime: Runtime, inventoried: Inventoried, tmp_path
) -> None:
    from dataclasses import replace

    from nexora.analytics.geo import GeoLookup
    from tests.analytics.ingest.test_geo import ASN, CITY
    from tests.analytics.mmdb import write_database

    city = write_database(tmp_path / "city.mmdb", CITY)
    asn = write_database(tmp_path / "asn.mmdb", ASN, database_type="Nexora-Test-ASN")
    located = Runtime(
        settings=runtime.settings,
        db=runtime.db,
        cipher=runtime.cipher,
        services={
            **runtime.services,
            "analytics": replace(service.components_of(runtime), geo=GeoLookup.open(city, asn)),
        },
    )
    tenant = inventoried.admin.tenant_id
    start = _now() - timedelta(days=12)
    home = [
        user_call(
            "ListBuckets",
            user=inventoried.user,
            key_id=inventoried.key_id,
            at=start + timedelta(hours=6 * i),
            source="s3.amazonaws.com",
            ip="81.2.69.160",
        )
        for i in range(40)
    ]
    away = user_call(
        "ListBuckets",
        user=inventoried.user,
        key_id=inventoried.key_id,
        at=_now() - timedelta(minutes=5),
        source="s3.amazonaws.com",
        ip="175.45.176.9",
    )
    await service.ingest_stream(located, tenant, "cloudtrail", _file([*home, away]), name="geo.json.gz", origin="test")

    async with runtime.db.unit_of_work(tenant) as session:
        events = await service.list_events(
            session, tenant, identity=f"aws:key/{inventoried.key_id}", nhi_id=None, since=None, before=None, limit=500
        )
        alerts, _ = await service.list_alerts(
            session, tenant, service.AlertFilters(detector="baseline.new_country"), limit=10, cursor=None
        )
        profile = await service.get_identity(session, tenant, f"aws:key/{inventoried.key_id}")
    by_id = {event["source_event_id"]: event for event in events}
    assert (by_id[away["eventID"]]["country"], by_id[away["eventID"]]["asn"]) == ("KP", 131279)
    assert (by_id[home[0]["eventID"]]["country"], by_id[home[0]["eventID"]]["asn"]) == ("GB", 20712)
    (alert,) = alerts
    assert alert.discriminator == "KP"
    assert away["eventID"] in alert.event_ids
    assert {row["value"] for row in profile["profile"]["top"]["countries"]} == {"GB", "KP"}


async def test_files_ingested_at_once_for_the_same_identities_store_and_count_each_record_once(
    runtime: Runtime, inventoried: Inventoried
) -> None:
    tenant = inventoried.admin.tenant_id
    # Records two weeks back land in partitions no ingest has made yet: both files race to make them.
    start = _now() - timedelta(days=15)
    records = routine(inventoried.user, inventoried.key_id, start, 120, step=timedelta(minutes=97))
    shared = records[50:70]  # sent in both files
    first, second = records[:70], [*shared, *records[70:]]

    summaries = await asyncio.gather(
        *(
            service.ingest_stream(runtime, tenant, "cloudtrail", _file(part), name=f"part-{n}.json.gz", origin="t")
            for n, part in enumerate((first, second))
        )
    )

    assert sum(s.accepted for s in summaries) == 120
    assert sum(s.duplicates for s in summaries) == 20
    async with runtime.db.unit_of_work(tenant) as session:
        identity = await service.get_identity(session, tenant, f"aws:key/{inventoried.key_id}")
        stored = (await session.execute(text("SELECT count(*) FROM analytics.activity"))).scalar_one()
    assert (identity["event_count"], stored) == (120, 120)

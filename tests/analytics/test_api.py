"""Activity ingest and alerts through the API: attribution, idempotency, rejects, status, roles, isolation."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.analytics.cloudtrail import cloudtrail_file, routine, user_call
from tests.analytics.conftest import Inventoried, inventoried_tenant
from tests.fixtures.app import SignedIn, TenantFactory

PROBLEM = "application/problem+json"


async def send(
    client: httpx.AsyncClient, admin: SignedIn, body: bytes, source: str = "cloudtrail", name: str = "trail.json.gz"
) -> httpx.Response:
    return await client.post(
        "/api/v1/activity/batches", headers=admin.headers, params={"source": source, "name": name}, content=body
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def _alerts(client: httpx.AsyncClient, admin: SignedIn, **params: object) -> list[dict]:
    response = await client.get("/api/v1/alerts", headers=admin.headers, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_cloudtrail_file_is_stored_attributed_and_sending_it_again_adds_nothing(
    client: httpx.AsyncClient, inventoried: Inventoried
) -> None:
    records = routine(inventoried.user, inventoried.key_id, _now() - timedelta(hours=5), 30)
    body = cloudtrail_file(records)

    first = await send(client, inventoried.admin, body)
    assert first.status_code == 201, first.text
    summary = first.json()
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (30, 0, 0)
    assert summary["attributed"] == 30

    again = (await send(client, inventoried.admin, body)).json()
    assert (again["accepted"], again["duplicates"], again["attributed"], again["alerts"]) == (0, 30, 0, 0)

    events = await client.get(
        "/api/v1/activity/events",
        headers=inventoried.admin.headers,
        params={"nhi_id": inventoried.key_nhi_id, "limit": 500},
    )
    stored = events.json()
    assert len(stored) == 30
    assert {event["source_event_id"] for event in stored} == {record["eventID"] for record in records}
    assert stored[0]["raw"]["userIdentity"]["accessKeyId"] == inventoried.key_id

    identity = await client.get(
        f"/api/v1/activity/identities/aws:key/{inventoried.key_id}", headers=inventoried.admin.headers
    )
    assert identity.status_code == 200, identity.text
    assert identity.json()["event_count"] == 30
    assert identity.json()["nhi_id"] == inventoried.key_nhi_id
    profiles = await client.get(
        f"/api/v1/activity/nhis/{inventoried.key_nhi_id}/profiles", headers=inventoried.admin.headers
    )
    assert [row["key"] for row in profiles.json()] == [f"aws:key/{inventoried.key_id}"]
    assert profiles.json()[0]["profile"] is not None


async def test_creating_a_key_for_another_user_raises_one_explained_alert_with_its_evidence(
    client: httpx.AsyncClient, inventoried: Inventoried
) -> None:
    start = _now() - timedelta(hours=3)
    attack = user_call(
        "CreateAccessKey",
        user=inventoried.user,
        key_id=inventoried.key_id,
        at=start + timedelta(hours=2),
        request={"userName": "someone-else"},
        response={
            "accessKey": {
                "accessKeyId": "AKIAIOSFODNN7NEWKEY1",
                "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
                "status": "Active",
                "userName": "someone-else",
            }
        },
    )
    body = cloudtrail_file([*routine(inventoried.user, inventoried.key_id, start, 10), attack])
    summary = (await send(client, inventoried.admin, body)).json()
    assert summary["alerts"] >= 1

    alerts = await _alerts(client, inventoried.admin, nhi_id=inventoried.key_nhi_id)
    created = [alert for alert in alerts if alert["technique_id"] == "T1098.001"]
    assert len(created) == 1
    alert = created[0]
    assert alert["status"] == "open"
    assert alert["tactic_id"] == "TA0003"
    assert attack["eventID"] in alert["event_ids"]
    assert alert["identity"] == f"aws:key/{inventoried.key_id}"
    assert "someone-else" in json.dumps(alert["explanation"])

    detail = (await client.get(f"/api/v1/alerts/{alert['id']}", headers=inventoried.admin.headers)).json()
    evidence = {event["source_event_id"]: event for event in detail["events"]}
    raw = evidence[attack["eventID"]]["raw"]
    assert raw["requestParameters"] == {"userName": "someone-else"}
    assert raw["responseElements"]["accessKey"]["accessKeyId"] == "AKIAIOSFODNN7NEWKEY1"
    assert (
        raw["responseElements"]["accessKey"]["secretAccessKey"]
        != attack["responseElements"]["accessKey"]["secretAccessKey"]
    )
    assert "wJalrXUtnFEMI" not in json.dumps(detail)

    # The same file again raises nothing new.
    again = (await send(client, inventoried.admin, body)).json()
    assert again["alerts"] == 0
    assert len([a for a in await _alerts(client, inventoried.admin) if a["technique_id"] == "T1098.001"]) == 1


async def test_status_changes_are_audited_and_a_false_positive_silences_repeats(
    client: httpx.AsyncClient, inventoried: Inventoried, audit_logs
) -> None:
    admin = inventoried.admin
    start = _now() - timedelta(hours=6)

    def attack(at: datetime) -> dict:
        return user_call(
            "CreateAccessKey", user=inventoried.user, key_id=inventoried.key_id, at=at, request={"userName": "ops-bot"}
        )

    await send(client, admin, cloudtrail_file([attack(start)]))
    (alert,) = [a for a in await _alerts(client, admin) if a["technique_id"] == "T1098.001"]

    acked = await client.patch(f"/api/v1/alerts/{alert['id']}", headers=admin.headers, json={"status": "acknowledged"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["status_changed_by"] == f"user:{admin.user_id}"

    marked = await client.patch(
        f"/api/v1/alerts/{alert['id']}",
        headers=admin.headers,
        json={"status": "false_positive", "note": "ops rotation"},
    )
    assert marked.json()["status"] == "false_positive"
    # Hours later (outside the grouping window) the same identity does it again: nothing is raised.
    repeat = (await send(client, admin, cloudtrail_file([attack(start + timedelta(hours=4))]))).json()
    assert repeat["accepted"] == 1
    assert [a["id"] for a in await _alerts(client, admin) if a["technique_id"] == "T1098.001"] == [alert["id"]]

    await audit_logs.catch_up_all()
    entries = await client.get(
        "/api/v1/audit/entries", headers=admin.headers, params={"action": "analytics.alert_updated", "limit": 10}
    )
    items = entries.json()["items"]
    assert sorted(entry["payload"]["status"] for entry in items) == ["acknowledged", "false_positive"]
    assert {entry["actor"] for entry in items} == {f"user:{admin.user_id}"}
    assert {entry["target"] for entry in items} == {alert["id"]}


async def test_bulk_acknowledge_is_all_or_nothing_and_viewers_cannot_change_alerts(
    client: httpx.AsyncClient, inventoried: Inventoried
) -> None:
    admin = inventoried.admin
    start = _now() - timedelta(hours=8)
    records = [
        user_call(
            "CreateAccessKey", user=inventoried.user, key_id=inventoried.key_id, at=start, request={"userName": "a1"}
        ),
        user_call(
            "CreateLoginProfile",
            user=inventoried.user,
            key_id=inventoried.key_id,
            at=start + timedelta(minutes=1),
            request={"userName": "a2"},
        ),
    ]
    await send(client, admin, cloudtrail_file(records))
    ids = [alert["id"] for alert in await _alerts(client, admin, status="open")]
    assert len(ids) >= 2

    missing = await client.patch(
        "/api/v1/alerts", headers=admin.headers, json={"ids": [*ids, str(uuid.uuid4())], "status": "acknowledged"}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
    assert {a["status"] for a in await _alerts(client, admin)} == {"open"}

    done = await client.patch("/api/v1/alerts", headers=admin.headers, json={"ids": ids, "status": "acknowledged"})
    assert done.status_code == 200
    assert {a["status"] for a in done.json()} == {"acknowledged"}
    summary = (await client.get("/api/v1/alerts/summary", headers=admin.headers)).json()
    assert summary["by_status"]["acknowledged"] == len(ids)
    assert summary["active"] == len(ids)

    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"email": email, "password": "a-long-password-1", "roles": ["viewer"]},
    )
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": "a-long-password-1"})
    viewer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/alerts", headers=viewer)).status_code == 200
    assert (
        await client.patch(f"/api/v1/alerts/{ids[0]}", headers=viewer, json={"status": "resolved"})
    ).status_code == 403
    assert (
        await client.post("/api/v1/activity/batches", headers=viewer, params={"source": "cloudtrail"}, content=b"{}")
    ).status_code == 403


async def test_bad_records_are_rejected_with_reasons_and_the_valid_ones_in_the_same_file_kept(
    client: httpx.AsyncClient, inventoried: Inventoried
) -> None:
    admin = inventoried.admin
    start = _now() - timedelta(hours=2)
    good = routine(inventoried.user, inventoried.key_id, start, 3)
    no_time = user_call("ListUsers", user=inventoried.user, key_id=inventoried.key_id, at=start)
    del no_time["eventTime"]
    wrong_type = user_call("ListUsers", user=inventoried.user, key_id=inventoried.key_id, at=start)
    wrong_type["eventName"] = 42
    lines = [json.dumps(r) for r in good] + [json.dumps(no_time), json.dumps(wrong_type), "[1, 2]", "{not json"]
    summary = (await send(client, admin, "\n".join(lines).encode(), name="mixed.jsonl")).json()
    assert (summary["accepted"], summary["rejected"]) == (3, 4)
    reasons = {reject["position"]: reject["reason"] for reject in summary["rejects"]}
    assert len(reasons) == 4
    assert any("eventTime" in reason for reason in reasons.values())
    assert any("eventName" in reason for reason in reasons.values())

    stored = await client.get(f"/api/v1/activity/batches/{summary['id']}/rejects", headers=admin.headers)
    assert [row["position"] for row in stored.json()] == [r["position"] for r in summary["rejects"]]
    batch = (await client.get(f"/api/v1/activity/batches/{summary['id']}", headers=admin.headers)).json()
    assert (batch["accepted"], batch["rejected"], batch["status"]) == (3, 4, "done")

    truncated = gzip.compress(
        json.dumps(
            {"Records": routine(inventoried.user, inventoried.key_id, start + timedelta(minutes=30), 5)}
        ).encode()[:-300]
    )
    cut = (await send(client, admin, truncated, name="cut.json.gz")).json()
    assert cut["accepted"] >= 1
    assert cut["rejected"] == 1

    old = user_call("ListUsers", user=inventoried.user, key_id=inventoried.key_id, at=_now() - timedelta(days=400))
    future = user_call("ListUsers", user=inventoried.user, key_id=inventoried.key_id, at=_now() + timedelta(days=3))
    out_of_range = (await send(client, admin, cloudtrail_file([old, future]))).json()
    assert out_of_range["rejected"] == 2
    assert "retention" in out_of_range["rejects"][0]["reason"]
    assert "future" in out_of_range["rejects"][1]["reason"]

    binary = (await send(client, admin, bytes(range(256)) * 4, name="junk.bin")).json()
    assert (binary["accepted"], binary["rejected"]) == (0, 1)

    unknown = await client.post(
        "/api/v1/activity/batches", headers=admin.headers, params={"source": "syslog"}, content=b"{}"
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith(PROBLEM)


async def test_an_identity_missing_from_the_inventory_is_listed_and_alerted_once(
    client: httpx.AsyncClient, inventoried: Inventoried
) -> None:
    admin = inventoried.admin
    stranger = "AKIAZZZZZZZZSTRANGER"
    records = routine("shadow-deployer", stranger, _now() - timedelta(hours=1), 4)
    summary = (await send(client, admin, cloudtrail_file(records))).json()
    assert summary["attributed"] == 0

    unknown = (await client.get("/api/v1/activity/identities", headers=admin.headers, params={"unknown": True})).json()
    assert f"aws:key/{stranger}" in {row["key"] for row in unknown}
    gaps = await _alerts(client, admin, detector="inventory.unknown_identity")
    assert len(gaps) == 1
    assert gaps[0]["identity"] == f"aws:key/{stranger}"
    assert gaps[0]["nhi_id"] is None

    await send(client, admin, cloudtrail_file(routine("shadow-deployer", stranger, _now() - timedelta(minutes=20), 3)))
    assert len(await _alerts(client, admin, detector="inventory.unknown_identity")) == 1


async def test_another_tenant_sees_and_changes_none_of_it(
    client: httpx.AsyncClient, inventoried: Inventoried, new_tenant: TenantFactory
) -> None:
    a = inventoried.admin
    start = _now() - timedelta(hours=1)
    attack = user_call(
        "CreateAccessKey", user=inventoried.user, key_id=inventoried.key_id, at=start, request={"userName": "x1"}
    )
    summary = (await send(client, a, cloudtrail_file([attack]))).json()
    alert = (await _alerts(client, a))[0]

    b = (await inventoried_tenant(client, new_tenant)).admin
    assert await _alerts(client, b) == []
    assert (await client.get(f"/api/v1/alerts/{alert['id']}", headers=b.headers)).status_code == 404
    assert (
        await client.patch(f"/api/v1/alerts/{alert['id']}", headers=b.headers, json={"status": "resolved"})
    ).status_code == 404
    assert (
        await client.patch("/api/v1/alerts", headers=b.headers, json={"ids": [alert["id"]], "status": "resolved"})
    ).status_code == 404
    assert (await client.get(f"/api/v1/activity/batches/{summary['id']}", headers=b.headers)).status_code == 404
    assert (await client.get(f"/api/v1/activity/batches/{summary['id']}/rejects", headers=b.headers)).status_code == 404
    assert (await client.get("/api/v1/activity/events", headers=b.headers)).json() == []
    assert (
        await client.get(f"/api/v1/activity/identities/aws:key/{inventoried.key_id}", headers=b.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/activity/nhis/{inventoried.key_nhi_id}/profiles", headers=b.headers)
    ).json() == []
    assert (await client.get("/api/v1/alerts/summary", headers=b.headers)).json()["active"] == 0

    source = await client.post(
        "/api/v1/activity/sources",
        headers=a.headers,
        json={
            "name": "trail",
            "bucket": "a-trail-bucket",
            "credentials": {"access_key_id": "AKIAEXAMPLEEXAMPLE00", "secret_access_key": "not-a-real-secret"},
        },
    )
    assert source.status_code == 201, source.text
    assert "not-a-real-secret" not in source.text
    assert (await client.get("/api/v1/activity/sources", headers=b.headers)).json() == []
    assert (
        await client.delete(f"/api/v1/activity/sources/{source.json()['id']}", headers=b.headers)
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/activity/sources/{source.json()['id']}/poll", headers=b.headers)
    ).status_code == 404
    settings = await client.patch("/api/v1/analytics/settings", headers=a.headers, json={"learning_days": 3})
    assert settings.status_code == 200, settings.text
    assert (await client.get("/api/v1/analytics/settings", headers=b.headers)).json()["learning_days"] == 7

    # The same record sent by B is B's own: stored and scored for B, still one alert for A.
    theirs = (await send(client, b, cloudtrail_file([attack]))).json()
    assert theirs["accepted"] == 1
    assert (await client.get(f"/api/v1/alerts/{alert['id']}", headers=a.headers)).json()["status"] == "open"


async def test_detector_settings_are_validated_whole_and_changes_are_admin_only(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    headers = tenant_admin.headers
    defaults = (await client.get("/api/v1/analytics/settings", headers=headers)).json()
    for bad in (
        {"no_such_setting": 1},
        {"learning_days": -1},
        {"disabled": ["no.such_detector"]},
        {"allow": [{"detectors": ["baseline.new_country"]}]},
        {"learning_days": "soon"},
    ):
        response = await client.patch("/api/v1/analytics/settings", headers=headers, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    assert (await client.get("/api/v1/analytics/settings", headers=headers)).json() == defaults

    changed = await client.patch(
        "/api/v1/analytics/settings",
        headers=headers,
        json={"disabled": ["model.*"], "allow": [{"detectors": ["baseline.new_country"], "countries": ["IE"]}]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["disabled"] == ["model.*"]
    assert changed.json()["learning_days"] == defaults["learning_days"]
    catalogue = (await client.get("/api/v1/analytics/detectors", headers=headers)).json()
    assert {"inventory.unknown_identity", "persistence.create_key_other_user"} <= {d["id"] for d in catalogue}

"""The wire contract: Confluent wire format, CloudEvents headers, schema evolution, the registry client."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastavro import parse_schema
from hypothesis import given, settings
from hypothesis import strategies as st

from nexora.core.events import Event, EventType, catalogue
from nexora.core.events.wire import (
    CatalogueSchemas,
    EventCodec,
    RegistrySchemas,
    SchemaRegistryError,
    WireFormatError,
    backward_compatibility_problems,
    compatibility_problems,
    header_map,
)
from tests.fixtures.kafka import free_port

LOGOUT = catalogue()["auth.logout"]
LOGOUT_PREFIX = b"\x00" + LOGOUT.schema_id.to_bytes(4, "big")


def _envelope(**data: Any) -> dict[str, Any]:
    event = Event(
        type="auth.user_created",
        data=data or {"user_id": "u-1", "email": "a@b.example", "roles": ["admin", "viewer"]},
        source="nexora.auth",
        subject="u-1",
        tenant_id=uuid.uuid4(),
        actor="user:7",
        request_id="req-1",
        source_address="203.0.113.7",
    )
    return event.to_cloudevent()


async def test_an_event_survives_encoding_and_decoding() -> None:
    codec = EventCodec(CatalogueSchemas())
    envelope = _envelope()
    value, headers = await codec.encode(envelope)
    assert value[:5] == b"\x00" + (1006).to_bytes(4, "big")  # magic byte, then auth.user_created v1's id
    event = await codec.decode(value, header_map(headers))
    assert event.to_cloudevent() == envelope
    assert dict(headers)["content-type"] == b"application/avro"


async def test_a_batch_encodes_each_envelope_and_names_what_cannot_be_encoded_in_its_place() -> None:
    codec = EventCodec(CatalogueSchemas())
    good = [_envelope(), _envelope()]
    unknown = {**_envelope(), "type": "auth.nope"}
    misfit = {**_envelope(), "data": {"user_id": 7}}
    no_version = {**_envelope(), "dataschemaversion": 99}
    encoded = await codec.encode_many([good[0], unknown, misfit, no_version, good[1]])
    assert [type(item).__name__ for item in encoded] == ["tuple", *["WireFormatError"] * 3, "tuple"]
    assert str(encoded[1]) == "unknown event type 'auth.nope': it is not in the schema catalogue"
    assert str(encoded[2]).startswith("the data of 'auth.user_created' does not fit its schema")
    assert str(encoded[3]) == "'auth.user_created' has no schema version 99"
    for envelope, item in ((good[0], encoded[0]), (good[1], encoded[4])):
        assert isinstance(item, tuple)
        value, headers = item
        assert (await codec.decode(value, header_map(headers))).to_cloudevent() == envelope
    with pytest.raises(WireFormatError, match=r"auth\.nope"):
        await codec.encode(unknown)


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (None, {"ce_type": b"auth.logout"}, "the record has no value (a tombstone), not an event"),
        (b"\x00\x00", {}, "not the Confluent wire format: 2 bytes is shorter than the magic byte and schema id"),
        (b"\x01\x00\x00\x03\xec\x02x", {}, "not the Confluent wire format: magic byte is 0x01, expected 0x00"),
        (b"\x00\x00\x00\x27\x0f\x02x", {"ce_type": b"auth.logout"}, "unknown schema id 9999"),
        (b"\x00\x00\x00\x03\xec\x02x", {}, "missing CloudEvents header 'ce_type'"),
        (b"\x00\x00\x00\x03\xec\x02x", {"ce_type": b"auth.nope"}, "unknown event type 'auth.nope'"),
        (b"\x00\x00\x00\x03\xec\x02x", {"ce_type": b"\xff"}, "header 'ce_type' is not UTF-8 text"),
        (b"\x00\x00\x00\x03\xec\x7f", {"ce_type": b"auth.logout"}, "the Avro body cannot be read as 'auth.logout'"),
        (b"\x00\x00\x00\x03\xec\x02x", {"ce_type": b"auth.logout"}, "missing CloudEvents header 'ce_id'"),
    ],
)
async def test_bytes_that_are_not_an_event_are_refused_with_the_reason(
    value: bytes | None, headers: dict[str, bytes], reason: str
) -> None:
    with pytest.raises(WireFormatError) as refused:
        await EventCodec(CatalogueSchemas()).decode(value, headers)
    assert str(refused.value).startswith(reason)


async def test_malformed_envelope_headers_are_refused() -> None:
    codec = EventCodec(CatalogueSchemas())
    value, headers = await codec.encode(_envelope())
    for name, bad in (
        ("ce_id", b"not-a-uuid"),
        ("ce_time", b"yesterday"),
        ("ce_tenant", b"t"),
        ("ce_specversion", b"9"),
    ):
        broken = {**header_map(headers), name: bad}
        with pytest.raises(WireFormatError, match="CloudEvents"):
            await codec.decode(value, broken)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(st.none(), st.binary(max_size=64), st.binary(max_size=40).map(lambda b: LOGOUT_PREFIX + b)),
    headers=st.dictionaries(
        st.sampled_from(["ce_type", "ce_id", "ce_time", "ce_source", "ce_tenant", "ce_specversion", "x"]),
        st.one_of(st.binary(max_size=40), st.sampled_from([b"auth.logout", b"1.0", str(uuid.uuid4()).encode()])),
    ),
)
async def test_decoding_arbitrary_bytes_yields_an_event_or_a_wire_format_error(
    value: bytes | None, headers: dict[str, bytes]
) -> None:
    try:
        event = await EventCodec(CatalogueSchemas()).decode(value, headers)
    except WireFormatError:
        return
    assert event.type == "auth.logout"


def test_every_schema_version_reads_the_data_of_the_version_before() -> None:
    checked = 0
    for known in catalogue().values():
        for version in range(1, known.version + 1):
            parse_schema(json.loads(known.schema_text(version)))  # every version has a valid schema file
            checked += 1
    assert checked >= len(catalogue())
    assert backward_compatibility_problems() == {}


def test_schema_ids_are_unique_across_the_catalogue() -> None:
    ids = [schema_id for known in catalogue().values() for schema_id in known.schema_ids]
    assert len(ids) == len(set(ids))


def _logout_v1() -> dict[str, Any]:
    return json.loads(LOGOUT.schema_text(1))


def test_the_compatibility_check_catches_a_new_required_field() -> None:
    v2 = _logout_v1()
    v2["fields"].append({"name": "reason", "type": "string"})
    problems = backward_compatibility_problems({"auth.logout": [parse_schema(_logout_v1()), parse_schema(v2)]})
    assert list(problems) == ["auth.logout v1 -> v2"]
    assert "reason" in problems["auth.logout v1 -> v2"][0]


def test_the_compatibility_check_catches_a_changed_field_type() -> None:
    v2 = _logout_v1()
    v2["fields"][0]["type"] = "long"
    assert compatibility_problems(parse_schema(_logout_v1()), parse_schema(v2))


def test_a_new_field_with_a_default_is_backward_compatible() -> None:
    v2 = _logout_v1()
    v2["fields"].append({"name": "reason", "type": ["null", "string"], "default": None})
    assert compatibility_problems(parse_schema(_logout_v1()), parse_schema(v2)) == []


@dataclass(frozen=True)
class _Edited(EventType):
    """``auth.logout`` with an edited schema as its version 2 (what a developer would commit)."""

    edited: str = ""

    def schema_text(self, version: int | None = None) -> str:
        return self.edited if (version or self.version) == 2 else super().schema_text(1)

    def parsed_schema(self, version: int | None = None) -> Any:
        return parse_schema(json.loads(self.schema_text(version)))


async def test_the_registry_client_registers_once_and_looks_ids_up(schema_registry) -> None:
    schemas = RegistrySchemas(schema_registry.url)
    try:
        schema_id = await schemas.schema_id(LOGOUT, 1)
        assert await schemas.schema_id(LOGOUT, 1) == schema_id  # cached
        assert schema_registry.subjects == {"auth.events-nexora.events.auth.Logout": [schema_id]}
        posts = [r for r in schema_registry.requests if r[0] == "POST"]
        assert len(posts) == 1

        producer = RegistrySchemas(schema_registry.url)  # another process: registering again is idempotent
        assert await producer.schema_id(LOGOUT, 1) == schema_id
        await producer.close()

        consumer = RegistrySchemas(schema_registry.url)  # a consumer only looks the writer schema up
        writer = await consumer.writer_schema(schema_id)
        assert ("GET", f"/schemas/ids/{schema_id}") in schema_registry.requests
        assert writer["name"] == "nexora.events.auth.Logout"
        with pytest.raises(WireFormatError, match="unknown schema id 424242: neither the schema registry nor"):
            await consumer.writer_schema(424242)
        # Records written before the registry was configured carry catalogue ids, and stay readable.
        assert await consumer.writer_schema(LOGOUT.schema_id) is LOGOUT.parsed_schema()
        await consumer.close()
    finally:
        await schemas.close()


async def test_the_registry_refuses_an_incompatible_version_with_a_clear_error(schema_registry) -> None:
    incompatible = _logout_v1()
    incompatible["fields"].append({"name": "reason", "type": "string"})
    edited = _Edited(LOGOUT.name, LOGOUT.topic, (1004, 1099), edited=json.dumps(incompatible))
    schemas = RegistrySchemas(schema_registry.url)
    try:
        await schemas.schema_id(edited, 1)
        with pytest.raises(SchemaRegistryError, match="answered 409") as refused:
            await schemas.schema_id(edited, 2)
        assert "register the schema of 'auth.logout' v2" in str(refused.value)
    finally:
        await schemas.close()


async def test_an_unreachable_registry_is_a_transient_error_that_names_no_credentials() -> None:
    schemas = RegistrySchemas(f"http://registry-user:s3cr3t-pass@127.0.0.1:{free_port()}", timeout_seconds=2)
    try:
        with pytest.raises(SchemaRegistryError, match="unreachable") as failed:
            await schemas.writer_schema(5)
        assert "s3cr3t-pass" not in str(failed.value)
        assert "registry-user" not in str(failed.value)
    finally:
        await schemas.close()

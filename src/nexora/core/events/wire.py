"""Events on the wire: the Confluent wire format, CloudEvents binary-mode headers and schema ids.

A record's value is ``0x00`` + the 4-byte big-endian schema id + the Avro body (no container
header): the Confluent wire format, readable by any Confluent-compatible consumer. The envelope
attributes travel as Kafka headers (``ce_id``, ``ce_type``, ``ce_tenant`` ...: the CloudEvents Kafka
binding in binary mode), so consumers route and skip events without decoding them.

Schema ids come from the in-repo catalogue (``catalogue.toml``) or, with
``NEXORA_SCHEMA_REGISTRY_URL``, from a Confluent-compatible registry (Confluent Schema Registry,
Karapace, Apicurio's ccompat API) under the TopicRecordNameStrategy subject ``<topic>-<record>``.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import httpx
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.utils import generate_many

from nexora.core.events import SPEC_VERSION, Event, EventType, catalogue

MAGIC_BYTE = 0
PREFIX_LENGTH = 5
CONTENT_TYPE = "application/avro"
REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# A replayed dead letter carries the group it is meant for; every other group skips it.
TARGET_GROUP_HEADER = "nexora-target-group"

Headers = list[tuple[str, bytes]]

# Envelope attribute -> header (CloudEvents Kafka binding: ``ce_`` + attribute name).
_ATTRIBUTES = {
    "specversion": "ce_specversion",
    "id": "ce_id",
    "source": "ce_source",
    "type": "ce_type",
    "time": "ce_time",
    "subject": "ce_subject",
    "tenant": "ce_tenant",
    "actor": "ce_actor",
    "requestid": "ce_requestid",
    "sourceaddress": "ce_sourceaddress",
}


_ATTRIBUTE_HEADERS = tuple(_ATTRIBUTES.items())
# The envelopes this build writes always say CloudEvents 1.0 and carry Avro: the same two headers.
_SPEC_VERSION_HEADER = ("ce_specversion", SPEC_VERSION.encode())
_CONTENT_TYPE_HEADER = ("content-type", CONTENT_TYPE.encode())
_VARYING_HEADERS = tuple(item for item in _ATTRIBUTE_HEADERS if item[0] != "specversion")


class WireFormatError(ValueError):
    """Bytes that are not an event this build can read: permanent, so the record is dead-lettered."""


class UnknownSchemaId(WireFormatError):
    """No schema has this id."""


class SchemaRegistryError(RuntimeError):
    """The schema registry could not answer (unreachable, refused or failing)."""


class SchemaSource(Protocol):
    """Where schema ids and writer schemas come from."""

    async def schema_id(self, event_type: EventType, version: int) -> int: ...

    async def writer_schema(self, schema_id: int) -> Any: ...

    async def close(self) -> None: ...


class CatalogueSchemas:
    """Schema ids from ``catalogue.toml``: stable, reviewed, and the same in every process."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[str, int]] = {}
        for name, known in catalogue().items():
            for index, schema_id in enumerate(known.schema_ids):
                self._by_id[schema_id] = (name, index + 1)

    async def schema_id(self, event_type: EventType, version: int) -> int:
        if not 1 <= version <= event_type.version:
            raise WireFormatError(f"'{event_type.name}' has no schema version {version}")
        return event_type.schema_ids[version - 1]

    async def writer_schema(self, schema_id: int) -> Any:
        found = self._by_id.get(schema_id)
        if found is None:
            raise UnknownSchemaId(f"unknown schema id {schema_id}: it is not in the schema catalogue")
        name, version = found
        return catalogue()[name].parsed_schema(version)

    async def close(self) -> None:
        return None


def record_name(event_type: EventType, version: int) -> str:
    """The full name of the Avro record of ``event_type`` (``namespace.Name``)."""
    schema = json.loads(event_type.schema_text(version))
    namespace = schema.get("namespace")
    return f"{namespace}.{schema['name']}" if namespace else str(schema["name"])


def registry_subject(event_type: EventType, version: int) -> str:
    """TopicRecordNameStrategy: several event types share a topic, each with its own subject."""
    return f"{event_type.topic}-{record_name(event_type, version)}"


class RegistrySchemas:
    """Schema ids registered in and looked up from a Confluent-compatible schema registry.

    Registering is idempotent (the registry returns the existing id for a known schema) and the
    registry refuses a version that breaks its subject's compatibility rule. Answers are cached for
    the life of the process: an id always names the same schema. An id the registry does not know
    but the catalogue does is read with the catalogue's schema: records written before the registry
    was configured stay readable.
    """

    def __init__(self, url: str, *, timeout_seconds: float = 10.0) -> None:
        parts = urlsplit(url)
        self.display_url = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"),
            timeout=timeout_seconds,
            headers={"Accept": f"{REGISTRY_CONTENT_TYPE}, application/json"},
        )
        self._ids: dict[tuple[str, int], int] = {}
        self._schemas: dict[int, Any] = {}
        self._catalogue = CatalogueSchemas()

    async def schema_id(self, event_type: EventType, version: int) -> int:
        cached = self._ids.get((event_type.name, version))
        if cached is not None:
            return cached
        subject = registry_subject(event_type, version)
        body = await self._call(
            "POST",
            f"/subjects/{quote(subject, safe='')}/versions",
            payload={"schema": event_type.schema_text(version)},
            what=f"register the schema of '{event_type.name}' v{version}",
        )
        schema_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(schema_id, int):
            raise SchemaRegistryError(f"schema registry at {self.display_url} answered a registration without an id")
        self._ids[(event_type.name, version)] = schema_id
        self._schemas.setdefault(schema_id, event_type.parsed_schema(version))
        return schema_id

    async def writer_schema(self, schema_id: int) -> Any:
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        try:
            body = await self._call("GET", f"/schemas/ids/{schema_id}", what=f"look up schema id {schema_id}")
        except UnknownSchemaId:
            try:
                return await self._catalogue.writer_schema(schema_id)
            except UnknownSchemaId:
                raise UnknownSchemaId(
                    f"unknown schema id {schema_id}: neither the schema registry nor the catalogue knows it"
                ) from None
        text = body.get("schema") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise WireFormatError(f"schema id {schema_id} is not an Avro schema in the registry")
        try:
            parsed = parse_schema(json.loads(text))
        except Exception as error:
            raise WireFormatError(f"schema id {schema_id} is not a valid Avro schema: {type(error).__name__}") from None
        self._schemas[schema_id] = parsed
        return parsed

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, *, what: str, payload: Any = None) -> Any:
        try:
            response = await self._client.request(
                method,
                path,
                content=None if payload is None else json.dumps(payload).encode(),
                headers={"Content-Type": REGISTRY_CONTENT_TYPE} if payload is not None else None,
            )
        except httpx.HTTPError as error:
            raise SchemaRegistryError(
                f"cannot {what}: schema registry at {self.display_url} is unreachable ({type(error).__name__})"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 404 and method == "GET":
            raise UnknownSchemaId(f"unknown schema id {path.rsplit('/', 1)[-1]}: the schema registry does not know it")
        if response.status_code >= 400:
            detail = body.get("message") if isinstance(body, dict) else None
            raise SchemaRegistryError(
                f"cannot {what}: schema registry at {self.display_url} answered {response.status_code}"
                + (f" ({str(detail)[:300]})" if detail else "")
            )
        return body


def schema_source(registry_url: str | None) -> SchemaSource:
    """The registry when one is configured, else the in-repo catalogue."""
    return RegistrySchemas(registry_url) if registry_url else CatalogueSchemas()


def header_map(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, bytes]:
    return dict(headers or ())


class EventCodec:
    """Encodes outbox envelopes into records and decodes records back into :class:`Event`."""

    def __init__(self, schemas: SchemaSource) -> None:
        self.schemas = schemas

    async def encode(self, envelope: Mapping[str, Any]) -> tuple[bytes, Headers]:
        """The record value and headers of an outbox envelope (``Event.to_cloudevent()``)."""
        (encoded,) = await self.encode_many([envelope])
        if isinstance(encoded, WireFormatError):
            raise encoded
        return encoded

    async def encode_many(
        self, envelopes: Sequence[Mapping[str, Any]]
    ) -> list[tuple[bytes, Headers] | WireFormatError]:
        """:meth:`encode` for a batch: schema ids are resolved once per type and version, then every
        envelope is encoded without a suspension point; an envelope that cannot be encoded yields its
        :class:`WireFormatError` in its place."""
        prefixes: dict[tuple[str, int], tuple[bytes, Any] | WireFormatError] = {}
        encoded: list[tuple[bytes, Headers] | WireFormatError] = []
        for envelope in envelopes:
            name = envelope["type"]
            version = envelope.get("dataschemaversion") or 0
            target = prefixes.get((name, version))
            if target is None:
                target = prefixes[(name, version)] = await self._target(name, version)
            if isinstance(target, WireFormatError):
                encoded.append(target)
                continue
            prefix, schema = target
            buffer = io.BytesIO()
            buffer.write(prefix)
            try:
                schemaless_writer(buffer, schema, envelope["data"])
            except Exception as error:  # fastavro raises ValueError, TypeError, KeyError ... on bad data
                encoded.append(WireFormatError(f"the data of '{name}' does not fit its schema: {type(error).__name__}"))
                continue
            get = envelope.get
            headers: Headers = [_SPEC_VERSION_HEADER]
            for attribute, header in _VARYING_HEADERS:
                value = get(attribute)
                if value is not None:
                    headers.append((header, value.encode() if value.__class__ is str else str(value).encode()))
            headers.append(_CONTENT_TYPE_HEADER)
            encoded.append((buffer.getvalue(), headers))
        return encoded

    async def _target(self, name: str, version: Any) -> tuple[bytes, Any] | WireFormatError:
        """The wire-format prefix (magic byte and schema id) and writer schema of a type's version."""
        known = catalogue().get(name)
        if known is None:
            return WireFormatError(f"unknown event type '{name}': it is not in the schema catalogue")
        try:
            number = int(version or known.version)
            schema_id = await self.schemas.schema_id(known, number)
        except WireFormatError as error:
            return error
        except (TypeError, ValueError):
            return WireFormatError(f"'{name}' has no schema version {str(version)[:20]}")
        return bytes((MAGIC_BYTE,)) + schema_id.to_bytes(4, "big"), known.parsed_schema(number)

    async def decode(self, value: bytes | None, headers: Mapping[str, bytes]) -> Event:
        """The event of a record; :class:`WireFormatError` says why when the bytes are not one."""
        schema_id = schema_id_of(value)
        assert value is not None
        texts = _attribute_texts(headers)
        name = texts.get("type")
        if not name:
            raise WireFormatError("missing CloudEvents header 'ce_type'")
        known = catalogue().get(name)
        if known is None:
            raise WireFormatError(f"unknown event type '{name[:100]}': it is not in the schema catalogue")
        writer = await self.schemas.writer_schema(schema_id)
        reader = known.parsed_schema()
        try:
            data = schemaless_reader(io.BytesIO(value[PREFIX_LENGTH:]), writer, None if writer is reader else reader)
        except Exception as error:
            raise WireFormatError(
                f"the Avro body cannot be read as '{name}' with schema id {schema_id}: {type(error).__name__}"
            ) from None
        if not isinstance(data, dict):
            raise WireFormatError(f"the Avro body of schema id {schema_id} is not a record")
        return _event(texts, name, data, known.version)


def schema_id_of(value: bytes | None) -> int:
    """The schema id of a record value in the Confluent wire format."""
    if value is None:
        raise WireFormatError("the record has no value (a tombstone), not an event")
    if len(value) < PREFIX_LENGTH:
        raise WireFormatError(
            f"not the Confluent wire format: {len(value)} bytes is shorter than the magic byte and schema id"
        )
    if value[0] != MAGIC_BYTE:
        raise WireFormatError(f"not the Confluent wire format: magic byte is 0x{value[0]:02x}, expected 0x00")
    return int.from_bytes(value[1:PREFIX_LENGTH], "big")


def _attribute_texts(headers: Mapping[str, bytes]) -> dict[str, str]:
    """The envelope attributes present in ``headers``, decoded once."""
    texts: dict[str, str] = {}
    header = ""
    try:
        for attribute, header in _ATTRIBUTE_HEADERS:
            value = headers.get(header)
            if value is not None:
                texts[attribute] = value.decode()
    except UnicodeDecodeError:
        raise WireFormatError(f"header '{header}' is not UTF-8 text") from None
    return texts


# Tenants are few and repeat on every record: parse each id once (the least recently seen drop out).
_tenant_id = lru_cache(maxsize=10_000)(uuid.UUID)


def _event(texts: Mapping[str, str], name: str, data: dict[str, Any], version: int) -> Event:
    for required in ("id", "source", "time"):
        if not texts.get(required):
            raise WireFormatError(f"missing CloudEvents header 'ce_{required}'")
    specversion = texts.get("specversion")
    if specversion is not None and specversion != SPEC_VERSION:
        raise WireFormatError(f"unsupported CloudEvents specversion '{specversion[:20]}'")
    tenant = texts.get("tenant")
    try:
        event_id = uuid.UUID(texts["id"])
        tenant_id = _tenant_id(tenant) if tenant else None
        time = datetime.fromisoformat(texts["time"])
    except ValueError as error:
        raise WireFormatError(f"malformed CloudEvents header: {error}") from None
    return Event(
        type=name,
        data=data,
        source=texts["source"],
        subject=texts.get("subject"),
        tenant_id=tenant_id,
        actor=texts.get("actor"),
        request_id=texts.get("requestid"),
        source_address=texts.get("sourceaddress"),
        id=event_id,
        time=time,
        schema_version=version,
    )


def compatibility_problems(writer: Any, reader: Any, *, samples: int = 200) -> list[str]:
    """Why data written with schema ``writer`` cannot be read with ``reader`` (empty: compatible).

    Checked the way consumers meet it: arbitrary records of ``writer`` are encoded and then read
    with fastavro schema resolution against ``reader``.
    """
    problems: list[str] = []
    for record in generate_many(writer, samples):
        buffer = io.BytesIO()
        schemaless_writer(buffer, writer, record)
        buffer.seek(0)
        try:
            schemaless_reader(buffer, writer, reader)
        except Exception as error:
            problem = f"{type(error).__name__}: {error}"
            if problem not in problems:
                problems.append(problem)
    return problems


def backward_compatibility_problems(versions: Mapping[str, Sequence[Any]] | None = None) -> dict[str, list[str]]:
    """For every event type, the problems of reading version N-1 data with version N.

    ``versions`` maps a type to its parsed schemas, oldest first; default: the catalogue's.
    """
    if versions is None:
        versions = {
            name: [known.parsed_schema(v) for v in range(1, known.version + 1)] for name, known in catalogue().items()
        }
    found: dict[str, list[str]] = {}
    for name, schemas in sorted(versions.items()):
        for index in range(1, len(schemas)):
            problems = compatibility_problems(schemas[index - 1], schemas[index])
            if problems:
                found[f"{name} v{index} -> v{index + 1}"] = problems
    return found

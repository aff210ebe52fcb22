"""S3 sources: a CloudTrail bucket prefix polled for new log files, as AWS delivers them.

Each poll lists the keys after the last one ingested (S3 lists keys in order; CloudTrail's key names
grow with time within one region's prefix, ``AWSLogs/<account>/CloudTrail/<region>/``), downloads each
new object to a temporary file (bounded by ``max_batch_bytes``) and ingests it as one batch. A file
ingested twice adds nothing, so a poll interrupted half-way simply repeats its last file.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from typing import IO, Any

import boto3
import orjson
import structlog
from botocore.config import Config
from pydantic import BaseModel, Field, SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.models import S3Source
from nexora.analytics.service.batches import BatchSummary, ingest_stream
from nexora.analytics.service.configuration import add_named, announce, check_reachable
from nexora.auth import service as auth_service
from nexora.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from nexora.core.ids import utcnow, uuid7
from nexora.core.outbound import OutboundGuard, guard_botocore_client, parse_networks
from nexora.core.runtime import Runtime

log = structlog.get_logger(__name__)
MAX_OBJECTS_PER_POLL = 500


class S3Credentials(BaseModel):
    access_key_id: str = Field(pattern=r"^[A-Z0-9]{16,128}$")
    secret_access_key: SecretStr = Field(min_length=1, max_length=256)
    session_token: SecretStr | None = Field(default=None, max_length=4096)


def _aad(source_id: uuid.UUID) -> str:
    return f"analytics.s3_source:{source_id}"


def _client(runtime: Runtime, source: S3Source) -> Any:
    credentials: dict[str, Any] = {}
    if source.credentials:
        values = S3Credentials.model_validate_json(runtime.cipher.decrypt_text(source.credentials, _aad(source.id)))
        credentials = {
            "aws_access_key_id": values.access_key_id,
            "aws_secret_access_key": values.secret_access_key.get_secret_value(),
            "aws_session_token": values.session_token.get_secret_value() if values.session_token else None,
        }
    elif not runtime.settings.connector.allow_host_credentials:
        raise ValidationFailed("this S3 source has no credentials, and the host's own AWS credentials are not allowed")
    client = boto3.session.Session().client(
        "s3",
        region_name=source.region or "us-east-1",
        endpoint_url=source.endpoint_url,
        config=Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=10, read_timeout=30),
        **credentials,
    )
    allowed = parse_networks(runtime.settings.outbound.allowed_networks)
    return guard_botocore_client(client, OutboundGuard(allowed))


async def create_source(
    session: AsyncSession,
    runtime: Runtime,
    tenant_id: uuid.UUID,
    *,
    name: str,
    bucket: str,
    prefix: str,
    region: str | None,
    endpoint_url: str | None,
    credentials: dict[str, Any] | None,
    interval_seconds: int,
) -> S3Source:
    if endpoint_url:
        check_reachable(endpoint_url, runtime)
    if credentials is None and not runtime.settings.connector.allow_host_credentials:
        raise ValidationFailed("credentials are required (the host's own AWS credentials are not allowed)")
    source_id = uuid7()
    encrypted = None
    if credentials is not None:
        try:
            checked = S3Credentials.model_validate(credentials)
        except ValidationError as error:
            fields = sorted({".".join(map(str, e["loc"])) for e in error.errors()})
            raise ValidationFailed(f"invalid credentials: check {', '.join(fields)}") from None
        encrypted = runtime.cipher.encrypt_text(_plain_json(checked), _aad(source_id))
    source = S3Source(
        id=source_id,
        tenant_id=tenant_id,
        name=name,
        bucket=bucket,
        prefix=prefix,
        region=region,
        endpoint_url=endpoint_url,
        credentials=encrypted,
        interval_seconds=interval_seconds,
    )
    await add_named(session, tenant_id, "s3_source", source, "an activity source")
    return source


def _plain_json(credentials: S3Credentials) -> str:
    values = {
        "access_key_id": credentials.access_key_id,
        "secret_access_key": credentials.secret_access_key.get_secret_value(),
    }
    if credentials.session_token is not None:
        values["session_token"] = credentials.session_token.get_secret_value()
    return orjson.dumps(values).decode()


async def list_sources(session: AsyncSession, tenant_id: uuid.UUID) -> list[S3Source]:
    query = select(S3Source).where(S3Source.tenant_id == tenant_id).order_by(S3Source.name)
    return list((await session.execute(query)).scalars())


async def get_source(session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID) -> S3Source:
    source = await session.get(S3Source, source_id)
    if source is None or source.tenant_id != tenant_id:
        raise NotFound("activity source not found")
    return source


async def delete_source(session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID) -> None:
    source = await get_source(session, tenant_id, source_id)
    await session.delete(source)
    await announce(session, tenant_id, "s3_source", source, "deleted")


def _download(client: Any, bucket: str, key: str, limit: int) -> IO[bytes]:
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    total = 0
    for block in iter(lambda: body.read(1024 * 1024), b""):
        total += len(block)
        if total > limit:
            spool.close()
            raise PayloadTooLarge(f"s3://{bucket}/{key} is larger than {limit} bytes")
        spool.write(block)
    spool.seek(0)
    return spool


def _new_keys(client: Any, bucket: str, prefix: str, after: str | None) -> list[str]:
    options: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1000}
    if after:
        options["StartAfter"] = after
    keys: list[str] = []
    while len(keys) < MAX_OBJECTS_PER_POLL:
        page = client.list_objects_v2(**options)
        keys.extend(item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/"))
        if not page.get("IsTruncated"):
            break
        options["ContinuationToken"] = page["NextContinuationToken"]
    return keys[:MAX_OBJECTS_PER_POLL]


async def poll_source(runtime: Runtime, tenant_id: uuid.UUID, source_id: uuid.UUID) -> list[BatchSummary]:
    """Ingest every object of the source's prefix after its last key; record where it stopped."""
    async with runtime.db.unit_of_work(tenant_id) as session:
        source = await get_source(session, tenant_id, source_id)
        session.expunge(source)
    client = await asyncio.to_thread(_client, runtime, source)
    summaries: list[BatchSummary] = []
    status = "ok"
    last_key = source.last_key
    try:
        keys = await asyncio.to_thread(_new_keys, client, source.bucket, source.prefix, source.last_key)
        limit = runtime.settings.analytics.max_batch_bytes
        for key in keys:
            spool = await asyncio.to_thread(_download, client, source.bucket, key, limit)
            with spool:
                summaries.append(
                    await ingest_stream(
                        runtime, tenant_id, "cloudtrail", spool, name=key, origin=f"s3://{source.bucket}/{key}"
                    )
                )
            last_key = key
        status = f"ok: {len(keys)} new objects"
    except Exception as error:
        status = f"failed: {type(error).__name__}: {str(error)[:300]}"
        log.warning("s3 activity source poll failed", source=source.name, error=type(error).__name__)
    async with runtime.db.unit_of_work(tenant_id) as session:
        stored = await get_source(session, tenant_id, source_id)
        stored.last_key = last_key
        stored.last_polled_at = utcnow()
        stored.last_status = status
    return summaries


async def poll_due_sources(runtime: Runtime) -> int:
    """The scheduler's job: poll every enabled source whose interval has passed. Returns how many ran."""
    async with runtime.db.unit_of_work() as session:
        tenants = [tenant.id for tenant in await auth_service.list_tenants(session)]
    ran = 0
    for tenant_id in tenants:
        async with runtime.db.unit_of_work(tenant_id) as session:
            now = utcnow()
            sources = (
                await session.execute(
                    select(S3Source).where(S3Source.tenant_id == tenant_id, S3Source.enabled.is_(True))
                )
            ).scalars()
            due = [
                source.id
                for source in sources
                if source.last_polled_at is None
                or (now - source.last_polled_at).total_seconds() >= source.interval_seconds
            ]
        for source_id in due:
            await poll_source(runtime, tenant_id, source_id)
            ran += 1
    return ran

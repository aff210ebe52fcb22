"""Settings: one ``pydantic-settings`` root composed of small per-area sections.

Every section reads its own ``NEXORA_<AREA>_`` environment variables, so ``NEXORA_DATABASE_URL`` is
``DatabaseSettings.url`` and ``NEXORA_AUTH_ACCESS_TOKEN_TTL_SECONDS`` is ``AuthSettings.access_token_ttl_seconds``.
Every setting has a default that works for ``nexora up`` on a laptop. ``docs/configuration.md`` is
generated from these classes (``python -m nexora.core.config``) and a test keeps it in step.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path
from typing import Literal

import platformdirs
from limits import parse as parse_limit
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", validate_default=True)


class DatabaseSettings(BaseSettings):
    """PostgreSQL connection. With no ``url``, ``nexora up`` starts an embedded PostgreSQL."""

    model_config = _section("NEXORA_DATABASE_")

    url: SecretStr | None = Field(
        default=None,
        description="URL the application connects with (a role with no BYPASSRLS). Empty: embedded PostgreSQL.",
    )
    owner_url: SecretStr | None = Field(
        default=None, description="URL migrations run with (the role that owns the tables). Default: `url`."
    )
    app_role: str = Field(
        default="nexora_app", description="Role the migrations grant table privileges to (the app role)."
    )
    pool_size: int = Field(default=10, ge=1, description="Connections kept open per process.")
    max_overflow: int = Field(default=10, ge=0, description="Extra connections allowed under load.")
    statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="Per-statement timeout for application sessions (0 = none)."
    )

    @field_validator("app_role")
    @classmethod
    def _safe_identifier(cls, value: str) -> str:
        if not value.replace("_", "").isalnum() or not value[0].isalpha():
            raise ValueError("app_role must be a plain SQL identifier (letters, digits, underscores)")
        return value


class AuthSettings(BaseSettings):
    """Login, tokens and throttling."""

    model_config = _section("NEXORA_AUTH_")

    issuer: str = Field(default="nexora", description="`iss` claim of access tokens.")
    access_token_ttl_seconds: int = Field(default=900, ge=30, description="Lifetime of JWT access tokens.")
    refresh_token_ttl_seconds: int = Field(
        default=30 * 24 * 3600, ge=60, description="Lifetime of a refresh-token family."
    )
    refresh_reuse_grace_seconds: int = Field(
        default=10,
        ge=0,
        le=60,
        description=(
            "A rotated refresh token presented again within this many seconds of its rotation, while the token"
            " that replaced it is still unused, is taken as an answer the client never received (a reload cut"
            " the rotation off): it gets the same successor again and a new access token. Any other reuse revokes"
            " the session and raises a security alert. 0: every reuse revokes."
        ),
    )
    password_min_length: int = Field(default=12, ge=8, description="Minimum length of a user password.")
    password_hash_time_cost: int = Field(default=3, ge=1, description="Argon2id iterations.")
    password_hash_memory_kib: int = Field(default=65_536, ge=1024, description="Argon2id memory in KiB.")
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed logins for one account from one source address within the window before that address is"
            " locked out of that account (other addresses still sign in)."
        ),
    )
    login_failure_window_seconds: int = Field(
        default=900, ge=1, description="Window (and lockout time) for failed logins per account and address."
    )
    login_delay_after_failures: int = Field(
        default=10,
        ge=1,
        description=(
            "Failed logins for one account from all addresses within the window before each further failure"
            " makes the account wait (1, 2, 4 ... seconds, answered 429 with Retry-After; never a lock)."
        ),
    )
    login_delay_max_seconds: int = Field(
        default=30, ge=1, le=3600, description="Longest wait after failed logins of one account."
    )
    login_ip_limit: str = Field(
        default="30/minute", description="Login attempts allowed per source address (`limits` notation)."
    )
    token_version_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description=(
            "How long an API process trusts its cached copy of a user's token version. Deactivating a user,"
            " changing roles, logging out or resetting factors bumps the version; older access tokens are refused"
            " everywhere within this many seconds (Redis-backed when `NEXORA_REDIS_URL` is set)."
        ),
    )
    rate_limit_per_principal: str = Field(
        default="1200/minute", description="API requests allowed per user or API key (`limits` notation)."
    )
    rate_limit_per_tenant: str = Field(
        default="6000/minute", description="API requests allowed per tenant, all callers together."
    )

    @field_validator("login_ip_limit", "rate_limit_per_principal", "rate_limit_per_tenant")
    @classmethod
    def _limit_notation(cls, value: str) -> str:
        try:
            parse_limit(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a rate limit in `limits` notation (e.g. '100/minute')") from None
        return value


class BootstrapSettings(BaseSettings):
    """The first tenant and platform admin, created on first start."""

    model_config = _section("NEXORA_BOOTSTRAP_")

    tenant_name: str = Field(default="default", description="Name of the tenant created on first start.")
    admin_email: str = Field(default="admin@nexora.local", description="Email of the first platform admin.")
    admin_password: SecretStr | None = Field(
        default=None, description="Password of the first admin. Empty: generated and printed once."
    )


class ApiSettings(BaseSettings):
    """The HTTP API process."""

    model_config = _section("NEXORA_API_")

    host: str = Field(default="127.0.0.1", description="Address `nexora up` / `nexora api` listen on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port `nexora up` / `nexora api` listen on.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted (413 beyond).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list).")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For is trusted for the client address (JSON list).",
    )
    docs: Literal["open", "authenticated", "off"] | None = Field(
        default=None,
        description=(
            "Who may read the OpenAPI document and `/api/v1/docs`: `open`, `authenticated` (a bearer token) or"
            " `off`. Default: `open` on the embedded database (a laptop), `authenticated` otherwise."
        ),
    )
    metrics: Literal["open", "token", "off"] | None = Field(
        default=None,
        description=(
            "Who may read `/metrics`: `open`, `token` (`Authorization: Bearer <NEXORA_API_METRICS_TOKEN>`) or `off`."
            " Default: `open` on the embedded database (a laptop), `token` otherwise."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token Prometheus sends to read `/metrics` when `metrics` is `token`."
    )


class BusSettings(BaseSettings):
    """The event bus (PostgreSQL outbox backend and the settings both backends share)."""

    model_config = _section("NEXORA_BUS_")

    batch_size: int = Field(default=2000, ge=1, description="Events a consumer takes per transaction.")
    max_attempts: int = Field(default=5, ge=1, description="Attempts before an event goes to the dead letters.")
    retry_backoff_ms: int = Field(default=200, ge=0, description="First retry delay; doubles per attempt.")
    retry_backoff_max_ms: int = Field(default=30_000, ge=0, description="Longest retry delay.")
    poll_interval_seconds: float = Field(
        default=2.0, gt=0, description="Fallback poll interval when no NOTIFY arrives."
    )
    processed_retention_days: int = Field(
        default=7, ge=1, description="How long handled event ids are kept for de-duplication."
    )


class KafkaSettings(BaseSettings):
    """The Kafka backend of the bus."""

    model_config = _section("NEXORA_KAFKA_")

    bootstrap_servers: str | None = Field(
        default=None, description="Kafka bootstrap servers (`host:port,...`). Set: the bus uses Kafka."
    )
    client_id: str = Field(default="nexora", description="Kafka client id prefix.")
    partitions: int = Field(default=6, ge=1, description="Partitions of each topic created by Nexora.")
    replication_factor: int = Field(default=1, ge=1, description="Replication factor of created topics.")
    security_protocol: str = Field(default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    sasl_mechanism: str | None = Field(default=None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
    sasl_username: str | None = Field(default=None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    session_timeout_ms: int = Field(default=10_000, ge=1000, description="Consumer group session timeout.")
    max_poll_interval_ms: int = Field(default=300_000, ge=1000, description="Consumer max poll interval.")
    relay: bool = Field(
        default=True,
        description="This process may lead the outbox relay (one process leads). false: never (e.g. workers).",
    )


class CryptoSettings(BaseSettings):
    """Envelope encryption of the platform's own secrets and fingerprint keys."""

    model_config = _section("NEXORA_CRYPTO_")

    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 32-byte key wrapping data keys. Empty: a key file in the data dir (0600).",
    )
    master_key_file: Path | None = Field(
        default=None, description="Path of the key file. Default: `<data dir>/master.key`."
    )


class ObservabilitySettings(BaseSettings):
    """Logs, metrics and traces. Traces are exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set."""

    model_config = _section("NEXORA_")

    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    log_format: Literal["json", "console"] = Field(default="json", description="Log format.")
    service_name: str = Field(default="nexora", description="`service.name` of traces and logs.")


class DiscoverySettings(BaseSettings):
    """Discovery connectors, runs and posture thresholds (defaults follow the CIS benchmarks)."""

    model_config = _section("NEXORA_DISCOVERY_")

    run_interval_seconds: int = Field(
        default=6 * 3600, ge=60, description="Default interval between scheduled runs of a connector."
    )
    schedule_tick_seconds: float = Field(
        default=60.0, gt=0, description="How often the worker looks for connectors whose run is due."
    )
    unused_days: int = Field(default=45, ge=1, description="An NHI not used for this many days is stale (NHI1).")
    key_max_age_days: int = Field(
        default=90, ge=1, description="Access keys and secrets older than this are unrotated (NHI7)."
    )
    expiry_warning_days: int = Field(
        default=30, ge=0, description="Credentials expiring within this many days are reported (NHI7)."
    )
    load_batch_size: int = Field(default=2000, ge=1, description="Records upserted per transaction during a run.")
    load_concurrency: int = Field(
        default=2, ge=1, le=16, description="Batches a run loads at once (each in its own transaction)."
    )
    outbound_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Timeout of each call to a provider (AWS, Kubernetes, GitHub, Vault)."
    )
    provider_concurrency: int = Field(
        default=8, ge=1, le=64, description="Provider calls one connector run makes at once (users, repositories)."
    )
    retry_attempts: int = Field(default=4, ge=1, description="Attempts per provider call when throttled.")
    retry_backoff_ms: int = Field(default=500, ge=0, description="First retry delay; doubles per attempt, jittered.")
    retry_backoff_max_ms: int = Field(default=20_000, ge=0, description="Longest retry delay.")
    circuit_failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive failures that open an endpoint's circuit breaker."
    )
    circuit_reset_seconds: float = Field(
        default=60.0, gt=0, description="How long an open circuit refuses calls before one trial call."
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        description="Private/loopback networks connectors may reach (CIDR JSON list); others are refused (SSRF).",
    )
    max_export_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, description="Largest cloud export or manifest file a connector reads."
    )


class AnalyticsSettings(BaseSettings):
    """Activity ingest, behaviour profiles and alerts (per-tenant detector settings live in the database)."""

    model_config = _section("NEXORA_ANALYTICS_")

    retention_days: int = Field(default=90, ge=1, le=3650, description="Days of activity kept; older days are dropped.")
    profile_window_days: float = Field(
        default=30.0,
        gt=0,
        le=365,
        description="Window of each identity's behaviour profile; older behaviour fades out.",
    )
    max_batch_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1024,
        description="Largest activity upload one request may send (POST /api/v1/activity/batches); bigger is a 413.",
    )
    max_record_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest single activity record read.")
    chunk_size: int = Field(default=5000, ge=1, le=50_000, description="Records stored and scored per transaction.")
    future_skew_seconds: int = Field(
        default=3600,
        ge=0,
        description="How far in the future a record's time may lie (clock skew) before it is refused.",
    )
    alert_group_minutes: int = Field(
        default=60, ge=1, description="Detections of one identity and detector within this window join one alert."
    )
    geoip_database: Path | None = Field(
        default=None, description="MaxMind-format (GeoLite2/GeoIP2 City or Country) database for source addresses."
    )
    geoip_asn_database: Path | None = Field(default=None, description="MaxMind-format ASN database (optional).")
    s3_tick_seconds: float = Field(default=60.0, gt=0, description="How often the worker looks for S3 sources due.")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of each alert webhook call.")


class OutboundSettings(BaseSettings):
    """Every outbound call (connectors, feeds, webhooks, e-mail, ticketing, Vault, identity providers)."""

    model_config = _section("NEXORA_OUTBOUND_")

    allowed_networks: list[str] = Field(
        default_factory=list,
        description=(
            "Internal networks outbound calls may reach (CIDR JSON list). Loopback, link-local (cloud metadata),"
            " private, multicast and the host's own addresses are refused unless listed here (SSRF guard)."
        ),
    )


class ConnectorSettings(BaseSettings):
    """What connectors may read on the Nexora host, and the files tenants upload instead."""

    model_config = _section("NEXORA_CONNECTOR_")

    path_roots: list[str] | None = Field(
        default=None,
        description=(
            "Host folders the code, export and offline-manifest connectors may read (JSON list); nothing outside"
            " them is read, after symlinks and `..` are resolved. `[]`: none (tenants upload files instead)."
            " Unset: none for `nexora api` and `nexora worker`; `nexora up` allows the user's home directory"
            " and says so at start."
        ),
    )
    allow_insecure_tls: bool = Field(
        default=False,
        description="Accept kubeconfigs with `insecure-skip-tls-verify: true` (TLS without certificate checks).",
    )
    allow_host_credentials: bool = Field(
        default=False,
        description=(
            "Let an AWS connector without credentials use the Nexora host's own AWS identity (environment,"
            " instance profile). Only for a single-tenant install that scans its own account."
        ),
    )
    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1024, description="Largest file a tenant may upload as a run input (413 beyond)."
    )
    max_unpacked_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=1024, description="Largest total size an uploaded archive may unpack to."
    )
    max_unpacked_files: int = Field(default=100_000, ge=1, description="Most files an uploaded archive may hold.")
    upload_dir: Path | None = Field(
        default=None, description="Where run inputs wait until their run ends. Default: `<data dir>/run-inputs`."
    )


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("nexora", appauthor=False))


class Settings(BaseSettings):
    """The root of all settings (``NEXORA_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="NEXORA_", extra="ignore", validate_default=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where embedded PostgreSQL, keys and local state live (default: the user data dir).",
    )
    bus: Literal["postgres", "kafka"] | None = Field(
        default=None, description="Event bus backend. Default: `kafka` when Kafka servers are set, else `postgres`."
    )
    redis_url: str | None = Field(default=None, description="Redis for rate limits and caches. Empty: process memory.")
    schema_registry_url: str | None = Field(
        default=None, description="Confluent-compatible schema registry. Empty: the in-repo catalogue."
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    events: BusSettings = Field(default_factory=BusSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    crypto: CryptoSettings = Field(default_factory=CryptoSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    connector: ConnectorSettings = Field(default_factory=ConnectorSettings)

    @cached_property
    def bus_backend(self) -> Literal["postgres", "kafka"]:
        if self.bus is not None:
            return self.bus
        return "kafka" if self.kafka.bootstrap_servers else "postgres"

    @property
    def master_key_path(self) -> Path:
        return self.crypto.master_key_file or self.data_dir / "master.key"

    @property
    def embedded_database(self) -> bool:
        return self.database.url is None


SECTIONS: dict[str, tuple[type[BaseSettings], str]] = {
    "": (Settings, "NEXORA_"),
    "database": (DatabaseSettings, "NEXORA_DATABASE_"),
    "auth": (AuthSettings, "NEXORA_AUTH_"),
    "bootstrap": (BootstrapSettings, "NEXORA_BOOTSTRAP_"),
    "api": (ApiSettings, "NEXORA_API_"),
    "events": (BusSettings, "NEXORA_BUS_"),
    "kafka": (KafkaSettings, "NEXORA_KAFKA_"),
    "crypto": (CryptoSettings, "NEXORA_CRYPTO_"),
    "observability": (ObservabilitySettings, "NEXORA_"),
    "discovery": (DiscoverySettings, "NEXORA_DISCOVERY_"),
    "analytics": (AnalyticsSettings, "NEXORA_ANALYTICS_"),
    "outbound": (OutboundSettings, "NEXORA_OUTBOUND_"),
    "connector": (ConnectorSettings, "NEXORA_CONNECTOR_"),
}


def render_configuration_doc() -> str:
    """The Markdown of ``docs/configuration.md``: every setting, its variable, default and meaning."""
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable (a `.env` file is not read). Defaults suit `nexora up`",
        "on a laptop. This page is generated by `python -m nexora.core.config`; a test fails when it is stale.",
        "",
        "Standard OpenTelemetry variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`, ...) are read",
        "by the exporter itself: setting `OTEL_EXPORTER_OTLP_ENDPOINT` turns trace export on.",
        "",
    ]
    for name, (section, prefix) in SECTIONS.items():
        title = section.__doc__.strip().splitlines()[0] if section.__doc__ else name
        lines += [f"## {name or 'general'}", "", title, "", "| Variable | Default | Meaning |", "|---|---|---|"]
        for field_name, field in section.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
                continue
            if field.default_factory is not None:
                default = "(see meaning)" if field_name == "data_dir" else repr(field.default_factory())  # type: ignore[call-arg]
            else:
                default = "(empty)" if field.default is None else f"`{field.default}`"
            if default.startswith("[") or default.startswith("'"):
                default = f"`{default}`"
            lines.append(f"| `{prefix}{field_name.upper()}` | {default} | {field.description or ''} |")
        lines.append("")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, applying keyword overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.stdout.write(render_configuration_doc())

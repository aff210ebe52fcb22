from pathlib import Path

from nexora.core.config import Settings, render_configuration_doc

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_configuration_doc_lists_every_setting_and_is_current() -> None:
    assert DOC.read_text() == render_configuration_doc(), "run: python -m nexora.core.config > docs/configuration.md"


def test_sections_read_their_own_prefixed_variables(monkeypatch) -> None:
    monkeypatch.setenv("NEXORA_DATABASE_URL", "postgresql://app@db/nexora")
    monkeypatch.setenv("NEXORA_AUTH_ACCESS_TOKEN_TTL_SECONDS", "120")
    monkeypatch.setenv("NEXORA_KAFKA_BOOTSTRAP_SERVERS", "k1:9092")
    settings = Settings()
    assert settings.database.url is not None
    assert settings.database.url.get_secret_value() == "postgresql://app@db/nexora"
    assert settings.auth.access_token_ttl_seconds == 120
    assert settings.bus_backend == "kafka"


def test_bus_defaults_to_postgres_without_kafka(monkeypatch) -> None:
    monkeypatch.delenv("NEXORA_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("NEXORA_BUS", raising=False)
    assert Settings().bus_backend == "postgres"

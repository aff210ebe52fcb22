"""The AWS connector: IAM users, keys, roles and trust, policies, OIDC providers, Secrets Manager (boto3)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from nexora.discovery.connectors.aws import fetch, transform
from nexora.discovery.connectors.aws.client import AwsClients
from nexora.discovery.connectors.base import CollectContext, ConfigModel, ConnectorType, CredentialsModel
from nexora.discovery.records import Collection


class AwsConfig(ConfigModel):
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="Region of the clients.")
    endpoint_url: str | None = Field(default=None, max_length=2048, description="Custom endpoint (e.g. a proxy).")


class AwsCredentials(CredentialsModel):
    access_key_id: str = Field(pattern=r"^[A-Z0-9]{16,128}$")
    secret_access_key: SecretStr = Field(min_length=1, max_length=256)
    session_token: SecretStr | None = Field(default=None, max_length=4096)


def collect(config: AwsConfig, credentials: AwsCredentials | None, context: CollectContext) -> Collection:
    """get -> transform; the transform sees whatever was read, and the errors make the run partial."""
    clients = AwsClients(config, credentials, context)
    collection = Collection()
    raw = fetch.get_all(clients, collection)
    collection.extend(transform.transform(raw))
    return collection


def test(config: AwsConfig, credentials: AwsCredentials | None, context: CollectContext) -> str:
    account = fetch.get_account(AwsClients(config, credentials, context))
    return f"connected to AWS account {account}"


TYPE = ConnectorType(
    kind="aws",
    provider="aws",
    description="AWS IAM and Secrets Manager through boto3",
    config_model=AwsConfig,
    credentials_model=AwsCredentials,
    collect=collect,
    test=test,
)

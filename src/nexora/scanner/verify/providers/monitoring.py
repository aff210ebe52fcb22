"""Monitoring, analytics and incident response: documented identity endpoints."""

from __future__ import annotations

from nexora.scanner.verify.providers.base import BEARER, Provider

MONITORING: dict[str, Provider] = {
    "datadog": Provider(
        "Datadog",
        "https://api.datadoghq.com",
        "/api/v1/validate",
        {"DD-API-KEY": "{token}"},
        invalid=(401, 403),
        valid_when="valid",
        rejected=(("valid", False),),
        note="keys of other Datadog sites need --verify-endpoint datadog=https://api.datadoghq.eu (or us3, us5, ap1…)",
        docs="https://docs.datadoghq.com/api/latest/authentication/#validate-api-key",
    ),
    "newrelic": Provider(
        "New Relic",
        "https://api.newrelic.com",
        "/graphql",
        {"API-Key": "{token}"},
        method="POST",
        body={"query": "{ actor { user { id name email } } }"},
        invalid=(401, 403),
        valid_when="data.actor.user.id",
        identity=(("id", "data.actor.user.id"), ("name", "data.actor.user.name"), ("email", "data.actor.user.email")),
        note="EU keys need --verify-endpoint newrelic=https://api.eu.newrelic.com",
        docs="https://docs.newrelic.com/docs/apis/nerdgraph/get-started/introduction-new-relic-nerdgraph/",
    ),
    "sentry": Provider(
        "Sentry",
        "https://sentry.io",
        "/api/0/organizations/",
        BEARER,
        identity=(("org", "*.slug"),),
        note="self-hosted Sentry needs --verify-endpoint sentry=https://sentry.example.com",
        docs="https://docs.sentry.io/api/organizations/list-your-organizations/",
    ),
    "pagerduty": Provider(
        "PagerDuty",
        "https://api.pagerduty.com",
        "/abilities",
        {"Authorization": "Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"},
        docs="https://developer.pagerduty.com/api-reference/1ecf8d61d0a50-list-abilities",
    ),
    "opsgenie": Provider(
        "Atlassian Opsgenie",
        "https://api.opsgenie.com",
        "/v2/account",
        {"Authorization": "GenieKey {token}"},
        identity=(("account", "data.name"), ("plan", "data.plan.name")),
        note="EU keys need --verify-endpoint opsgenie=https://api.eu.opsgenie.com",
        docs="https://docs.opsgenie.com/docs/account-api",
    ),
    "honeycomb": Provider(
        "Honeycomb",
        "https://api.honeycomb.io",
        "/1/auth",
        {"X-Honeycomb-Team": "{token}"},
        identity=(("id", "id"), ("type", "type"), ("team", "team.slug"), ("environment", "environment.slug")),
        note="EU keys need --verify-endpoint honeycomb=https://api.eu1.honeycomb.io",
        docs="https://api-docs.honeycomb.io/api/auth",
    ),
    "statuspage": Provider(
        "Atlassian Statuspage",
        "https://api.statuspage.io",
        "/v1/pages",
        {"Authorization": "OAuth {token}"},
        identity=(("page", "*.name"), ("page_id", "*.id")),
        docs="https://developer.statuspage.io/#operation/getPages",
    ),
    "posthog": Provider(
        "PostHog",
        "https://us.posthog.com",
        "/api/users/@me/",
        BEARER,
        identity=(("id", "uuid"), ("email", "email"), ("name", "first_name"), ("org", "organization.name")),
        note="EU keys need --verify-endpoint posthog=https://eu.posthog.com",
        docs="https://posthog.com/docs/api/users",
    ),
}

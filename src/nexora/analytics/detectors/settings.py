"""A tenant's detector settings: learning periods, thresholds, allow-lists and disabled detectors.

:class:`DetectorSettings` is what the service stores per tenant (``model_dump(mode="json")``) and the
API patches; :class:`Compiled` is the same settings turned into the sets, seconds and parsed networks
the engine reads on its hot path.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Context
from nexora.analytics.detectors.catalogue import DETECTORS
from nexora.analytics.profiles import SEQUENCE_HORIZON, SEQUENCE_LENGTH, action_key

DEFAULT_SENSITIVE_ACTIONS = [
    "iam:*",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
    "kms:Decrypt",
    "kms:CreateGrant",
    "kms:ScheduleKeyDeletion",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter*",
    "ssm:SendCommand",
    "ssm:StartSession",
    "ec2:GetPasswordData",
    "ec2:CreateKeyPair",
    "ec2:ImportKeyPair",
    "organizations:*",
    "cloudtrail:*",
    "k8s:pods:create/exec",
    "k8s:pods:create/attach",
    "k8s:secrets:list",
]
_ACCOUNT = re.compile(r"^\d{12}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _detector_pattern(value: str) -> str:
    if value != "*" and not fnmatch.filter(DETECTORS, value):
        raise ValueError(f"unknown detector {value!r}: use an id from the catalogue or a pattern like 'baseline.*'")
    return value


class AllowRule(BaseModel):
    """One allow-list entry: detections matching every criterion given here are dropped.

    Entries are alternatives (any entry may allow a detection); within an entry, all the non-empty
    lists must match, so ``{"detectors": ["baseline.new_network"], "identities": ["aws:role/1/ci"],
    "networks": ["20.0.0.0/8"]}`` allows new networks for the CI role from that range only.
    """

    model_config = ConfigDict(extra="forbid")

    detectors: list[str] = Field(
        default_factory=list,
        description="Detector ids or patterns ('baseline.*') the entry applies to; empty applies to every detector.",
    )
    identities: list[str] = Field(
        default_factory=list,
        description="Identity keys ('aws:role/123456789012/ci'); shell-style patterns ('aws:role/*/ci-*') allowed.",
    )
    networks: list[str] = Field(default_factory=list, description="Source networks in CIDR notation.")
    countries: list[str] = Field(default_factory=list, description="ISO 3166 alpha-2 source countries.")
    actions: list[str] = Field(
        default_factory=list,
        description="Actions as 'service:Action' ('ssm:SendCommand') or a bare action; shell-style patterns allowed.",
    )
    note: str = Field(default="", max_length=500, description="Why the entry exists, for the next analyst.")

    @field_validator("detectors")
    @classmethod
    def _known_detectors(cls, values: list[str]) -> list[str]:
        return [_detector_pattern(value) for value in values]

    @field_validator("networks")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(value, strict=False)) for value in values]
        except ValueError as error:
            raise ValueError(f"not a network in CIDR notation: {error}") from None

    @field_validator("countries")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        upper = [value.upper() for value in values]
        for value in upper:
            if not _COUNTRY.match(value):
                raise ValueError(f"not an ISO 3166 alpha-2 country code: {value!r}")
        return upper

    @model_validator(mode="after")
    def _has_a_criterion(self) -> AllowRule:
        if not (self.identities or self.networks or self.countries or self.actions):
            raise ValueError(
                "an allow rule needs identities, networks, countries or actions; to silence a "
                "detector everywhere, add it to 'disabled'"
            )
        return self


class DetectorSettings(BaseModel):
    """Everything a tenant can tune about detection; every field has a default that works out of the box."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    disabled: list[str] = Field(
        default_factory=list, description="Detector ids or patterns ('model.*') that do not run at all."
    )
    allow: list[AllowRule] = Field(default_factory=list, description="Allow-list entries (see AllowRule).")
    trusted_accounts: list[str] = Field(
        default_factory=list,
        description="AWS account ids that count as the tenant's own: trust, sharing and permissions granted to them "
        "are not 'foreign'.",
    )
    routine_key_creations: int = Field(
        default=3,
        ge=0,
        description="Earlier CreateAccessKey calls (within the window) after which an identity that creates keys for "
        "other users is provisioning routinely and is no longer reported; 0 reports every one.",
    )
    learning_days: float = Field(
        default=7.0,
        ge=0,
        le=90,
        description="Days after an identity's first event during which baseline detectors stay quiet.",
    )
    dormant_days: float = Field(
        default=30.0, gt=0, le=365, description="Days without activity after which activity is 'dormant identity'."
    )
    sensitive_actions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SENSITIVE_ACTIONS),
        description="'service:Action' patterns whose first use by an identity is reported ('iam:*', 'kms:Decrypt').",
    )
    ignore_private_networks: bool = Field(
        default=True,
        description="Private, loopback and link-local sources (pod and VPC addresses) never count as a new network.",
    )
    secrets_spree_count: int = Field(
        default=10, ge=2, le=SEQUENCE_LENGTH, description="Distinct secrets read that make a spree."
    )
    secrets_spree_minutes: float = Field(
        default=10.0, gt=0, le=SEQUENCE_HORIZON / 60, description="Window of the secrets spree, minutes."
    )
    ssm_spree_count: int = Field(
        default=10, ge=2, le=SEQUENCE_LENGTH, description="Distinct SSM parameters decrypted that make a spree."
    )
    ssm_spree_minutes: float = Field(
        default=10.0, gt=0, le=SEQUENCE_HORIZON / 60, description="Window of the SSM decryption spree, minutes."
    )
    enumeration_count: int = Field(
        default=20, ge=2, le=SEQUENCE_LENGTH, description="Distinct List*/Describe*/Get* actions that make a burst."
    )
    enumeration_minutes: float = Field(
        default=10.0, gt=0, le=SEQUENCE_HORIZON / 60, description="Window of the enumeration burst, minutes."
    )
    denied_count: int = Field(
        default=20,
        ge=2,
        le=SEQUENCE_LENGTH,
        description="AccessDenied/UnauthorizedOperation failures that make a storm.",
    )
    denied_minutes: float = Field(
        default=10.0, gt=0, le=SEQUENCE_HORIZON / 60, description="Window of the access-denied storm, minutes."
    )
    admin_ports: list[int] = Field(
        default_factory=lambda: [22, 3389], description="Ports that must not be opened to the whole internet."
    )
    instance_launch_count: int = Field(
        default=10, ge=1, description="Instances in one RunInstances call that make an unusual launch on their own."
    )
    volume_method: Literal["mad", "ewma"] = Field(
        default="mad",
        description="Volume baseline: robust z-score against median/MAD of active hours, or EWMA mean/deviation.",
    )
    volume_z: float = Field(default=8.0, gt=0, description="Score above which an hour's event count is a spike.")
    volume_min_events: int = Field(
        default=100, ge=1, description="Events in an hour below which no spike is reported, whatever the score."
    )
    volume_min_hours: int = Field(
        default=24, ge=1, le=168, description="Active hours in the baseline before volume spikes are reported."
    )
    impossible_travel_kmh: float = Field(
        default=1000.0, gt=0, description="Speed (km/h) between two located events above which travel is impossible."
    )
    impossible_travel_min_km: float = Field(
        default=500.0, ge=0, description="Distance under which two locations are not compared (geo-IP inaccuracy)."
    )
    model_learning_samples: int = Field(
        default=2000,
        ge=0,
        description="Closed identity-hours the streaming model learns from before its scores are reported.",
    )
    model_min_events: int = Field(
        default=5,
        ge=1,
        description="Identity-hours with fewer events are neither learned nor scored (too few to say anything about "
        "a rate; this also keeps the model's cost per event low).",
    )
    model_threshold: float = Field(
        default=0.95, gt=0, le=1, description="Model anomaly score (0..1) from which an hour is reported."
    )
    model_seed: int = Field(default=42, description="Seed of the model's random trees (kept with its state).")

    @field_validator("disabled")
    @classmethod
    def _known_disabled(cls, values: list[str]) -> list[str]:
        return [_detector_pattern(value) for value in values]

    @field_validator("trusted_accounts")
    @classmethod
    def _accounts(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _ACCOUNT.match(value):
                raise ValueError(f"not a 12-digit AWS account id: {value!r}")
        return values

    @field_validator("sensitive_actions")
    @classmethod
    def _action_patterns(cls, values: list[str]) -> list[str]:
        for value in values:
            if ":" not in value:
                raise ValueError(f"a sensitive action is 'service:Action' (patterns allowed): {value!r}")
        return values

    @field_validator("admin_ports")
    @classmethod
    def _ports(cls, values: list[int]) -> list[int]:
        for value in values:
            if not 0 < value < 65536:
                raise ValueError(f"not a TCP port: {value}")
        return values


class _CompiledAllow:
    __slots__ = ("actions", "countries", "identities", "networks")

    def __init__(self, rule: AllowRule) -> None:
        self.identities = rule.identities
        self.networks = [ipaddress.ip_network(value) for value in rule.networks]
        self.countries = set(rule.countries)
        self.actions = rule.actions

    def matches(self, event: ActivityEvent, context: Context) -> bool:
        if self.identities and not any(fnmatch.fnmatchcase(event.identity.key, p) for p in self.identities):
            return False
        if self.countries and (context.geo is None or context.geo.country not in self.countries):
            return False
        if self.actions:
            key = action_key(event)
            if not any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(event.action, p) for p in self.actions):
                return False
        if self.networks:
            try:
                address = ipaddress.ip_address(event.source_ip or "")
            except ValueError:
                return False
            if not any(address in network for network in self.networks):
                return False
        return True


class Compiled:
    """Settings as the hot path reads them: seconds, sets, parsed networks, per-detector allow rules."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.disabled = frozenset(
            detector for detector in DETECTORS if any(fnmatch.fnmatchcase(detector, p) for p in settings.disabled)
        )
        self.learning_s = settings.learning_days * 86400
        self.dormant_s = settings.dormant_days * 86400
        self.trusted_accounts = frozenset(settings.trusted_accounts)
        self.admin_ports = tuple(settings.admin_ports)
        wildcards = [p for p in settings.sensitive_actions if any(c in p for c in "*?[")]
        self._sensitive_exact = frozenset(p for p in settings.sensitive_actions if p not in wildcards)
        self._sensitive_patterns = wildcards
        self._sensitive_prefixes = tuple(re.split(r"[*?\[]", p, maxsplit=1)[0] for p in wildcards)
        self.allow: dict[str, list[_CompiledAllow]] = {}
        for rule in settings.allow:
            compiled = _CompiledAllow(rule)
            targets = [
                detector
                for detector in DETECTORS
                if not rule.detectors or any(fnmatch.fnmatchcase(detector, p) for p in rule.detectors)
            ]
            for detector in targets:
                self.allow.setdefault(detector, []).append(compiled)

    def sensitive(self, key: str) -> bool:
        """Whether ``service:Action`` is on the sensitive list."""
        if key in self._sensitive_exact:
            return True
        if not self._sensitive_prefixes or not key.startswith(self._sensitive_prefixes):
            return False
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self._sensitive_patterns)

    def allowed(self, detector: str, event: ActivityEvent, context: Context) -> bool:
        """Whether an allow rule drops a detection of ``detector`` on ``event``."""
        rules = self.allow.get(detector)
        return rules is not None and any(rule.matches(event, context) for rule in rules)

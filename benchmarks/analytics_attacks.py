"""Attacks injected into the analytics scenario: one template per technique, each naming the detectors it expects.

A template picks a victim of the kinds it applies to and writes the records an attacker holding that
identity's credentials would leave (from the victim's own network unless the attack says otherwise).
``inject`` places ``per_template`` instances of every template on distinct victims after the learning
period and labels their events.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analytics_scenarios import (
    ATTACKER_PREFIXES,
    FOREIGN_ACCOUNT,
    Actor,
    InjectedAttack,
    Record,
    Scenario,
    address,
    cloudtrail_record,
    k8s_record,
)

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
ADMIN_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"
KUBECTL = "kubectl/v1.29.2 (darwin/arm64) kubernetes/4b8e819"
DISCOVERY = [
    ("ListUsers", "iam"),
    ("ListRoles", "iam"),
    ("ListPolicies", "iam"),
    ("GetAccountAuthorizationDetails", "iam"),
    ("ListAccessKeys", "iam"),
    ("ListGroups", "iam"),
    ("DescribeVpcs", "ec2"),
    ("DescribeSnapshots", "ec2"),
    ("DescribeImages", "ec2"),
    ("DescribeSecurityGroups", "ec2"),
    ("DescribeKeyPairs", "ec2"),
    ("DescribeRegions", "ec2"),
    ("ListBuckets", "s3"),
    ("ListSecrets", "secretsmanager"),
    ("DescribeParameters", "ssm"),
    ("DescribeTrails", "cloudtrail"),
    ("ListFunctions20150331", "lambda"),
    ("ListClusters", "eks"),
    ("DescribeDBInstances", "rds"),
    ("ListKeys", "kms"),
    ("ListTopics", "sns"),
    ("DescribeOrganization", "organizations"),
    ("ListDetectors", "guardduty"),
    ("GetCallerIdentity", "sts"),
    ("DescribeStacks", "cloudformation"),
    ("ListHostedZones", "route53"),
]


class Writer:
    """Records of one attack: the victim's identity, one clock, labelled as they are written."""

    def __init__(
        self, rng: random.Random, victim: Actor, start: datetime, ip: str | None = None, agent: str | None = None
    ) -> None:
        self.rng, self.victim, self.at = rng, victim, start
        self.ip, self.agent = ip or victim.ips[0], agent
        self.records: list[Record] = []

    def call(self, name: str, source: str, step: float = 20.0, **fields: Any) -> None:
        fields.setdefault("ip", self.ip)
        if self.agent is not None:
            fields.setdefault("agent", self.agent)
        self.records.append(("cloudtrail", cloudtrail_record(self.rng, self.victim, self.at, name, source, **fields)))
        self.at += timedelta(seconds=step)


def abroad(rng: random.Random) -> str:
    return address(rng, rng.choice(ATTACKER_PREFIXES))


Build = Callable[[Writer], None]


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    kinds: tuple[str, ...]
    expected: tuple[str, ...]
    build: Build
    earliest_day: int = 10
    hour: int | None = None  # UTC hour it starts at; None for the victim's busiest hour
    attacker: bool = False  # from attacker infrastructure rather than the victim's network


def _single(name: str, source: str, request: dict[str, Any] | None = None, **fields: Any) -> Build:
    """Who-am-I, then the one call the technique is about."""

    def build(w: Writer) -> None:
        w.call("GetCallerIdentity", "sts")
        w.call(name, source, request=request, **fields)

    return build


def _secrets(w: Writer) -> None:
    for index in range(15):
        w.call("GetSecretValue", "secretsmanager", step=15, request={"secretId": f"prod/shared/{index}"})


def _parameters(w: Writer) -> None:
    for index in range(5):
        names = [f"/prod/shared/{index}/{part}" for part in ("db", "api", "smtp")]
        w.call("GetParameters", "ssm", step=20, request={"names": names, "withDecryption": True})


def _instance_outside(w: Writer) -> None:
    for name, source in (("GetCallerIdentity", "sts"), ("ListBuckets", "s3"), ("DescribeInstances", "ec2")):
        w.call(name, source, agent="aws-cli/2.15.17 Python/3.11.6 Darwin/23.3.0 exe/x86_64")


def _denied(w: Writer) -> None:
    for index in range(30):
        name, source = DISCOVERY[index % len(DISCOVERY)]
        w.call(name, source, step=8, error="AccessDenied")


def _enumerate(w: Writer) -> None:
    for name, source in DISCOVERY[:25]:
        w.call(name, source, step=12)


def _stolen_key(w: Writer) -> None:
    w.call("GetCallerIdentity", "sts")
    w.call("ListBuckets", "s3")
    for index in range(5):
        w.call("GetObject", "s3", request={"bucketName": f"{w.victim.name}-data", "key": f"export/{index}.csv"})


def _travel(w: Writer) -> None:
    home = w.ip
    w.call("ListBuckets", "s3", step=15 * 60, ip=home)
    w.ip = abroad(w.rng)
    w.call("ListBuckets", "s3")
    w.call("GetObject", "s3", request={"bucketName": f"{w.victim.name}-data", "key": "export/all.csv"})


def _console_login(mfa: str) -> Build:
    def build(w: Writer) -> None:
        identity = {key: value for key, value in w.victim.identity.items() if key != "accessKeyId"}
        w.call(
            "ConsoleLogin",
            "signin",
            identity=identity,
            agent=BROWSER,
            response={"ConsoleLogin": "Success"},
            additional={"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": mfa},
        )

    return build


def _browser(w: Writer) -> None:
    for name, source in (("ListBuckets", "s3"), ("DescribeInstances", "ec2"), ("ListUsers", "iam")):
        w.call(name, source, agent=BROWSER)


def _kubectl_exec(w: Writer) -> None:
    for index in range(3):
        w.records.append(
            (
                "k8s-audit",
                k8s_record(
                    w.rng,
                    w.victim,
                    w.at,
                    "create",
                    "pods",
                    name=f"api-{index}",
                    subresource="exec",
                    agent=KUBECTL,
                    ip=w.ip,
                ),
            )
        )
        w.at += timedelta(seconds=40)


def _sensitive_first(w: Writer) -> None:
    w.call("GetCallerIdentity", "sts")
    w.call("ListAttachedRolePolicies", "iam", request={"roleName": w.victim.name})


def _dormant(w: Writer) -> None:
    for name, source in (("GetCallerIdentity", "sts"), ("ListBuckets", "s3"), ("DescribeInstances", "ec2")):
        w.call(name, source, step=60)


def _exfiltrate(w: Writer) -> None:
    for index in range(1500):
        w.call("GetObject", "s3", step=2, request={"bucketName": f"{w.victim.name}-data", "key": f"dump/{index}"})


def _noisy_hour(w: Writer) -> None:
    for index in range(300):
        name, source = DISCOVERY[index % len(DISCOVERY)]
        w.call(name, source, step=6, error="AccessDenied" if index % 3 == 0 else None)


def _run_instances(w: Writer) -> None:
    w.call(
        "RunInstances",
        "ec2",
        region="ap-southeast-1",
        request={
            "instancesSet": {"items": [{"imageId": "ami-0c55b159cbfafe1f0", "minCount": 20, "maxCount": 20}]},
            "instanceType": "p3.16xlarge",
        },
    )


def _trust(w: Writer) -> None:
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    w.call(
        "UpdateAssumeRolePolicy",
        "iam",
        request={"roleName": "OrganizationAccountAccessRole", "policyDocument": document},
    )


def _admin(w: Writer) -> None:
    if w.rng.random() < 0.5:
        w.call("AttachUserPolicy", "iam", request={"userName": "backup-operator", "policyArn": ADMIN_ARN})
    else:
        w.call(
            "PutRolePolicy",
            "iam",
            request={"roleName": w.victim.name, "policyName": "ops", "policyDocument": ADMIN_DOCUMENT},
        )


def _share(kind: str) -> Build:
    if kind == "image":
        return _single(
            "ModifyImageAttribute",
            "ec2",
            {
                "imageId": "ami-0a1b2c3d4e5f60718",
                "attributeType": "launchPermission",
                "launchPermission": {"add": {"items": [{"userId": FOREIGN_ACCOUNT}]}},
            },
        )
    return _single(
        "ModifySnapshotAttribute",
        "ec2",
        {
            "snapshotId": "snap-0a1b2c3d4e5f60718",
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"userId": FOREIGN_ACCOUNT}]}},
        },
    )


KEYS = ("user_key",)
ADMINS = ("user_key", "ci_role")
ROLES = ("lambda_role", "ec2_role")
TEMPLATES: list[Template] = [
    Template(
        "key_for_other_user",
        ADMINS,
        ("persistence.create_key_other_user",),
        _single("CreateAccessKey", "iam", {"userName": "backup-operator"}),
    ),
    Template("admin_policy", (*ADMINS, "lambda_role"), ("privilege.admin_policy_attached",), _admin),
    Template(
        "login_profile",
        ADMINS,
        ("persistence.login_profile",),
        _single("CreateLoginProfile", "iam", {"userName": "backup-operator", "passwordResetRequired": False}),
    ),
    Template("trust_backdoor", ADMINS, ("privilege.backdoor_trust_policy",), _trust),
    Template(
        "federation_token",
        KEYS,
        ("persistence.federation_token",),
        _single("GetFederationToken", "sts", {"name": "ops", "durationSeconds": 129600}),
    ),
    Template(
        "roles_anywhere",
        ADMINS,
        ("persistence.roles_anywhere_trust_anchor",),
        _single(
            "CreateTrustAnchor",
            "rolesanywhere",
            {"name": "partner", "enabled": True, "source": {"sourceType": "CERTIFICATE_BUNDLE"}},
        ),
    ),
    Template(
        "lambda_public",
        ADMINS,
        ("persistence.lambda_public_permission",),
        _single(
            "AddPermission20150331v2",
            "lambda",
            {
                "functionName": "billing-export",
                "statementId": "s1",
                "action": "lambda:InvokeFunction",
                "principal": "*",
            },
        ),
    ),
    Template(
        "lambda_code",
        ("ec2_role", "user_key"),
        ("execution.lambda_code_updated",),
        _single(
            "UpdateFunctionCode20150331v2",
            "lambda",
            {"functionName": "billing-export", "zipFile": "<sensitiveDataRemoved>"},
        ),
    ),
    Template(
        "create_user",
        ROLES + KEYS,
        ("persistence.iam_user_created",),
        _single("CreateUser", "iam", {"userName": "support-backup"}),
    ),
    Template("secrets_spree", ROLES + KEYS, ("credentials.secrets_spree",), _secrets),
    Template("ssm_spree", ROLES, ("credentials.ssm_decrypt_spree",), _parameters),
    Template(
        "password_data",
        ("user_key", "ec2_role"),
        ("credentials.ec2_password_data",),
        _single("GetPasswordData", "ec2", {"instanceId": "i-0a1b2c3d4e5f60718"}),
    ),
    Template(
        "instance_credentials",
        ("ec2_role",),
        ("credentials.instance_credentials_outside",),
        _instance_outside,
        attacker=True,
    ),
    Template("denied_storm", (*KEYS, "lambda_role"), ("credentials.access_denied_storm",), _denied),
    Template(
        "trail_stopped", ADMINS, ("evasion.trail_stopped",), _single("StopLogging", "cloudtrail", {"name": "org-trail"})
    ),
    Template(
        "trail_deleted", ADMINS, ("evasion.trail_deleted",), _single("DeleteTrail", "cloudtrail", {"name": "org-trail"})
    ),
    Template(
        "trail_selectors",
        ADMINS,
        ("evasion.trail_selectors_changed",),
        _single(
            "PutEventSelectors",
            "cloudtrail",
            {
                "trailName": "org-trail",
                "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": True}],
            },
        ),
    ),
    Template(
        "flow_logs",
        ADMINS,
        ("evasion.flow_logs_deleted",),
        _single(
            "DeleteFlowLogs", "ec2", {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d", "tag": 1}}}
        ),
    ),
    Template(
        "resolver_logs",
        ADMINS,
        ("evasion.resolver_query_logs_removed",),
        _single("DeleteResolverQueryLogConfig", "route53resolver", {"resolverQueryLogConfigId": "rqlc-0a1b"}),
    ),
    Template(
        "leave_organization", ADMINS, ("evasion.left_organization",), _single("LeaveOrganization", "organizations")
    ),
    Template(
        "ssh_to_world",
        (*ADMINS, "ec2_role"),
        ("evasion.admin_port_open_to_world",),
        _single(
            "AuthorizeSecurityGroupIngress",
            "ec2",
            {
                "groupId": "sg-0a1b2c3d",
                "ipPermissions": {
                    "items": [
                        {
                            "ipProtocol": "tcp",
                            "fromPort": 22,
                            "toPort": 22,
                            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                        }
                    ]
                },
            },
        ),
    ),
    Template("image_shared", ADMINS, ("exfiltration.image_shared",), _share("image")),
    Template("snapshot_shared", ADMINS, ("exfiltration.snapshot_shared",), _share("snapshot")),
    Template(
        "ssm_command",
        (*ADMINS, "lambda_role"),
        ("execution.ssm_command",),
        _single("SendCommand", "ssm", {"instanceIds": ["i-0a1b2c3d4e5f60718"], "documentName": "AWS-RunShellScript"}),
    ),
    Template(
        "user_data",
        ADMINS,
        ("execution.instance_user_data",),
        _single(
            "ModifyInstanceAttribute",
            "ec2",
            {"instanceId": "i-0a1b2c3d4e5f60718", "userData": "<sensitiveDataRemoved>"},
        ),
    ),
    Template("crypto_mining", ADMINS, ("execution.unusual_instance_launch",), _run_instances),
    Template("console_without_mfa", ("human",), ("access.console_login_without_mfa",), _console_login("No")),
    Template("nhi_console_login", KEYS, ("access.human_use_of_nhi",), _console_login("Yes")),
    Template("nhi_browser", KEYS, ("access.human_use_of_nhi",), _browser),
    Template("kubectl_exec", ("k8s_sa",), ("execution.kubectl_exec_by_service_account",), _kubectl_exec),
    Template("enumeration", KEYS + ROLES, ("discovery.enumeration_burst",), _enumerate),
    Template(
        "stolen_key_abroad",
        KEYS,
        ("baseline.new_network", "baseline.new_country", "baseline.new_asn"),
        _stolen_key,
        attacker=True,
    ),
    Template("impossible_travel", KEYS, ("baseline.impossible_travel",), _travel),
    Template("sensitive_first", ROLES, ("baseline.new_sensitive_action",), _sensitive_first),
    Template("dormant_key", ("dormant",), ("baseline.dormant_identity",), _dormant, earliest_day=33),
    Template("exfiltration_volume", KEYS + ROLES, ("baseline.volume_spike", "model.rate_anomaly"), _exfiltrate),
    Template("noisy_night", KEYS + ROLES, ("model.rate_anomaly",), _noisy_hour, hour=3),
]


def inject(scenario: Scenario, rng: random.Random, per_template: int) -> None:
    """Add ``per_template`` instances of every template to ``scenario`` on distinct victims, labelled."""
    used: set[int] = set()
    last_day = scenario.days - 2
    for template in TEMPLATES:
        if template.earliest_day > last_day:
            continue  # the scenario is too short for it (a dormant key needs a month of silence)
        candidates = [actor for actor in scenario.actors if actor.kind in template.kinds]
        fresh = [actor for actor in candidates if actor.index not in used]
        for number in range(per_template):
            pool = fresh or candidates
            victim = pool.pop(rng.randrange(len(pool))) if pool is fresh else rng.choice(pool)
            used.add(victim.index)
            day = rng.randrange(template.earliest_day, last_day + 1)
            if template.hour is not None:
                hour = template.hour
            else:
                busiest = [hour for hour, weight in enumerate(victim.hours) if weight >= 1.0]
                hour = rng.choice(busiest or [12])
            start = scenario.start + timedelta(days=day, hours=hour, minutes=rng.randrange(5, 15))
            writer = Writer(rng, victim, start, ip=abroad(rng) if template.attacker else None)
            template.build(writer)
            attack_id = f"{template.name}-{number}"
            event_ids = [body.get("eventID") or body["auditID"] for _, body in writer.records]
            scenario.attacks.append(
                InjectedAttack(attack_id, template.name, template.expected, victim.key, start, event_ids)
            )
            scenario.labels.update(dict.fromkeys(event_ids, attack_id))
            scenario._attack_records.setdefault(day, []).extend(writer.records)

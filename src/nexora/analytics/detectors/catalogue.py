"""Every detector the engine runs: its id, title, family, default severity, ATT&CK mapping and description.

The catalogue is what the documentation and the API list; a detector's code builds its detections with
:func:`detection`, which takes the defaults from here so a detection and its catalogue entry agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nexora.analytics.detectors.base import Attack, Detection, Severity

Kind = Literal["rule", "sequence", "baseline", "model"]
EVIDENCE_LIMIT = 50  # event ids kept per detection


def _attack(tactic_id: str, tactic: str, technique_id: str, technique: str) -> Attack:
    return Attack(tactic_id=tactic_id, tactic=tactic, technique_id=technique_id, technique=technique)


ADDITIONAL_CLOUD_CREDENTIALS = _attack(
    "TA0003", "Persistence", "T1098.001", "Account Manipulation: Additional Cloud Credentials"
)
ADDITIONAL_CLOUD_ROLES = _attack(
    "TA0004", "Privilege Escalation", "T1098.003", "Account Manipulation: Additional Cloud Roles"
)
ACCOUNT_MANIPULATION = _attack("TA0003", "Persistence", "T1098", "Account Manipulation")
CREATE_CLOUD_ACCOUNT = _attack("TA0003", "Persistence", "T1136.003", "Create Account: Cloud Account")
TRUST_MODIFICATION = _attack(
    "TA0004", "Privilege Escalation", "T1484.002", "Domain or Tenant Policy Modification: Trust Modification"
)
SERVERLESS_EXECUTION = _attack("TA0002", "Execution", "T1648", "Serverless Execution")
CLOUD_SECRETS_STORES = _attack(
    "TA0006", "Credential Access", "T1555.006", "Credentials from Password Stores: Cloud Secrets Management Stores"
)
UNSECURED_CREDENTIALS = _attack("TA0006", "Credential Access", "T1552", "Unsecured Credentials")
INSTANCE_METADATA = _attack(
    "TA0006", "Credential Access", "T1552.005", "Unsecured Credentials: Cloud Instance Metadata API"
)
BRUTE_FORCE = _attack("TA0006", "Credential Access", "T1110", "Brute Force")
CLOUD_LOGS = _attack("TA0005", "Defense Evasion", "T1562.008", "Impair Defenses: Disable or Modify Cloud Logs")
CLOUD_FIREWALL = _attack("TA0005", "Defense Evasion", "T1562.007", "Impair Defenses: Disable or Modify Cloud Firewall")
RESOURCE_HIERARCHY = _attack("TA0005", "Defense Evasion", "T1666", "Modify Cloud Resource Hierarchy")
CREATE_CLOUD_INSTANCE = _attack(
    "TA0005", "Defense Evasion", "T1578.002", "Modify Cloud Compute Infrastructure: Create Cloud Instance"
)
TRANSFER_TO_CLOUD_ACCOUNT = _attack("TA0010", "Exfiltration", "T1537", "Transfer Data to Cloud Account")
CLOUD_ADMINISTRATION_COMMAND = _attack("TA0002", "Execution", "T1651", "Cloud Administration Command")
CONTAINER_ADMINISTRATION_COMMAND = _attack("TA0002", "Execution", "T1609", "Container Administration Command")
CLOUD_DISCOVERY = _attack("TA0007", "Discovery", "T1580", "Cloud Infrastructure Discovery")
CLOUD_ACCOUNTS = _attack("TA0001", "Initial Access", "T1078.004", "Valid Accounts: Cloud Accounts")


@dataclass(slots=True, frozen=True)
class DetectorInfo:
    id: str
    title: str
    family: str
    severity: Severity
    attack: Attack
    description: str
    kind: Kind = "rule"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "family": self.family,
            "severity": self.severity,
            "kind": self.kind,
            "description": self.description,
            "attack": {
                "tactic_id": self.attack.tactic_id,
                "tactic": self.attack.tactic,
                "technique_id": self.attack.technique_id,
                "technique": self.attack.technique,
            },
        }


_ENTRIES: list[tuple[str, str, str, Severity, Attack, Kind, str]] = [
    # persistence
    (
        "persistence.create_key_other_user",
        "Access key created for another user",
        "persistence",
        "high",
        ADDITIONAL_CLOUD_CREDENTIALS,
        "rule",
        "iam:CreateAccessKey whose userName is not the caller's own user (or any user, when a role calls it), "
        "unless the identity creates keys routinely (settings).",
    ),
    (
        "persistence.login_profile",
        "Console password set on a user",
        "persistence",
        "high",
        ACCOUNT_MANIPULATION,
        "rule",
        "iam:CreateLoginProfile or iam:UpdateLoginProfile: a console password on an identity.",
    ),
    (
        "persistence.iam_user_created",
        "IAM user created by an identity that does not create users",
        "persistence",
        "medium",
        CREATE_CLOUD_ACCOUNT,
        "rule",
        "iam:CreateUser by an identity whose profile holds no earlier CreateUser (provisioning automation stays "
        "quiet).",
    ),
    (
        "persistence.federation_token",
        "Federation token issued",
        "persistence",
        "medium",
        ADDITIONAL_CLOUD_CREDENTIALS,
        "rule",
        "sts:GetFederationToken: temporary credentials that outlive the deletion of the key that made them.",
    ),
    (
        "persistence.roles_anywhere_trust_anchor",
        "IAM Roles Anywhere trust anchor created",
        "persistence",
        "high",
        ADDITIONAL_CLOUD_CREDENTIALS,
        "rule",
        "rolesanywhere:CreateTrustAnchor: certificates from an outside CA can now obtain role credentials.",
    ),
    (
        "persistence.lambda_public_permission",
        "Lambda function opened to anyone or another account",
        "persistence",
        "high",
        ACCOUNT_MANIPULATION,
        "rule",
        'lambda:AddPermission with principal "*" or an account outside the tenant\'s own and trusted accounts.',
    ),
    (
        "privilege.admin_policy_attached",
        "Administrator access granted",
        "privilege",
        "critical",
        ADDITIONAL_CLOUD_ROLES,
        "rule",
        "iam:Attach{User,Role,Group}Policy with AdministratorAccess, or Put{User,Role,Group}Policy / "
        'CreatePolicyVersion with a statement allowing Action "*" on Resource "*".',
    ),
    (
        "privilege.backdoor_trust_policy",
        "Role trust opened to another account or to anyone",
        "privilege",
        "high",
        TRUST_MODIFICATION,
        "rule",
        'iam:UpdateAssumeRolePolicy whose policy lets a principal from a foreign account, or "*", assume the role.',
    ),
    # credential access
    (
        "credentials.secrets_spree",
        "Many secrets read in a short time",
        "credentials",
        "high",
        CLOUD_SECRETS_STORES,
        "sequence",
        "secretsmanager:GetSecretValue on at least N distinct secrets within M minutes (settings).",
    ),
    (
        "credentials.ssm_decrypt_spree",
        "Many SSM parameters decrypted in a short time",
        "credentials",
        "high",
        CLOUD_SECRETS_STORES,
        "sequence",
        "ssm:GetParameter(s/ByPath) with WithDecryption on at least N distinct names within M minutes (settings).",
    ),
    (
        "credentials.ec2_password_data",
        "Windows instance password retrieved",
        "credentials",
        "medium",
        UNSECURED_CREDENTIALS,
        "rule",
        "ec2:GetPasswordData (successful or attempted).",
    ),
    (
        "credentials.instance_credentials_outside",
        "Instance credentials used outside their instance",
        "credentials",
        "high",
        INSTANCE_METADATA,
        "rule",
        "An EC2 instance-profile session (session name i-…, ec2RoleDelivery set) calling from a network and ASN the "
        "role never used: credentials taken from the metadata service and used elsewhere.",
    ),
    (
        "credentials.access_denied_storm",
        "Burst of access denied errors",
        "credentials",
        "medium",
        BRUTE_FORCE,
        "sequence",
        "At least N AccessDenied / UnauthorizedOperation failures within M minutes (settings).",
    ),
    # defense evasion
    (
        "evasion.trail_stopped",
        "CloudTrail logging stopped",
        "evasion",
        "critical",
        CLOUD_LOGS,
        "rule",
        "cloudtrail:StopLogging.",
    ),
    (
        "evasion.trail_deleted",
        "CloudTrail trail deleted",
        "evasion",
        "critical",
        CLOUD_LOGS,
        "rule",
        "cloudtrail:DeleteTrail.",
    ),
    (
        "evasion.trail_selectors_changed",
        "CloudTrail event or insight selectors changed",
        "evasion",
        "medium",
        CLOUD_LOGS,
        "rule",
        "cloudtrail:PutEventSelectors / PutInsightSelectors; high when the new selectors drop management events.",
    ),
    (
        "evasion.flow_logs_deleted",
        "VPC flow logs deleted",
        "evasion",
        "high",
        CLOUD_LOGS,
        "rule",
        "ec2:DeleteFlowLogs.",
    ),
    (
        "evasion.resolver_query_logs_removed",
        "Route 53 resolver query logging removed",
        "evasion",
        "high",
        CLOUD_LOGS,
        "rule",
        "route53resolver:DeleteResolverQueryLogConfig or DisassociateResolverQueryLogConfig.",
    ),
    (
        "evasion.left_organization",
        "Account left its organization",
        "evasion",
        "critical",
        RESOURCE_HIERARCHY,
        "rule",
        "organizations:LeaveOrganization: the account escapes the organization's guardrails and logging.",
    ),
    (
        "evasion.admin_port_open_to_world",
        "SSH or RDP opened to the internet",
        "evasion",
        "high",
        CLOUD_FIREWALL,
        "rule",
        "ec2:AuthorizeSecurityGroupIngress opening an admin port (22, 3389; settings) to 0.0.0.0/0 or ::/0.",
    ),
    # exfiltration
    (
        "exfiltration.image_shared",
        "Machine image shared outside the tenant",
        "exfiltration",
        "high",
        TRANSFER_TO_CLOUD_ACCOUNT,
        "rule",
        'ec2:ModifyImageAttribute adding launch permission for a foreign account or for "all".',
    ),
    (
        "exfiltration.snapshot_shared",
        "Snapshot shared outside the tenant",
        "exfiltration",
        "high",
        TRANSFER_TO_CLOUD_ACCOUNT,
        "rule",
        "ec2:ModifySnapshotAttribute (createVolumePermission) or rds:ModifyDB(Cluster)SnapshotAttribute (restore) "
        'adding a foreign account or "all".',
    ),
    # execution
    (
        "execution.ssm_command",
        "SSM command or session by an identity that does not usually run them",
        "execution",
        "medium",
        CLOUD_ADMINISTRATION_COMMAND,
        "rule",
        "ssm:SendCommand / ssm:StartSession by an identity whose profile holds no earlier call of that action.",
    ),
    (
        "execution.instance_user_data",
        "Instance user data modified",
        "execution",
        "high",
        CLOUD_ADMINISTRATION_COMMAND,
        "rule",
        "ec2:ModifyInstanceAttribute changing userData: a script the instance runs at its next start.",
    ),
    (
        "execution.unusual_instance_launch",
        "Unusual instance launch",
        "execution",
        "medium",
        CREATE_CLOUD_INSTANCE,
        "rule",
        "ec2:RunInstances with at least N instances (high), or, after learning, an instance type or region the "
        "identity never used.",
    ),
    (
        "execution.lambda_code_updated",
        "Lambda code updated by an identity that never deployed it",
        "execution",
        "medium",
        SERVERLESS_EXECUTION,
        "rule",
        "lambda:UpdateFunctionCode by an identity, out of its learning period, whose profile holds no earlier call.",
    ),
    (
        "execution.kubectl_exec_by_service_account",
        "kubectl exec/attach with a service account token",
        "execution",
        "high",
        CONTAINER_ADMINISTRATION_COMMAND,
        "rule",
        "Kubernetes pods create/exec or create/attach by a service account from a kubectl user agent: a person "
        "using a workload's token.",
    ),
    # initial access / misuse
    (
        "access.console_login_without_mfa",
        "Console sign-in without MFA",
        "access",
        "medium",
        CLOUD_ACCOUNTS,
        "rule",
        'signin:ConsoleLogin that succeeded with MFAUsed "No" for an IAM user (high for root).',
    ),
    (
        "access.human_use_of_nhi",
        "A person using a machine identity",
        "access",
        "high",
        CLOUD_ACCOUNTS,
        "rule",
        "ConsoleLogin by an inventoried machine identity, or a browser user agent (Mozilla/…) on its API calls.",
    ),
    (
        "discovery.enumeration_burst",
        "Burst of discovery calls",
        "discovery",
        "medium",
        CLOUD_DISCOVERY,
        "sequence",
        "At least N distinct List*/Describe*/Get* actions within M minutes; after learning only actions new to the "
        "identity count.",
    ),
    # baseline
    (
        "baseline.new_network",
        "Activity from a new network",
        "baseline",
        "low",
        CLOUD_ACCOUNTS,
        "baseline",
        "A source network (/24, /48 or the geo database's network) the identity has not used within the window.",
    ),
    (
        "baseline.new_country",
        "Activity from a new country",
        "baseline",
        "medium",
        CLOUD_ACCOUNTS,
        "baseline",
        "A source country the identity has not used within the window.",
    ),
    (
        "baseline.new_asn",
        "Activity from a new autonomous system",
        "baseline",
        "low",
        CLOUD_ACCOUNTS,
        "baseline",
        "A source ASN (provider) the identity has not used within the window.",
    ),
    (
        "baseline.new_sensitive_action",
        "First use of a sensitive action",
        "baseline",
        "medium",
        CLOUD_ACCOUNTS,
        "baseline",
        "An action from the sensitive list (settings) the identity has not called within the window.",
    ),
    (
        "baseline.dormant_identity",
        "Dormant identity active again",
        "baseline",
        "medium",
        CLOUD_ACCOUNTS,
        "baseline",
        "Activity after at least N days (settings) without any.",
    ),
    (
        "baseline.volume_spike",
        "Unusual volume of activity",
        "baseline",
        "medium",
        CLOUD_ACCOUNTS,
        "baseline",
        "Events in the current hour far above the identity's active-hour baseline (robust z-score on median/MAD, or "
        "EWMA; settings).",
    ),
    (
        "baseline.impossible_travel",
        "Impossible travel",
        "baseline",
        "high",
        CLOUD_ACCOUNTS,
        "baseline",
        "Two consecutive located events whose distance over elapsed time needs more than the speed limit (settings).",
    ),
    (
        "model.rate_anomaly",
        "Anomalous hour of activity (streaming model)",
        "model",
        "low",
        CLOUD_ACCOUNTS,
        "model",
        "A Half-Space Trees model (river) over per-identity hourly features (events, ratio to the identity's median, "
        "distinct actions, error ratio, new values, hour-of-week rarity) scores a closed hour above the threshold.",
    ),
    # inventory (raised by the service, which knows the inventory)
    (
        "inventory.unknown_identity",
        "Activity by an identity missing from the inventory",
        "inventory",
        "medium",
        CLOUD_ACCOUNTS,
        "rule",
        "The first activity of an identity (an access key, a role, a service account) that no inventoried NHI "
        "matches, in a provider the tenant inventories: a discovery gap, or credentials from outside.",
    ),
]

DETECTORS: dict[str, DetectorInfo] = {
    entry[0]: DetectorInfo(
        id=entry[0],
        title=entry[1],
        family=entry[2],
        severity=entry[3],
        attack=entry[4],
        kind=entry[5],
        description=entry[6],
    )
    for entry in _ENTRIES
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(info.family for info in DETECTORS.values()))


def detection(
    detector: str,
    title: str,
    event_ids: list[str],
    explanation: dict[str, Any],
    discriminator: str = "",
    severity: Severity | None = None,
    attack: Attack | None = None,
) -> Detection:
    """A detection with the catalogue's defaults; evidence bounded to the last :data:`EVIDENCE_LIMIT` events."""
    info = DETECTORS[detector]
    return Detection(
        detector=detector,
        title=title,
        severity=severity or info.severity,
        attack=attack or info.attack,
        event_ids=event_ids[-EVIDENCE_LIMIT:],
        explanation=explanation,
        discriminator=discriminator,
    )

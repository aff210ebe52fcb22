"""Rules on identities and credentials: persistence, privilege escalation, credential access, misuse."""

from __future__ import annotations

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Context, Detection
from nexora.analytics.detectors.catalogue import detection
from nexora.analytics.detectors.documents import (
    account_of,
    additional,
    admin_statement,
    base_action,
    caller_user,
    foreign,
    outcome,
    policy_document,
    principal_accounts,
    request,
    response,
    trust_grants,
    versioned,
)
from nexora.analytics.detectors.rules import Rule, calls, history_days, rule
from nexora.analytics.detectors.settings import Compiled
from nexora.analytics.profiles import Profile

RULES: list[Rule] = []
ADMIN_POLICY_NAMES = frozenset({"AdministratorAccess"})


@rule(RULES, "persistence.create_key_other_user", "iam", "CreateAccessKey")
def create_key_other_user(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    target = request(e).get("userName")
    caller = caller_user(e.identity)
    if not target or target == caller:
        return None
    earlier = calls(p, "iam:CreateAccessKey")
    routine = s.settings.routine_key_creations
    if routine and earlier >= routine:
        return None  # provisioning automation creates keys for new users every week
    return detection(
        "persistence.create_key_other_user",
        f"CreateAccessKey for another user ({target})",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} created an access key for user {target}",
            "caller": e.identity.name,
            "caller_user": caller,
            "target_user": target,
            "baseline": {"earlier_create_access_key_calls": earlier, "routine_from": routine or None},
            **outcome(e),
        },
        discriminator=target,
    )


@rule(RULES, "persistence.login_profile", "iam", "CreateLoginProfile", "UpdateLoginProfile")
def login_profile(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    target = request(e).get("userName") or caller_user(e.identity) or e.identity.name
    return detection(
        "persistence.login_profile",
        f"{e.action} for {target}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} set a console password for user {target} ({e.action})",
            "caller": e.identity.name,
            "target_user": target,
            "password_reset_required": request(e).get("passwordResetRequired"),
            "baseline": "machine identities do not sign in to the console",
            **outcome(e),
        },
        discriminator=target,
    )


@rule(RULES, "persistence.iam_user_created", "iam", "CreateUser")
def iam_user_created(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    earlier = calls(p, "iam:CreateUser")
    if earlier:
        return None
    target = request(e).get("userName") or "?"
    return detection(
        "persistence.iam_user_created",
        f"IAM user {target} created by {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} created IAM user {target}",
            "target_user": target,
            "baseline": {"earlier_create_user_calls": earlier, "history_days": history_days(p, t)},
            **outcome(e),
        },
        discriminator=target,
    )


@rule(RULES, "persistence.federation_token", "sts", "GetFederationToken")
def federation_token(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    name = parameters.get("name") or "?"
    return detection(
        "persistence.federation_token",
        f"GetFederationToken ({name}) by {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} requested federation credentials named {name}",
            "federated_user": name,
            "duration_seconds": parameters.get("durationSeconds"),
            "session_policy": "policy" in parameters or "policyArns" in parameters,
            "earlier_calls": calls(p, "sts:GetFederationToken"),
            "baseline": "federation tokens outlive the deletion of the access key that requested them",
            **outcome(e),
        },
        discriminator=name,
    )


@rule(RULES, "persistence.roles_anywhere_trust_anchor", "rolesanywhere", "CreateTrustAnchor")
def roles_anywhere(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    name = parameters.get("name") or "?"
    source = parameters.get("source")
    source = source if isinstance(source, dict) else {}
    return detection(
        "persistence.roles_anywhere_trust_anchor",
        f"Roles Anywhere trust anchor {name} created",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} created trust anchor {name}",
            "source_type": source.get("sourceType"),
            "enabled": parameters.get("enabled"),
            "baseline": "a trust anchor lets certificates from its CA obtain role credentials from outside AWS",
            **outcome(e),
        },
        discriminator=name,
    )


@rule(RULES, "persistence.lambda_public_permission", "lambda", *versioned("AddPermission"))
def lambda_public_permission(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    principal = parameters.get("principal")
    accounts = principal_accounts(principal)
    own = account_of(e.identity)
    outside = [account for account in accounts if foreign(account, own, s.trusted_accounts)]
    if not outside:
        return None
    function = str(parameters.get("functionName") or "?").rsplit(":", 1)[-1]
    return detection(
        "persistence.lambda_public_permission",
        f"Lambda {function} invocable by {'anyone' if '*' in outside else 'account ' + outside[0]}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} granted {parameters.get('action')} on {function} to {principal}",
            "function": function,
            "principal": principal,
            "foreign_accounts": outside,
            "own_account": own,
            "trusted_accounts": sorted(s.trusted_accounts),
            **outcome(e),
        },
        discriminator=function,
        severity="critical" if "*" in outside else None,
    )


_ADMIN_ATTACH = ("AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy")
_ADMIN_PUT = ("PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "CreatePolicyVersion")


@rule(RULES, "privilege.admin_policy_attached", "iam", *_ADMIN_ATTACH, *_ADMIN_PUT)
def admin_policy(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    target = parameters.get("userName") or parameters.get("roleName") or parameters.get("groupName")
    target = target or parameters.get("policyArn") or "?"
    if e.action in _ADMIN_ATTACH:
        arn = str(parameters.get("policyArn") or "")
        if arn.rsplit("/", 1)[-1] not in ADMIN_POLICY_NAMES or ":aws:policy/" not in arn:
            return None
        granted: object = arn
        seen = f"{e.identity.name} attached {arn} to {target}"
    else:
        statement = admin_statement(policy_document(parameters.get("policyDocument")))
        if statement is None:
            return None
        granted = statement
        seen = f"{e.identity.name} put a policy allowing every action on every resource on {target} ({e.action})"
    return detection(
        "privilege.admin_policy_attached",
        f"Administrator access granted to {target}",
        [e.source_event_id],
        {
            "seen": seen,
            "target": target,
            "granted": granted,
            "policy_name": parameters.get("policyName"),
            **outcome(e),
        },
        discriminator=str(target),
    )


@rule(RULES, "privilege.backdoor_trust_policy", "iam", "UpdateAssumeRolePolicy")
def backdoor_trust(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    own = account_of(e.identity)
    grants = trust_grants(policy_document(parameters.get("policyDocument")))
    outside = [(account, conditioned) for account, conditioned in grants if foreign(account, own, s.trusted_accounts)]
    if not outside:
        return None
    role = parameters.get("roleName") or "?"
    anyone = any(account == "*" and not conditioned for account, conditioned in outside)
    return detection(
        "privilege.backdoor_trust_policy",
        f"Trust of role {role} opened to {'anyone' if anyone else ', '.join(a for a, _ in outside)}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} let {', '.join(a for a, _ in outside)} assume role {role}",
            "role": role,
            "foreign_principals": [account for account, _ in outside],
            "conditioned": [conditioned for _, conditioned in outside],
            "own_account": own,
            "trusted_accounts": sorted(s.trusted_accounts),
            **outcome(e),
        },
        discriminator=str(role),
        severity="critical" if anyone else None,
    )


@rule(RULES, "credentials.ec2_password_data", "ec2", "GetPasswordData")
def ec2_password_data(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    instance = request(e).get("instanceId") or "?"
    return detection(
        "credentials.ec2_password_data",
        f"GetPasswordData on {instance}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} asked for the administrator password of {instance}",
            "instance": instance,
            "earlier_calls": calls(p, "ec2:GetPasswordData"),
            **outcome(e),
        },
        discriminator=str(instance),
    )


@rule(RULES, "execution.lambda_code_updated", "lambda", *versioned("UpdateFunctionCode"))
def lambda_code_updated(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    if p.learning(t, s.settings.learning_days):
        return None
    earlier = sum(calls(p, f"lambda:{name}") for name in versioned("UpdateFunctionCode"))
    if earlier:
        return None
    function = str(request(e).get("functionName") or "?").rsplit(":", 1)[-1]
    return detection(
        "execution.lambda_code_updated",
        f"Lambda {function} code updated by {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} replaced the code of {function} ({base_action(e.action)})",
            "function": function,
            "baseline": {"earlier_updates": earlier, "history_days": history_days(p, t)},
            **outcome(e),
        },
        discriminator=function,
    )


@rule(RULES, "access.console_login_without_mfa", "signin", "ConsoleLogin")
def console_login_without_mfa(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    if e.identity.kind not in ("iam_user", "root", "access_key"):
        return None  # federated sign-ins carry the identity provider's MFA, not IAM's
    if additional(e).get("MFAUsed") != "No" or response(e).get("ConsoleLogin") != "Success":
        return None
    root = e.identity.kind == "root"
    return detection(
        "access.console_login_without_mfa",
        f"Console sign-in without MFA by {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} signed in to the console with MFAUsed=No from {e.source_ip}",
            "source_ip": e.source_ip,
            "root": root,
            "mfa_used": False,
        },
        severity="high" if root else None,
    )


@rule(RULES, "access.human_use_of_nhi", "signin", "ConsoleLogin")
def nhi_console_login(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    if not c.attributed:
        return None
    return detection(
        "access.human_use_of_nhi",
        f"Console sign-in as machine identity {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"a console sign-in ({response(e).get('ConsoleLogin') or e.outcome}) as {e.identity.name}",
            "signal": "console_login",
            "nhi_kind": c.nhi_kind,
            "source_ip": e.source_ip,
            "user_agent": e.user_agent,
            "baseline": "machine identities call APIs; they do not sign in to the console",
        },
        discriminator="console_login",
    )


def human_browser(e: ActivityEvent, p: Profile, c: Context) -> Detection | None:
    """A browser user agent on a machine identity's API call, first time within the window (every event)."""
    agent = e.user_agent
    if not agent or not agent.startswith("Mozilla/") or "browser" in p.agents or e.action == "ConsoleLogin":
        return None
    if not (c.attributed or e.identity.kind in ("access_key", "k8s_service_account", "github_token")):
        return None
    usual = sorted(p.agents.items(), key=lambda item: item[1][0], reverse=True)[:5]
    return detection(
        "access.human_use_of_nhi",
        f"Browser used with machine identity {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"{e.action} from a browser ({agent[:120]})",
            "signal": "browser_user_agent",
            "baseline": {"user_agents": {name: entry[0] for name, entry in usual}},
        },
        discriminator="browser",
    )


@rule(RULES, "execution.kubectl_exec_by_service_account", "k8s:pods", "create/exec", "create/attach")
def kubectl_exec(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    if e.identity.kind != "k8s_service_account" or not (e.user_agent or "").startswith("kubectl/"):
        return None
    return detection(
        "execution.kubectl_exec_by_service_account",
        f"kubectl {e.action.split('/')[-1]} as service account {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"kubectl {e.action.split('/')[-1]} into {e.resource} with the token of {e.identity.name}",
            "resource": e.resource,
            "user_agent": e.user_agent,
            "source_ip": e.source_ip,
            "earlier_calls": calls(p, f"{e.service}:{e.action}"),
            "baseline": "workloads call the API through client libraries; kubectl means a person holds the token",
            **outcome(e),
        },
        discriminator=str(e.resource or ""),
    )

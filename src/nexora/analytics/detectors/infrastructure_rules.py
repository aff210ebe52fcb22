"""Rules on infrastructure: logging turned off, data shared out, remote commands, instances launched."""

from __future__ import annotations

from typing import Any

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Context, Detection
from nexora.analytics.detectors.catalogue import detection
from nexora.analytics.detectors.documents import account_of, as_list, foreign, outcome, request
from nexora.analytics.detectors.rules import Rule, calls, history_days, rule
from nexora.analytics.detectors.settings import Compiled
from nexora.analytics.profiles import Profile, network_of

RULES: list[Rule] = []
OPEN_TO_WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _single(detector: str, title: str, e: ActivityEvent, what: str, target: str, **extra: Any) -> Detection:
    return detection(
        detector,
        title,
        [e.source_event_id],
        {"seen": f"{e.identity.name} {what}", "target": target, **extra, **outcome(e)},
        discriminator=target,
    )


@rule(RULES, "evasion.trail_stopped", "cloudtrail", "StopLogging")
def trail_stopped(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    trail = str(request(e).get("name") or "?")
    return _single(
        "evasion.trail_stopped",
        f"CloudTrail {trail.rsplit('/', 1)[-1]} stopped",
        e,
        f"stopped logging of trail {trail}",
        trail,
    )


@rule(RULES, "evasion.trail_deleted", "cloudtrail", "DeleteTrail")
def trail_deleted(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    trail = str(request(e).get("name") or "?")
    return _single(
        "evasion.trail_deleted", f"CloudTrail {trail.rsplit('/', 1)[-1]} deleted", e, f"deleted trail {trail}", trail
    )


def _drops_management_events(parameters: dict[str, Any]) -> bool:
    for selector in as_list(parameters.get("eventSelectors")):
        if not isinstance(selector, dict):
            continue
        if selector.get("includeManagementEvents") is False or selector.get("readWriteType") not in (None, "All"):
            return True
        if selector.get("excludeManagementEventSources"):
            return True
    if "eventSelectors" in parameters and not as_list(parameters.get("eventSelectors")):
        return True
    return False


@rule(RULES, "evasion.trail_selectors_changed", "cloudtrail", "PutEventSelectors", "PutInsightSelectors")
def trail_selectors(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    trail = str(parameters.get("trailName") or "?")
    reduced = e.action == "PutEventSelectors" and _drops_management_events(parameters)
    selectors = parameters.get("eventSelectors") or parameters.get("advancedEventSelectors")
    selectors = selectors or parameters.get("insightSelectors")
    return detection(
        "evasion.trail_selectors_changed",
        f"CloudTrail {trail.rsplit('/', 1)[-1]} selectors changed"
        + (" (management events dropped)" if reduced else ""),
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} called {e.action} on trail {trail}",
            "target": trail,
            "selectors": selectors,
            "management_events_dropped": reduced,
            "earlier_calls": calls(p, f"cloudtrail:{e.action}"),
            **outcome(e),
        },
        discriminator=trail,
        severity="high" if reduced else None,
    )


@rule(RULES, "evasion.flow_logs_deleted", "ec2", "DeleteFlowLogs")
def flow_logs_deleted(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    container = parameters.get("DeleteFlowLogsRequest") or parameters
    ids = container.get("FlowLogId") or container.get("flowLogIds") or container.get("FlowLogIds")
    ids = [str(item.get("content", item)) if isinstance(item, dict) else str(item) for item in as_list(ids)]
    return _single(
        "evasion.flow_logs_deleted",
        f"VPC flow logs deleted ({len(ids)})",
        e,
        f"deleted flow logs {', '.join(ids) or '?'}",
        ",".join(ids),
        flow_logs=ids,
    )


@rule(
    RULES,
    "evasion.resolver_query_logs_removed",
    "route53resolver",
    "DeleteResolverQueryLogConfig",
    "DisassociateResolverQueryLogConfig",
)
def resolver_query_logs(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    config = str(parameters.get("resolverQueryLogConfigId") or "?")
    vpc = parameters.get("resourceId")
    return _single(
        "evasion.resolver_query_logs_removed",
        f"Resolver query logging removed ({config})",
        e,
        f"called {e.action} on {config}" + (f" for {vpc}" if vpc else ""),
        config,
        vpc=vpc,
    )


@rule(RULES, "evasion.left_organization", "organizations", "LeaveOrganization")
def left_organization(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    account = account_of(e.identity) or "?"
    return _single(
        "evasion.left_organization",
        f"Account {account} left its organization",
        e,
        f"made account {account} leave its organization",
        account,
    )


def _permissions(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    permissions = parameters.get("ipPermissions")
    if isinstance(permissions, dict):
        permissions = permissions.get("items")
    found = [item for item in as_list(permissions) if isinstance(item, dict)]
    if not found and ("cidrIp" in parameters or "ipProtocol" in parameters):
        found = [parameters]  # the flat form: AuthorizeSecurityGroupIngress(CidrIp=..., FromPort=...)
    return found


def _ranges(permission: dict[str, Any]) -> list[str]:
    cidrs: list[str] = []
    for key, field in (("ipRanges", "cidrIp"), ("ipv6Ranges", "cidrIpv6")):
        ranges = permission.get(key)
        if isinstance(ranges, dict):
            ranges = ranges.get("items")
        cidrs.extend(str(item.get(field)) for item in as_list(ranges) if isinstance(item, dict))
    if isinstance(permission.get("cidrIp"), str):
        cidrs.append(permission["cidrIp"])
    return cidrs


def _port_range(permission: dict[str, Any]) -> tuple[int, int] | None:
    protocol = str(permission.get("ipProtocol", "tcp")).lower()
    if protocol in ("-1", "all"):
        return (0, 65535)
    if protocol not in ("tcp", "6"):
        return None
    try:
        return int(permission.get("fromPort", 0)), int(permission.get("toPort", permission.get("fromPort", 0)))
    except (TypeError, ValueError):
        return None


@rule(RULES, "evasion.admin_port_open_to_world", "ec2", "AuthorizeSecurityGroupIngress")
def admin_port_open(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    for permission in _permissions(parameters):
        ports = _port_range(permission)
        if ports is None:
            continue
        opened = [port for port in s.admin_ports if ports[0] <= port <= ports[1]]
        world = [cidr for cidr in _ranges(permission) if cidr in OPEN_TO_WORLD]
        if opened and world:
            group = str(parameters.get("groupId") or parameters.get("groupName") or "?")
            return detection(
                "evasion.admin_port_open_to_world",
                f"Port {'/'.join(map(str, opened))} opened to the internet on {group}",
                [e.source_event_id],
                {
                    "seen": f"{e.identity.name} allowed {', '.join(world)} on ports {ports[0]}-{ports[1]} of {group}",
                    "group": group,
                    "ports": opened,
                    "cidrs": world,
                    **outcome(e),
                },
                discriminator=group,
            )
    return None


def _shared_with(e: ActivityEvent, s: Compiled, added: list[Any]) -> list[str]:
    own = account_of(e.identity)
    accounts = []
    for item in added:
        value = item.get("userId") or item.get("group") if isinstance(item, dict) else item
        if value is None:
            continue
        account = "*" if str(value).lower() == "all" else str(value)
        if foreign(account, own, s.trusted_accounts):
            accounts.append("all" if account == "*" else account)
    return accounts


def _added(container: Any) -> list[Any]:
    add = container.get("add") if isinstance(container, dict) else None
    items = add.get("items") if isinstance(add, dict) else add
    return as_list(items)


def _share(detector: str, kind: str, e: ActivityEvent, target: str, accounts: list[str]) -> Detection:
    public = "all" in accounts
    return detection(
        detector,
        f"{kind} {target} shared with {'everyone' if public else ', '.join(accounts)}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} shared {kind.lower()} {target} with {', '.join(accounts)}",
            "target": target,
            "accounts": accounts,
            "public": public,
            **outcome(e),
        },
        discriminator=target,
        severity="critical" if public else None,
    )


@rule(RULES, "exfiltration.image_shared", "ec2", "ModifyImageAttribute")
def image_shared(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    accounts = _shared_with(e, s, _added(parameters.get("launchPermission")))
    if not accounts:
        return None
    return _share("exfiltration.image_shared", "Image", e, str(parameters.get("imageId") or "?"), accounts)


@rule(RULES, "exfiltration.snapshot_shared", "ec2", "ModifySnapshotAttribute")
def snapshot_shared(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    accounts = _shared_with(e, s, _added(parameters.get("createVolumePermission")))
    if not accounts:
        return None
    return _share("exfiltration.snapshot_shared", "Snapshot", e, str(parameters.get("snapshotId") or "?"), accounts)


@rule(RULES, "exfiltration.snapshot_shared", "rds", "ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute")
def db_snapshot_shared(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    if parameters.get("attributeName") != "restore":
        return None
    accounts = _shared_with(e, s, as_list(parameters.get("valuesToAdd")))
    if not accounts:
        return None
    target = parameters.get("dBSnapshotIdentifier") or parameters.get("dBClusterSnapshotIdentifier") or "?"
    return _share("exfiltration.snapshot_shared", "DB snapshot", e, str(target), accounts)


@rule(RULES, "execution.ssm_command", "ssm", "SendCommand", "StartSession")
def ssm_command(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    earlier = calls(p, f"ssm:{e.action}")
    if earlier:
        return None  # automation that runs commands every day stays quiet
    parameters = request(e)
    targets = as_list(parameters.get("instanceIds")) + as_list(parameters.get("target"))
    target = ",".join(str(item) for item in targets) or "?"
    return detection(
        "execution.ssm_command",
        f"{e.action} on {target} by {e.identity.name}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} called {e.action} on {target}",
            "targets": targets,
            "document": parameters.get("documentName"),
            "baseline": {"earlier_calls": earlier, "history_days": history_days(p, t)},
            **outcome(e),
        },
        discriminator=target,
    )


@rule(RULES, "execution.instance_user_data", "ec2", "ModifyInstanceAttribute")
def instance_user_data(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    if "userData" not in parameters and parameters.get("attribute") != "userData":
        return None
    instance = str(parameters.get("instanceId") or "?")
    return _single(
        "execution.instance_user_data",
        f"User data of {instance} modified",
        e,
        f"replaced the user data of {instance}",
        instance,
    )


@rule(RULES, "execution.unusual_instance_launch", "ec2", "RunInstances")
def unusual_launch(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    parameters = request(e)
    count = 0
    for item in as_list((parameters.get("instancesSet") or {}).get("items")):
        if isinstance(item, dict):
            count += int(item.get("maxCount") or item.get("minCount") or 1)
    count = count or 1
    instance_type = parameters.get("instanceType")
    reasons = []
    if count >= s.settings.instance_launch_count:
        reasons.append(f"{count} instances in one call (threshold {s.settings.instance_launch_count})")
    if not p.learning(t, s.settings.learning_days):
        if instance_type and instance_type not in p.instance_types:
            reasons.append(f"instance type {instance_type} never launched by this identity")
        if e.region and e.region not in p.regions:
            reasons.append(f"region {e.region} never used by this identity")
    if not reasons:
        return None
    return detection(
        "execution.unusual_instance_launch",
        f"Unusual launch of {count} {instance_type or 'instances'} in {e.region}",
        [e.source_event_id],
        {
            "seen": f"{e.identity.name} launched {count} x {instance_type} in {e.region}",
            "reasons": reasons,
            "count": count,
            "instance_type": instance_type,
            "region": e.region,
            "baseline": {"instance_types": sorted(p.instance_types), "regions": sorted(p.regions)},
            **outcome(e),
        },
        discriminator=f"{e.region}/{instance_type}",
        severity="high" if count >= s.settings.instance_launch_count else None,
    )


def instance_credentials_outside(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> Detection | None:
    """An instance-profile session used from a network and provider the role never used (every event)."""
    details = e.details
    if not details.get("ec2_role_delivery") or not str(details.get("session_name") or "").startswith("i-"):
        return None
    geo = c.geo
    network = geo.network if geo is not None and geo.network else network_of(e.source_ip)
    if network is None or network in p.networks or p.learning(t, s.settings.learning_days):
        return None
    asn = geo.asn if geo is not None else None
    if asn is not None and str(asn) in p.asns:
        return None  # a new address inside the provider the role always runs in: another instance, not theft
    return detection(
        "credentials.instance_credentials_outside",
        f"Credentials of {details.get('session_name')} used from {e.source_ip}",
        [e.source_event_id],
        {
            "seen": f"{e.action} with the instance credentials of {details.get('session_name')} from {e.source_ip}",
            "source_ip": e.source_ip,
            "network": network,
            "asn": asn,
            "country": geo.country if geo is not None else None,
            "baseline": {"networks": sorted(p.networks)[:20], "asns": sorted(p.asns)},
        },
        discriminator=network,
    )

"""Infrastructure rules: logging, sharing, firewall, remote commands, instance launches, instance credentials."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import Detection, Engine
from nexora.analytics.profiles import Profile
from tests.analytics.detectors.records import (
    ACCOUNT,
    FOREIGN_ACCOUNT,
    START,
    cloudtrail,
    history,
    located,
    only,
    replay,
    role,
    routine_call,
)


def single(event_name: str, detector: str, **fields: object) -> list[Detection]:
    return only(replay(Engine(), Profile(), [cloudtrail(event_name, **fields)]), detector)


def attack_of(detection: Detection) -> tuple[str, str, str]:
    return detection.severity, detection.attack.tactic_id, detection.attack.technique_id


@pytest.mark.parametrize(
    ("event_name", "detector", "request_parameters", "expected"),
    [
        (
            "StopLogging",
            "evasion.trail_stopped",
            {"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail"},
            ("critical", "TA0005", "T1562.008"),
        ),
        ("DeleteTrail", "evasion.trail_deleted", {"name": "org-trail"}, ("critical", "TA0005", "T1562.008")),
        (
            "DeleteFlowLogs",
            "evasion.flow_logs_deleted",
            {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d", "tag": 1}}},
            ("high", "TA0005", "T1562.008"),
        ),
        (
            "DeleteResolverQueryLogConfig",
            "evasion.resolver_query_logs_removed",
            {"resolverQueryLogConfigId": "rqlc-8ca61fe7c055415a"},
            ("high", "TA0005", "T1562.008"),
        ),
        (
            "DisassociateResolverQueryLogConfig",
            "evasion.resolver_query_logs_removed",
            {"resolverQueryLogConfigId": "rqlc-8ca61fe7c055415a", "resourceId": "vpc-0a1b"},
            ("high", "TA0005", "T1562.008"),
        ),
        ("LeaveOrganization", "evasion.left_organization", None, ("critical", "TA0005", "T1666")),
        (
            "ModifyInstanceAttribute",
            "execution.instance_user_data",
            {"instanceId": "i-0a1b2c3d4e5f60718", "userData": "<sensitiveDataRemoved>"},
            ("high", "TA0002", "T1651"),
        ),
    ],
)
def test_single_event_rules_report_with_their_attack_mapping(
    event_name: str, detector: str, request_parameters: dict[str, object] | None, expected: tuple[str, str, str]
) -> None:
    event = cloudtrail(event_name, request=request_parameters)

    found = only(replay(Engine(), Profile(), [event]), detector)

    assert len(found) == 1
    assert attack_of(found[0]) == expected
    assert found[0].event_ids == [event.source_event_id]
    assert found[0].explanation["seen"].startswith("svc-backup ")


def test_deleted_flow_logs_are_named() -> None:
    found = single(
        "DeleteFlowLogs",
        "evasion.flow_logs_deleted",
        request={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d", "tag": 1}}},
    )

    assert found[0].explanation["flow_logs"] == ["fl-0a1b2c3d"]


def test_modify_instance_attribute_without_user_data_is_quiet() -> None:
    assert (
        single(
            "ModifyInstanceAttribute",
            "execution.instance_user_data",
            request={"instanceId": "i-1", "instanceType": {"value": "t3.large"}},
        )
        == []
    )


def test_event_selectors_dropping_management_events_are_high() -> None:
    dropped = {"trailName": "org-trail", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": False}]}
    kept = {
        "trailName": "org-trail",
        "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": True, "dataResources": [{"type": "AWS::S3::Object"}]}
        ],
    }

    reduced = single("PutEventSelectors", "evasion.trail_selectors_changed", request=dropped)
    changed = single("PutEventSelectors", "evasion.trail_selectors_changed", request=kept)
    insights = single(
        "PutInsightSelectors",
        "evasion.trail_selectors_changed",
        request={"trailName": "org-trail", "insightSelectors": []},
    )

    assert attack_of(reduced[0]) == ("high", "TA0005", "T1562.008")
    assert reduced[0].explanation["management_events_dropped"] is True
    assert changed[0].severity == insights[0].severity == "medium"


SSH_TO_WORLD = {
    "groupId": "sg-0123456789abcdef0",
    "ipPermissions": {
        "items": [
            {
                "ipProtocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "groups": {},
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                "ipv6Ranges": {},
                "prefixListIds": {},
            }
        ]
    },
}


def test_ssh_opened_to_the_internet_is_reported() -> None:
    event = cloudtrail("AuthorizeSecurityGroupIngress", request=SSH_TO_WORLD)

    found = only(replay(Engine(), Profile(), [event]), "evasion.admin_port_open_to_world")

    assert attack_of(found[0]) == ("high", "TA0005", "T1562.007")
    assert found[0].explanation["ports"] == [22]
    assert found[0].explanation["cidrs"] == ["0.0.0.0/0"]
    assert found[0].explanation["group"] == "sg-0123456789abcdef0"


def test_rdp_over_ipv6_and_all_traffic_count_as_admin_ports() -> None:
    rdp_v6 = {
        "groupId": "sg-1",
        "ipPermissions": {
            "items": [
                {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]}}
            ]
        },
    }
    everything = {
        "groupId": "sg-2",
        "ipPermissions": {"items": [{"ipProtocol": "-1", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]},
    }

    assert single("AuthorizeSecurityGroupIngress", "evasion.admin_port_open_to_world", request=rdp_v6)
    assert single("AuthorizeSecurityGroupIngress", "evasion.admin_port_open_to_world", request=everything)


def test_https_to_the_world_and_ssh_to_a_private_range_are_quiet() -> None:
    https = {
        "groupId": "sg-1",
        "ipPermissions": {
            "items": [
                {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
            ]
        },
    }
    private_ssh = {
        "groupId": "sg-1",
        "ipPermissions": {
            "items": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}
            ]
        },
    }

    assert single("AuthorizeSecurityGroupIngress", "evasion.admin_port_open_to_world", request=https) == []
    assert single("AuthorizeSecurityGroupIngress", "evasion.admin_port_open_to_world", request=private_ssh) == []


def test_snapshot_shared_with_a_foreign_account_is_exfiltration() -> None:
    request = {
        "snapshotId": "snap-0a1b2c3d",
        "attributeType": "CREATE_VOLUME_PERMISSION",
        "createVolumePermission": {"add": {"items": [{"userId": FOREIGN_ACCOUNT}]}},
    }

    found = single("ModifySnapshotAttribute", "exfiltration.snapshot_shared", request=request)

    assert attack_of(found[0]) == ("high", "TA0010", "T1537")
    assert found[0].explanation["accounts"] == [FOREIGN_ACCOUNT]


def test_public_image_and_db_snapshot_sharing_are_critical() -> None:
    image = {
        "imageId": "ami-0a1b",
        "attributeType": "launchPermission",
        "launchPermission": {"add": {"items": [{"group": "all"}]}},
    }
    database = {"dBSnapshotIdentifier": "prod-db-snap", "attributeName": "restore", "valuesToAdd": ["all"]}

    image_found = single("ModifyImageAttribute", "exfiltration.image_shared", request=image)
    database_found = single("ModifyDBSnapshotAttribute", "exfiltration.snapshot_shared", request=database)

    assert attack_of(image_found[0]) == ("critical", "TA0010", "T1537")
    assert database_found[0].explanation["public"] is True
    assert database_found[0].explanation["target"] == "prod-db-snap"


def test_sharing_within_the_account_or_removing_a_permission_is_quiet() -> None:
    own = {"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": [{"userId": ACCOUNT}]}}}
    removed = {"imageId": "ami-1", "launchPermission": {"remove": {"items": [{"userId": FOREIGN_ACCOUNT}]}}}

    assert single("ModifySnapshotAttribute", "exfiltration.snapshot_shared", request=own) == []
    assert single("ModifyImageAttribute", "exfiltration.image_shared", request=removed) == []


def test_first_ssm_command_of_an_identity_is_reported_and_routine_ones_are_not() -> None:
    engine, profile = Engine(), Profile()
    first = cloudtrail("SendCommand", request={"instanceIds": ["i-0a1b"], "documentName": "AWS-RunShellScript"})
    again = cloudtrail("SendCommand", at=START + timedelta(hours=1), request={"instanceIds": ["i-0a1b"]})

    found = only(replay(engine, profile, [first, again]), "execution.ssm_command")

    assert [detection.event_ids for detection in found] == [[first.source_event_id]]
    assert attack_of(found[0]) == ("medium", "TA0002", "T1651")
    assert found[0].explanation["document"] == "AWS-RunShellScript"
    assert single("StartSession", "execution.ssm_command", request={"target": "i-0a1b"})


def run_instances(count: int, instance_type: str = "t3.micro") -> dict[str, object]:
    return {
        "instancesSet": {"items": [{"imageId": "ami-0a1b", "minCount": count, "maxCount": count}]},
        "instanceType": instance_type,
    }


def test_a_large_launch_is_reported_even_while_learning() -> None:
    found = single("RunInstances", "execution.unusual_instance_launch", request=run_instances(20, "p4d.24xlarge"))

    assert attack_of(found[0]) == ("high", "TA0005", "T1578.002")
    assert found[0].explanation["count"] == 20


def test_a_new_instance_type_or_region_is_reported_after_learning() -> None:
    def launch(at: datetime, index: int) -> ActivityEvent:
        return cloudtrail("RunInstances", at=at, request=run_instances(1))

    profile = Profile()
    end = history(profile, launch, days=10, per_day=2)
    gpu = cloudtrail("RunInstances", at=end + timedelta(hours=1), request=run_instances(2, "p4d.24xlarge"))
    elsewhere = cloudtrail(
        "RunInstances", at=end + timedelta(hours=2), region="ap-southeast-1", request=run_instances(1)
    )
    usual = cloudtrail("RunInstances", at=end + timedelta(hours=3), request=run_instances(1))

    found = only(replay(Engine(), profile, [gpu, elsewhere, usual]), "execution.unusual_instance_launch")

    assert [detection.event_ids[-1] for detection in found] == [gpu.source_event_id, elsewhere.source_event_id]
    assert found[0].severity == "medium"
    assert found[0].explanation["baseline"]["instance_types"] == ["t3.micro"]
    assert "region ap-southeast-1 never used by this identity" in found[1].explanation["reasons"]


INSTANCE = role("web-server", "i-0a1b2c3d4e5f60718", ec2_role_delivery="2.0")
AWS = located("US", 14618, 39.04, -77.49, as_org="AMAZON-AES")


def instance_history(profile: Profile) -> datetime:
    def call(at: datetime, index: int) -> ActivityEvent:
        return cloudtrail("GetObject", at=at, identity=INSTANCE, ip="54.210.10.20", request={"bucketName": "assets"})

    return history(profile, call, days=10, context=AWS)


def test_instance_credentials_used_from_outside_aws_are_reported() -> None:
    profile = Profile()
    end = instance_history(profile)
    stolen = cloudtrail("ListBuckets", at=end + timedelta(minutes=30), identity=INSTANCE, ip="185.220.101.4")
    elsewhere = located("NL", 208294, 52.37, 4.89, as_org="VPS provider")

    found = only(replay(Engine(), profile, [(stolen, elsewhere)]), "credentials.instance_credentials_outside")

    assert attack_of(found[0]) == ("high", "TA0006", "T1552.005")
    assert found[0].explanation["network"] == "185.220.101.0/24"
    assert found[0].explanation["baseline"]["asns"] == ["14618"]


def test_instance_credentials_from_another_aws_address_or_while_learning_are_quiet() -> None:
    profile = Profile()
    end = instance_history(profile)
    new_instance_address = cloudtrail(
        "ListBuckets",
        at=end + timedelta(minutes=30),
        identity=INSTANCE,
        ip="3.91.7.8",
    )
    young = Profile()
    young_event = cloudtrail("ListBuckets", identity=INSTANCE, ip="185.220.101.4")

    assert (
        only(replay(Engine(), profile, [(new_instance_address, AWS)]), "credentials.instance_credentials_outside") == []
    )
    assert (
        only(
            replay(Engine(), young, [(young_event, located("NL", 208294))]), "credentials.instance_credentials_outside"
        )
        == []
    )


def test_a_role_session_that_is_not_an_instance_is_not_instance_credentials() -> None:
    profile = Profile()
    end = history(
        profile,
        lambda at, i: cloudtrail("GetObject", at=at, identity=role("ci"), ip="54.210.10.20"),
        days=10,
        context=AWS,
    )
    event = cloudtrail("ListBuckets", at=end + timedelta(minutes=5), identity=role("ci"), ip="185.220.101.4")

    assert (
        only(replay(Engine(), profile, [(event, located("NL", 208294))]), "credentials.instance_credentials_outside")
        == []
    )


def test_routine_history_of_the_instance_role_raises_nothing() -> None:
    engine, profile = Engine(), Profile()

    history(profile, routine_call, days=10, engine=engine)

    assert profile.events == 120

"""Identity and credential rules: each fires on a real-shaped record and stays quiet on its look-alikes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import Detection, DetectorSettings, Engine
from nexora.analytics.profiles import Profile
from tests.analytics.detectors.records import (
    ACCOUNT,
    BROWSER,
    FOREIGN_ACCOUNT,
    HOME,
    KUBECTL,
    START,
    cloudtrail,
    history,
    k8s,
    located,
    only,
    replay,
    role,
    root,
    routine_call,
    user,
)


def single(event_name: str, detector: str, **fields: object) -> list[Detection]:
    """The detections of ``detector`` on one record against an empty profile."""
    return only(replay(Engine(), Profile(), [cloudtrail(event_name, **fields)]), detector)


def assert_detection(found: list[Detection], severity: str, tactic: str, technique: str) -> Detection:
    assert len(found) == 1, found
    detection = found[0]
    assert (detection.severity, detection.attack.tactic_id, detection.attack.technique_id) == (
        severity,
        tactic,
        technique,
    )
    return detection


ADMIN_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
SCOPED_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


def trust(principal: object) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def test_create_access_key_for_another_user_is_persistence() -> None:
    event = cloudtrail("CreateAccessKey", request={"userName": "bob"})

    found = only(replay(Engine(), Profile(), [event]), "persistence.create_key_other_user")

    detection = assert_detection(found, "high", "TA0003", "T1098.001")
    assert detection.event_ids == [event.source_event_id]
    assert detection.explanation["caller_user"] == "svc-backup"
    assert detection.explanation["target_user"] == "bob"
    assert detection.discriminator == "bob"


def test_create_access_key_for_ones_own_user_is_quiet() -> None:
    assert single("CreateAccessKey", "persistence.create_key_other_user", request={"userName": "svc-backup"}) == []
    assert single("CreateAccessKey", "persistence.create_key_other_user", request={}) == []


def test_provisioning_automation_creating_keys_routinely_goes_quiet_after_three() -> None:
    engine, profile = Engine(), Profile()
    keys = [
        cloudtrail(
            "CreateAccessKey",
            identity=role("provisioner"),
            at=START + timedelta(days=day),
            request={"userName": f"new-hire-{day}"},
        )
        for day in range(5)
    ]

    found = only(replay(engine, profile, keys), "persistence.create_key_other_user")
    every_one = only(
        replay(Engine(DetectorSettings(routine_key_creations=0)), Profile(), keys), "persistence.create_key_other_user"
    )

    assert [detection.explanation["baseline"]["earlier_create_access_key_calls"] for detection in found] == [0, 1, 2]
    assert len(every_one) == 5


def test_a_role_creating_a_key_for_any_user_is_reported() -> None:
    found = single(
        "CreateAccessKey", "persistence.create_key_other_user", identity=role("deployer"), request={"userName": "alice"}
    )

    assert found[0].explanation["caller_user"] is None


def test_administrator_access_attached_to_a_user_is_critical() -> None:
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    event = cloudtrail("AttachUserPolicy", request={"userName": "bob", "policyArn": arn})

    found = only(replay(Engine(), Profile(), [event]), "privilege.admin_policy_attached")

    detection = assert_detection(found, "critical", "TA0004", "T1098.003")
    assert detection.explanation["granted"] == arn
    assert detection.explanation["target"] == "bob"
    assert detection.event_ids == [event.source_event_id]


def test_an_inline_policy_allowing_everything_on_a_role_is_admin() -> None:
    found = single(
        "PutRolePolicy",
        "privilege.admin_policy_attached",
        request={"roleName": "app", "policyName": "x", "policyDocument": ADMIN_DOCUMENT},
    )

    assert found[0].explanation["granted"] == {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert found[0].explanation["policy_name"] == "x"


def test_read_only_and_scoped_policies_are_not_admin() -> None:
    read_only = {"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    customer_named_admin = {"roleName": "app", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"}

    assert single("AttachUserPolicy", "privilege.admin_policy_attached", request=read_only) == []
    assert single("AttachRolePolicy", "privilege.admin_policy_attached", request=customer_named_admin) == []
    assert (
        single(
            "PutUserPolicy",
            "privilege.admin_policy_attached",
            request={"userName": "bob", "policyName": "s3", "policyDocument": SCOPED_DOCUMENT},
        )
        == []
    )


def test_login_profile_on_a_user_is_reported() -> None:
    event = cloudtrail("CreateLoginProfile", request={"userName": "svc-backup", "passwordResetRequired": False})

    found = only(replay(Engine(), Profile(), [event]), "persistence.login_profile")

    detection = assert_detection(found, "high", "TA0003", "T1098")
    assert detection.explanation["target_user"] == "svc-backup"
    assert single("UpdateLoginProfile", "persistence.login_profile", request={"userName": "bob"})


def test_trust_policy_opened_to_a_foreign_account_is_a_backdoor() -> None:
    document = trust({"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"})
    event = cloudtrail("UpdateAssumeRolePolicy", request={"roleName": "admin", "policyDocument": document})

    found = only(replay(Engine(), Profile(), [event]), "privilege.backdoor_trust_policy")

    detection = assert_detection(found, "high", "TA0004", "T1484.002")
    assert detection.explanation["foreign_principals"] == [FOREIGN_ACCOUNT]
    assert detection.explanation["own_account"] == ACCOUNT


def test_trust_policy_opened_to_anyone_is_critical() -> None:
    found = single(
        "UpdateAssumeRolePolicy",
        "privilege.backdoor_trust_policy",
        request={"roleName": "admin", "policyDocument": trust({"AWS": "*"})},
    )

    assert found[0].severity == "critical"


def test_trust_in_the_own_account_a_trusted_account_or_a_service_is_quiet() -> None:
    own = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"})
    service = trust({"Service": "lambda.amazonaws.com"})
    partner = trust({"AWS": FOREIGN_ACCOUNT})
    engine = Engine(DetectorSettings(trusted_accounts=[FOREIGN_ACCOUNT]))

    assert (
        single(
            "UpdateAssumeRolePolicy",
            "privilege.backdoor_trust_policy",
            request={"roleName": "a", "policyDocument": own},
        )
        == []
    )
    assert (
        single(
            "UpdateAssumeRolePolicy",
            "privilege.backdoor_trust_policy",
            request={"roleName": "a", "policyDocument": service},
        )
        == []
    )
    event = cloudtrail("UpdateAssumeRolePolicy", request={"roleName": "a", "policyDocument": partner})
    assert engine.process(event, Profile(), HOME) == []


def test_get_federation_token_is_reported() -> None:
    event = cloudtrail("GetFederationToken", request={"name": "backup", "durationSeconds": 129600})

    found = only(replay(Engine(), Profile(), [event]), "persistence.federation_token")

    detection = assert_detection(found, "medium", "TA0003", "T1098.001")
    assert detection.explanation["duration_seconds"] == 129600
    assert detection.explanation["federated_user"] == "backup"


def test_roles_anywhere_trust_anchor_is_reported() -> None:
    request = {"name": "partner-ca", "source": {"sourceType": "CERTIFICATE_BUNDLE"}, "enabled": True}

    found = single("CreateTrustAnchor", "persistence.roles_anywhere_trust_anchor", request=request)

    detection = assert_detection(found, "high", "TA0003", "T1098.001")
    assert detection.explanation["source_type"] == "CERTIFICATE_BUNDLE"


def test_lambda_permission_for_anyone_is_critical_and_for_a_foreign_account_high() -> None:
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:billing"
    anyone = {"functionName": function, "statementId": "x", "action": "lambda:InvokeFunction", "principal": "*"}
    foreign = {**anyone, "principal": FOREIGN_ACCOUNT}

    public = single("AddPermission20150331v2", "persistence.lambda_public_permission", request=anyone)
    other = single("AddPermission20150331v2", "persistence.lambda_public_permission", request=foreign)

    assert assert_detection(public, "critical", "TA0003", "T1098").explanation["function"] == "billing"
    assert other[0].severity == "high"
    assert other[0].explanation["foreign_accounts"] == [FOREIGN_ACCOUNT]


def test_lambda_permission_for_a_service_or_the_own_account_is_quiet() -> None:
    base = {"functionName": "billing", "action": "lambda:InvokeFunction"}
    assert (
        single(
            "AddPermission20150331v2",
            "persistence.lambda_public_permission",
            request={**base, "principal": "s3.amazonaws.com"},
        )
        == []
    )
    assert (
        single(
            "AddPermission20150331v2", "persistence.lambda_public_permission", request={**base, "principal": ACCOUNT}
        )
        == []
    )


def test_create_user_by_an_identity_that_never_creates_users_is_reported() -> None:
    event = cloudtrail("CreateUser", request={"userName": "backdoor"})

    found = only(replay(Engine(), Profile(), [event]), "persistence.iam_user_created")

    detection = assert_detection(found, "medium", "TA0003", "T1136.003")
    assert detection.explanation["baseline"]["earlier_create_user_calls"] == 0


def test_create_user_by_provisioning_automation_is_quiet() -> None:
    engine, profile = Engine(), Profile()
    replay(engine, profile, [cloudtrail("CreateUser", request={"userName": "new-hire-1"})])

    later = cloudtrail("CreateUser", at=START + timedelta(days=1), request={"userName": "new-hire-2"})

    assert only(replay(engine, profile, [later]), "persistence.iam_user_created") == []


def test_get_password_data_is_reported() -> None:
    found = single(
        "GetPasswordData",
        "credentials.ec2_password_data",
        request={"instanceId": "i-0f1e2d3c4b5a69788"},
        error="AccessDenied",
    )

    detection = assert_detection(found, "medium", "TA0006", "T1552")
    assert detection.explanation["instance"] == "i-0f1e2d3c4b5a69788"
    assert detection.explanation["outcome"] == "failure"


def test_lambda_code_update_by_an_identity_that_never_deployed_is_reported_after_learning() -> None:
    engine, profile = Engine(), Profile()
    end = history(profile, routine_call, days=10)
    event = cloudtrail(
        "UpdateFunctionCode20150331v2",
        at=end + timedelta(hours=1),
        request={"functionName": "billing", "s3Bucket": "x", "s3Key": "y.zip"},
    )

    found = only(replay(engine, profile, [event]), "execution.lambda_code_updated")

    detection = assert_detection(found, "medium", "TA0002", "T1648")
    assert detection.explanation["baseline"]["history_days"] >= 9


def test_lambda_code_update_by_the_deployer_or_during_learning_is_quiet() -> None:
    def deploy(at: datetime, index: int) -> ActivityEvent:
        return cloudtrail("UpdateFunctionCode20150331v2", at=at, request={"functionName": "billing"})

    deployer = Profile()
    end = history(deployer, deploy, days=10, per_day=2)
    event = cloudtrail("UpdateFunctionCode20150331v2", at=end + timedelta(hours=1), request={"functionName": "billing"})

    assert only(replay(Engine(), deployer, [event]), "execution.lambda_code_updated") == []
    assert (
        single("UpdateFunctionCode20150331v2", "execution.lambda_code_updated", request={"functionName": "billing"})
        == []
    )


def test_console_login_without_mfa_is_reported_and_high_for_root() -> None:
    signin = {
        "response": {"ConsoleLogin": "Success"},
        "additional": {"MFAUsed": "No", "LoginTo": "console"},
        "agent": BROWSER,
    }
    event = cloudtrail("ConsoleLogin", identity=user("alice", key=None), **signin)

    found = only(replay(Engine(), Profile(), [(event, located(attributed=False))]), "access.console_login_without_mfa")
    root_login = single("ConsoleLogin", "access.console_login_without_mfa", identity=root(), **signin)

    detection = assert_detection(found, "medium", "TA0001", "T1078.004")
    assert detection.explanation["mfa_used"] is False
    assert root_login[0].severity == "high"


def test_console_login_with_mfa_failed_or_federated_is_quiet() -> None:
    with_mfa = {"ConsoleLogin": "Success"}, {"MFAUsed": "Yes"}
    failed = {"ConsoleLogin": "Failure"}, {"MFAUsed": "No"}
    for response, additional in (with_mfa, failed):
        assert (
            single(
                "ConsoleLogin",
                "access.console_login_without_mfa",
                identity=user("alice", key=None),
                response=response,
                additional=additional,
            )
            == []
        )
    assert (
        single(
            "ConsoleLogin",
            "access.console_login_without_mfa",
            identity=role("AWSReservedSSO_Admin"),
            response={"ConsoleLogin": "Success"},
            additional={"MFAUsed": "No"},
        )
        == []
    )


def test_console_login_as_an_inventoried_machine_identity_is_human_use() -> None:
    event = cloudtrail(
        "ConsoleLogin",
        identity=user("svc-backup", key=None),
        response={"ConsoleLogin": "Success"},
        additional={"MFAUsed": "Yes"},
        agent=BROWSER,
    )

    found = only(replay(Engine(), Profile(), [(event, located(attributed=True))]), "access.human_use_of_nhi")
    person = only(replay(Engine(), Profile(), [(event, located(attributed=False))]), "access.human_use_of_nhi")

    detection = assert_detection(found, "high", "TA0001", "T1078.004")
    assert detection.explanation["signal"] == "console_login"
    assert person == []


def test_a_browser_on_a_machine_keys_api_calls_is_human_use_once() -> None:
    engine, profile = Engine(), Profile()
    first = cloudtrail("ListBuckets", agent=BROWSER)
    second = cloudtrail("ListBuckets", agent=BROWSER, at=START + timedelta(minutes=1))

    found = only(replay(engine, profile, [first, second]), "access.human_use_of_nhi")

    assert [detection.event_ids for detection in found] == [[first.source_event_id]]
    assert found[0].explanation["signal"] == "browser_user_agent"


def test_sdk_user_agents_are_not_human_use() -> None:
    assert single("ListBuckets", "access.human_use_of_nhi") == []


def test_kubectl_exec_with_a_service_account_token_is_reported() -> None:
    event = k8s("create", "pods", subresource="exec", name="api-7d9c", agent=KUBECTL, ip="203.0.113.50")

    found = only(replay(Engine(), Profile(), [event]), "execution.kubectl_exec_by_service_account")

    detection = assert_detection(found, "high", "TA0002", "T1609")
    assert detection.explanation["resource"] == "payments/pods/api-7d9c"
    assert detection.event_ids == [event.source_event_id]
    assert only(
        replay(Engine(), Profile(), [k8s("create", "pods", subresource="attach", name="a", agent=KUBECTL)]),
        "execution.kubectl_exec_by_service_account",
    )


def test_exec_by_a_controller_or_a_person_is_not_service_account_misuse() -> None:
    controller = k8s("create", "pods", subresource="exec", name="api-7d9c")
    person = k8s(
        "create",
        "pods",
        subresource="exec",
        name="api-7d9c",
        agent=KUBECTL,
        service_account=None,
        username="alice@example.com",
    )

    assert only(replay(Engine(), Profile(), [controller, person]), "execution.kubectl_exec_by_service_account") == []

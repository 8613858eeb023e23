"""The offline host: it drives pulumi-policy's servicer the way the engine does, and its verdicts
have the shape `vaultspec plan --json` prints."""

from __future__ import annotations

import copy
import json

import pytest
from google.protobuf import struct_pb2

from tests.policies.builders import (
    STACK,
    analyze_request,
    compliant_stack,
    component,
    diagnostic_setting,
    key,
    secret,
    vault,
)
from vaultspec.engine.analyzer import (
    UNKNOWN,
    PolicyHost,
    RenderedResource,
    Verdict,
    blocking_verdicts,
    has_blocking_violation,
    preview_outputs,
    root_stack_urn,
)

SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
CANARY = "canary-4b1d-secret-value"


def test_verdicts_have_exactly_the_plan_json_fields(judge):
    verdicts = judge([component(), vault(enablePurgeProtection=False)])
    assert verdicts
    for verdict in verdicts:
        assert set(json.loads(verdict.model_dump_json())) == {"policy", "level", "urn", "message", "waived", "reason"}


def test_blocking_helpers_single_out_unwaived_mandatory_verdicts():
    verdicts = [
        Verdict(policy="a", level="mandatory", urn="u", message="m"),
        Verdict(policy="b", level="advisory", urn="u", message="m"),
        Verdict(policy="c", level="advisory", urn="u", message="m", waived=True, reason="r"),
    ]
    assert [v.policy for v in blocking_verdicts(verdicts)] == ["a"]
    assert has_blocking_violation(verdicts) and not has_blocking_violation(verdicts[1:])


def test_resources_are_accepted_as_models_or_plain_dicts_with_extra_keys(judge):
    plain = compliant_stack()
    plain[1]["custom"] = True  # extra keys from the plan's resource list are ignored
    models = [RenderedResource.model_validate(item) for item in compliant_stack()]
    assert judge(plain) == [] and judge(models) == []


def test_inputs_that_are_not_json_like_are_rejected_naming_the_resource(judge):
    item = vault()
    item["inputs"]["properties"]["tenantId"] = object()
    with pytest.raises(ValueError, match="payments-vault"):
        judge([item])


def test_stack_verdicts_without_a_resource_go_to_the_root_stack():
    resources = [RenderedResource.model_validate(item) for item in compliant_stack()]
    assert root_stack_urn(resources) == f"{STACK}pulumi:pulumi:Stack::vaultspec-prod"
    stack = RenderedResource(type="pulumi:pulumi:Stack", name="vaultspec-prod", urn="urn:custom-root")
    assert root_stack_urn([stack, *resources]) == "urn:custom-root"


def test_preview_outputs_follow_azure_native_preview_semantics():
    item = RenderedResource.model_validate(key())
    outputs = preview_outputs(item)
    assert outputs["kty"] == UNKNOWN and outputs["keyUri"] == UNKNOWN  # inputs sit under `properties`
    assert outputs["tags"] == {}
    assert "vaultName" not in outputs and "properties" not in outputs
    owner = RenderedResource.model_validate(vault())
    assert preview_outputs(owner)["name"] == UNKNOWN
    assert preview_outputs(owner)["properties"]["sku"] == {"family": "A", "name": "premium"}
    assert preview_outputs(RenderedResource.model_validate(component())) == {}
    given = RenderedResource.model_validate({**key(), "outputs": {"kty": "EC"}})
    assert preview_outputs(given) == {"kty": "EC"}


def test_engine_encoded_secret_values_are_unwrapped_by_the_servicer_and_never_echoed():
    item = secret(value="placeholder", contentType="")
    properties = struct_pb2.Struct()
    inputs = copy.deepcopy(item["inputs"])
    inputs["properties"]["value"] = {**SECRET_SIG, "value": CANARY}  # as the engine marshals a secret
    properties.update(inputs)
    request = analyze_request(item)
    request.properties.CopyFrom(properties)
    response = PolicyHost().servicer.Analyze(request, None)
    assert [d.policyName for d in response.diagnostics] == ["kv-secret-content-type"]
    assert all(CANARY not in d.message for d in response.diagnostics)


def test_a_reused_host_keeps_no_state_between_runs():
    host = PolicyHost()
    standard = vault(sku={"family": "A", "name": "standard"})
    first = host.analyze(
        [component(), standard, diagnostic_setting(standard), key(owner=standard)], {"all": "mandatory"}
    )
    assert {v.policy for v in first} == {"kv-hsm-requires-premium"}
    premium = vault()
    second = host.analyze([component(), premium, diagnostic_setting(premium), key(owner=premium)])
    assert second == []
    third = host.analyze([component(), vault(publicNetworkAccess="Enabled"), diagnostic_setting(premium)])
    assert [(v.policy, v.level) for v in third] == [("kv-public-network-disabled", "advisory")]

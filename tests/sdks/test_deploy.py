"""The TypeScript example deployed to the twin by the real engine (Node.js host, @pulumi/pulumi from npm).

The program runs in the Node.js language host; `vaultspec:index:KeyVault` is constructed by the
component provider (Python, from `components/`, listed under `packages` in the example's Pulumi.yaml,
run through the Python host's RunPlugin), which registers the azure-native resources the twin's
stand-in provider applies, and binds the smoke tests as resource hooks the engine runs. The twin's ARM
state after it is compared with what the Python example (examples/default, the same vault) leaves in
another twin, through the official management clients.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient

from vaultspec.engine.events import Action
from vaultspec.engine.workspace import ConfigSetting
from vaultspec.sdks.build import EXAMPLES, Built
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import client_options, credential, mgmt_client, secret_client

from .conftest import ExampleStack

VAULT, GROUP = "payments-example-kv", "rg-payments"
POLICIES = EXAMPLES.parent / "policies"
CANARY = "canary-session-key-3f9c2a71"
# what differs between any two deployments of the same declaration: times, object versions, etags
VOLATILE = {"created", "updated", "createdAt", "created_on", "updated_on", "keyUriWithVersion", "secretUriWithVersion"}


def settings() -> list[ConfigSetting]:
    return [
        ConfigSetting("sessionKey", CANARY, secret=True),
        # the twin sees the deployer on loopback; it must pass the vault's firewall for smoke and deletes
        ConfigSetting("allowedIps", '["127.0.0.1/32"]', secret=False),
    ]


def arm_state(twin: TwinInfo) -> dict[str, Any]:
    """The vault, its keys, secrets and role assignments as ARM answers them, with this twin's ids made neutral."""
    with mgmt_client(twin) as arm:
        vault = arm.vaults.get(GROUP, VAULT).as_dict()
        keys = [arm.keys.get(GROUP, VAULT, key.name).as_dict() for key in arm.keys.list(GROUP, VAULT)]
        secrets = [secret.as_dict() for secret in arm.secrets.list(GROUP, VAULT)]
    auth = AuthorizationManagementClient(
        credential(twin), twin.subscription_id, base_url=twin.arm_url, **client_options(twin)
    )
    assignments = [
        {k: v for k, v in a.as_dict().items() if k not in ("id", "name")}  # names hash the subscription id
        for a in auth.role_assignments.list_for_scope(vault["id"])
    ]
    state = {"vault": vault, "keys": keys, "secrets": secrets, "roleAssignments": assignments}
    text = json.dumps(state, sort_keys=True, default=str)
    for value, placeholder in (
        (twin.subscription_id, "<subscription>"),
        (twin.tenant_id, "<tenant>"),
        (twin.default_object_id, "<deployer>"),
        (f":{twin.port}", ":<port>"),
    ):
        text = text.replace(value, placeholder)
    return _without_volatile(json.loads(text))


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return sorted((_without_volatile(v) for v in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


@pytest.fixture
def stacks() -> Iterator[list[ExampleStack]]:
    """Example stacks made by the test; each is removed at the end (its Pulumi.<stack>.yaml with it)."""
    made: list[ExampleStack] = []
    yield made
    for stack in made:
        stack.remove()


def test_the_typescript_example_deploys_the_python_examples_vault_smokes_it_reruns_clean_and_destroys(
    typescript: Built, component_provider: None, twin_factory: Any, stacks: list[ExampleStack]
):
    name = f"test-{uuid.uuid4().hex[:8]}"
    python_twin, typescript_twin = twin_factory("python-example"), twin_factory("typescript-example")

    python = ExampleStack.create(EXAMPLES / "default", python_twin, name, settings())
    stacks.append(python)
    python_log, python_up, python_error = python.up()
    assert python_up is not None, python_error
    expected = arm_state(python_twin)

    typescript_stack = ExampleStack.create(typescript.example_dir, typescript_twin, name, settings())
    stacks.append(typescript_stack)
    log, up, error = typescript_stack.up()
    assert up is not None, error

    # the same resources, created by the component provider on behalf of the TypeScript program
    created = sorted((c.type, c.name) for c in log.changes.values() if c.action == Action.CREATE)
    assert created == sorted((c.type, c.name) for c in python_log.changes.values() if c.action == Action.CREATE)
    assert ("azure-native:keyvault:Key", "payments/keys/signing") in created and len(created) == 6
    actual = arm_state(typescript_twin)
    assert actual == expected
    assert expected["vault"]["properties"]["enableRbacAuthorization"] is True
    assert expected["keys"][0]["properties"]["kty"] == "RSA-HSM"
    assert expected["keys"][0]["properties"]["rotationPolicy"]["lifetimeActions"]
    assert sorted(a["principal_id"] for a in expected["roleAssignments"]) == [
        "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
        "<deployer>",
        "<deployer>",
    ]

    # the smoke hooks bound inside the component provider ran, and passed
    assert sorted((h.name, h.passed) for h in log.hooks) == [
        ("payments/keys/signing", True),
        ("payments/secrets/session-key", True),
    ]
    assert up.outputs["vaultUri"].value == f"{typescript_twin.vault_url(VAULT)}/"

    # the secret's value is the stack's config secret, which went from the Node.js program's stack to the
    # provider as a secret: never in the state file in plain text
    with secret_client(typescript_twin, VAULT) as client:
        assert client.get_secret("session-key").value == CANARY
    state_files = Path(typescript_twin.data_dir, "pulumi", "state").rglob("*.json")
    assert all(CANARY not in path.read_text() for path in state_files)

    # a second run changes nothing, and a refreshed preview agrees
    rerun, rerun_up, rerun_error = typescript_stack.up()
    assert rerun_up is not None, rerun_error
    assert {c.action for c in rerun.changes.values()} == {Action.SAME} and len(rerun.changes) == 6
    assert rerun.hooks == []  # hooks run on create and update only
    typescript_stack.stack.preview(expect_no_changes=True, refresh=True)

    # destroy removes every resource it made: no vault, no role assignment left in the twin
    destroyed = typescript_stack.destroy()
    assert {c.action for c in destroyed.changes.values()} == {Action.DELETE} and len(destroyed.changes) == 6
    with mgmt_client(typescript_twin) as arm, pytest.raises(ResourceNotFoundError):
        arm.vaults.get(GROUP, VAULT)
    deleted = [v.name for v in mgmt_client(typescript_twin).vaults.list_deleted()]
    assert deleted == [VAULT]  # soft-deleted, as Azure keeps it (purge protection)
    left = (typescript_stack.stack.export_stack().deployment or {}).get("resources") or []
    assert [r["type"] for r in left if r["type"].startswith("azure-native:")] == []


def test_plain_pulumi_commands_reach_the_twin_and_the_policy_pack_judges_the_typescript_program(
    typescript: Built, component_provider: None, twin_factory: Any, tmp_path: Path
):
    """What a TypeScript team runs by hand: `eval "$(vaultspec twin pulumi-env)"`, then the Pulumi CLI; with
    `--policy-pack` the guardrails judge the azure-native resources the component provider registers."""
    twin = twin_factory("pulumi-env")
    stack = f"test-{uuid.uuid4().hex[:8]}"
    script, log = tmp_path / "preview.sh", tmp_path / "policy.log"  # the script runs in the example folder
    script.write_text(
        "set -eu\n"
        f'eval "$({sys.executable} -m vaultspec twin pulumi-env --data {twin.data_dir})"\n'
        f"pulumi stack init {stack} >/dev/null\n"
        f"trap 'pulumi stack rm --yes --force {stack} >/dev/null' EXIT\n"
        "pulumi config set --path 'allowedIps[0]' 127.0.0.1/32\n"
        "pulumi preview --non-interactive --color never\n"
        f"if pulumi preview --non-interactive --color never --policy-pack {POLICIES} > {log}; then exit 9; fi\n"
        f"cat {log}\n"
    )
    done = subprocess.run(
        ["bash", str(script)], cwd=typescript.example_dir, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "vaultspec:index:KeyVault" in done.stdout and "+ 8 to create" in done.stdout
    assert "payments/keys/signing" in done.stdout
    policy = done.stdout.split("Policies:", 1)[-1]
    assert "[mandatory] [severity: high]  kv-firewall-ip-rules  (azure-native:keyvault:Vault: payments)" in policy
    assert "ipRules[0].value is not a public range" in policy  # 127.0.0.1/32, as the twin sees its callers
    assert not (typescript.example_dir / f"Pulumi.{stack}.yaml").exists()


def test_a_failing_smoke_hook_fails_the_typescript_programs_update(
    typescript: Built, component_provider: None, twin_factory: Any, stacks: list[ExampleStack]
):
    """Without `allowedIps` the vault's public access is off and the deployer cannot reach its data plane:
    the smoke hooks the provider bound fail, and with them `pulumi up` of the TypeScript program."""
    twin = twin_factory("smoke-fails")
    stack = ExampleStack.create(typescript.example_dir, twin, f"test-{uuid.uuid4().hex[:8]}", settings()[:1])
    stacks.append(stack)
    log, up, error = stack.up()
    assert up is None
    failed = sorted(h.name for h in log.hooks if not h.passed)
    assert failed == ["payments/keys/signing", "payments/secrets/session-key"], error
    assert CANARY not in error and all(CANARY not in d.message for d in log.diagnostics)

"""Other Pulumi languages: the component provider's schema, inferred offline by Pulumi's analyzer."""

from __future__ import annotations

import importlib
import json
import runpy
from importlib.metadata import version
from typing import Any

import pulumi.provider
import pytest
import yaml
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.schema import generate_schema

from vaultspec.components import KeyVault, VaultKey, VaultSecret
from vaultspec.engine.render import render
from vaultspec.engine.stackconfig import StackConfig

from .conftest import KEY, ROLE, ROOT, SECRET, VAULT

COMPONENTS = [KeyVault, VaultKey, VaultSecret]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = Analyzer("vaultspec").analyze(COMPONENTS)
    return generate_schema(
        "vaultspec",
        "0.1.0",
        None,
        result["component_definitions"],
        result["type_definitions"],
        list(result["dependencies"]),
    ).to_json()


def test_schema_has_the_three_components_under_their_tokens(schema: dict[str, Any]):
    assert set(schema["resources"]) == {
        "vaultspec:index:KeyVault",
        "vaultspec:index:VaultKey",
        "vaultspec:index:VaultSecret",
    }
    assert all(resource["isComponent"] for resource in schema["resources"].values())


def test_key_vault_inputs_outputs_and_types_are_in_the_schema(schema: dict[str, Any]):
    key_vault = schema["resources"]["vaultspec:index:KeyVault"]
    assert set(key_vault["requiredInputs"]) == {"resourceGroupName", "location", "access"}
    assert {"vaultName", "tenantId", "sku", "softDelete", "network", "keys", "secrets", "diagnostics", "lock"} <= set(
        key_vault["inputProperties"]
    )
    assert key_vault["inputProperties"]["keys"]["items"]["$ref"] == "#/types/vaultspec:index:KeyArgs"
    assert set(key_vault["properties"]) == {"vaultId", "vaultName", "vaultUri", "keyIds", "secretIds"}
    assert "tenantId" in key_vault["inputProperties"] and "plain" not in key_vault["inputProperties"]["tenantId"]
    types = schema["types"]
    assert {"ops", "name", "type"} <= set(types["vaultspec:index:KeyArgs"]["required"])
    assert set(types["vaultspec:index:GrantArgs"]["required"]) == {"principal"}
    assert "fromEnv" in types["vaultspec:index:SecretValueArgs"]["properties"]


def test_plugin_manifest_runs_the_host_with_python():
    manifest = yaml.safe_load((ROOT / "components" / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"


def test_importing_the_host_module_starts_nothing_and_running_it_hosts_all_components(monkeypatch):
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(pulumi.provider, "main", lambda provider, args: calls.append((provider, args)))
    module = importlib.import_module("vaultspec.components.__main__")
    assert calls == []
    runpy.run_path(module.__file__, run_name="__main__")
    [(provider, _)] = calls
    served = json.loads(provider.schema)
    assert set(served["resources"]) == {
        "vaultspec:index:KeyVault",
        "vaultspec:index:VaultKey",
        "vaultspec:index:VaultSecret",
    }
    assert served["version"] == version("vaultspec")  # the SDKs carry the distribution's version


def test_the_host_serves_the_schema_of_the_components_themselves(schema: dict[str, Any]):
    """Wrapping the constructors for the smoke hooks changes nothing in the schema (descriptions included)."""
    from vaultspec.components.__main__ import ComponentHost

    served = json.loads(ComponentHost().schema)
    assert served["resources"] == schema["resources"] and served["types"] == schema["types"]


KEY_VAULT_INPUTS = {
    "resourceGroupName": "rg-app",
    "location": "westeurope",
    "access": {"model": "rbac"},
    "keys": [{"name": "k1", "type": "EC-HSM", "ops": ["sign", "verify"]}],
    "secrets": [{"name": "s1", "value": {"generate": {"length": 16}}}],
}


def constructed_by_the_host(config: dict[str, Any]) -> Any:
    """What the host's Construct builds for a KeyVault from another language (rendered under mocks)."""
    from vaultspec.components.__main__ import ComponentHost

    host = ComponentHost()
    args = host.map_inputs(KEY_VAULT_INPUTS, host._component_defs["KeyVault"])
    return render(lambda: host._components["KeyVault"]("app-kv", args, None), config=StackConfig(config), preview=False)


def test_the_host_binds_the_smoke_hooks_to_every_key_and_secret():
    rendering = constructed_by_the_host({})
    assert rendering.find(KEY, "app-kv/keys/k1").options.hooks == {
        "after_create": ["vaultspec-smoke-app-kv-keys-k1"],
        "after_update": ["vaultspec-smoke-app-kv-keys-k1"],
    }
    assert rendering.find(SECRET, "app-kv/secrets/s1").options.hooks["after_create"] == [
        "vaultspec-smoke-app-kv-secrets-s1"
    ]


def test_stack_config_vaultspec_smoke_false_binds_no_hooks():
    rendering = constructed_by_the_host({"vaultspec:smoke": "false"})
    assert all(resource.options.hooks == {} for resource in rendering.resources)


def test_provider_mode_inputs_build_the_same_component():
    """What another language sends (camelCase, plain dicts) is mapped to snake_case dicts the component takes."""
    provider = ComponentProvider(COMPONENTS, "vaultspec")
    inputs = {
        "resourceGroupName": "rg-app",
        "location": "westeurope",
        "access": {
            "model": "rbac",
            "grants": [
                {
                    "principal": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
                    "principalType": "ServicePrincipal",
                    "role": "Key Vault Crypto User",
                    "scope": "keys/k1",
                }
            ],
        },
        "keys": [{"name": "k1", "type": "RSA-HSM", "size": 4096, "ops": ["wrapKey", "unwrapKey"]}],
    }
    args = provider.map_inputs(inputs, provider._component_defs["KeyVault"])
    rendering = render(lambda: KeyVault("app-kv", args))
    assert rendering.find(VAULT, "app-kv").inputs["properties"]["enableRbacAuthorization"] is True
    assert rendering.find(KEY, "app-kv/keys/k1").inputs["properties"]["keySize"] == 4096
    assert len(rendering.of_type(ROLE)) == 3  # two for the (lifecycle) deployer, one grant

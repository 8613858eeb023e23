"""Two explicit choices in the rendered vault: the subnet service-endpoint check and the audit-log table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vaultspec.engine.recording import Rendering

from .conftest import DIAGNOSTICS, VAULT, WORKSPACE

SUBNET = (
    "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers"
    "/Microsoft.Network/virtualNetworks/vnet/subnets/apps"
)


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("", False),
        ("ignoreMissingVnetServiceEndpoint: false, ", False),
        ("ignoreMissingVnetServiceEndpoint: true, ", True),
    ],
)
def test_the_subnet_service_endpoint_check_is_the_specs_choice(
    render_vaults: Callable[..., Rendering], choice: str, sent: bool
):
    rendering = render_vaults(
        f"""\
        - name: alpha-kv
          network: {{publicAccess: enabled, {choice}subnetIds: [{SUBNET}]}}
          access: {{model: rbac}}
        """
    )
    acls = rendering.find(VAULT, "alpha-kv").inputs["properties"]["networkAcls"]
    assert acls["virtualNetworkRules"] == [{"id": SUBNET, "ignoreMissingVnetServiceEndpoint": sent}]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("", "Dedicated"),
        ("logAnalyticsDestinationType: Dedicated, ", "Dedicated"),
        ("logAnalyticsDestinationType: AzureDiagnostics, ", None),
    ],
)
def test_audit_logs_go_to_resource_specific_tables_unless_the_spec_says_otherwise(
    render_vaults: Callable[..., Rendering], choice: str, expected: str | None
):
    rendering = render_vaults(
        f"""\
        - name: alpha-kv
          access: {{model: rbac}}
          diagnostics: {{{choice}workspaceId: {WORKSPACE}}}
        """
    )
    setting = rendering.find(DIAGNOSTICS, "alpha-kv/diagnostics").inputs
    assert setting.get("logAnalyticsDestinationType") == expected  # ARM: "Dedicated", or absent (AzureDiagnostics)
    assert setting["logs"] == [{"categoryGroup": "audit", "enabled": True}]

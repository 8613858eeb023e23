"""Network exposure of a vault: public network access, the firewall and its IP allow-list."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.policies.rule import Rule, Sources, Subject, resource_rule
from vaultspec.policies.rules.vault import is_vault
from vaultspec.policies.wire import dig, same_text, sequence, text

DOCS = "https://learn.microsoft.com/azure/key-vault/general/network-security"
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _public_network(subject: Subject) -> Iterator[str]:
    access = dig(subject.props, "properties", "publicNetworkAccess")
    if access is None:
        yield "properties.publicNetworkAccess is not set (Key Vault defaults to Enabled)"
    elif not same_text(access, "Disabled"):
        yield "properties.publicNetworkAccess is not Disabled: the data plane is reachable from the internet"


def _firewall_default_deny(subject: Subject) -> Iterator[str]:
    acls = dig(subject.props, "properties", "networkAcls")
    if acls is None:
        yield "properties.networkAcls is not set: the firewall allows every network"
        return
    if not same_text(dig(acls, "defaultAction"), "Deny"):
        yield "properties.networkAcls.defaultAction is not Deny: networks outside the allow-lists get in"
    bypass = text(dig(acls, "bypass"))
    allowed = {"none", "azureservices"} if subject.settings["allowAzureServicesBypass"] else {"none"}
    if bypass is None:
        yield "properties.networkAcls.bypass is not set (Key Vault defaults to AzureServices): set it to None"
    elif bypass not in allowed:
        yield "properties.networkAcls.bypass is not None: trusted Azure services pass the firewall"


def _parse_network(value: object) -> IpNetwork | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def _firewall_ip_rules(subject: Subject) -> Iterator[str]:
    rules = sequence(dig(subject.props, "properties", "networkAcls", "ipRules"))
    minimum = {4: int(subject.settings["minimumPrefixLength"]), 6: int(subject.settings["minimumIPv6PrefixLength"])}
    allowed = [network for network in map(_parse_network, subject.settings["allowedRanges"]) if network]
    for index in range(len(rules)):
        where = f"properties.networkAcls.ipRules[{index}].value"
        network = _parse_network(dig(rules, index, "value"))
        if network is None:
            yield f"{where} is not an IP address or CIDR range"
            continue
        if network.prefixlen < minimum[network.version]:
            yield f"{where} is broader than /{minimum[network.version]}: it opens the vault to too many addresses"
        elif not network.is_global:
            yield (
                f"{where} is not a public range: the Key Vault firewall only matches public client addresses "
                "(use virtualNetworkRules or a private endpoint for private traffic)"
            )
        if allowed and not any(
            network.version == outer.version and network.subnet_of(outer)  # type: ignore[arg-type]
            for outer in allowed
        ):
            yield f"{where} is outside the allowed ranges"


_FIREWALL = Sources(
    azure_policy=("55615ac9-af46-4a59-874e-391cc3dfb490",),
    mcsb=("NS-2", "DP-8"),
    checkov=("CKV_AZURE_109",),
    trivy=("AVD-AZU-0013",),
    other=("PSRule Azure.KeyVault.Firewall",),
)

RULES: list[Rule] = [
    resource_rule(
        name="kv-public-network-disabled",
        display_name="Key Vault public network access disabled",
        description="Key vaults should disable public network access.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.HIGH,
        sources=Sources(
            azure_policy=("405c5871-3e91-4644-8a63-58e19d68ff5b",),
            mcsb=("NS-2",),
            checkov=("CKV_AZURE_189",),
            kics=("e8d97749-2fc2-42d8-b029-6b2153b230e2",),
        ),
        remediation=(
            "Set properties.publicNetworkAccess to Disabled and reach the vault through a private endpoint "
            "(vaultspec: network.publicAccess: disabled)."
        ),
        url=f"{DOCS}",
        applies_to=is_vault,
        check=_public_network,
    ),
    resource_rule(
        name="kv-firewall-default-deny",
        display_name="Key Vault firewall denies by default",
        description="Key vault firewalls should deny by default and let no trusted-service bypass through.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=_FIREWALL,
        remediation=(
            "Set properties.networkAcls to {defaultAction: Deny, bypass: None} and list the allowed networks in "
            "ipRules / virtualNetworkRules (vaultspec: network.defaultAction: Deny, network.bypass: None)."
        ),
        url=f"{DOCS}",
        applies_to=is_vault,
        check=_firewall_default_deny,
        parameters={
            "allowAzureServicesBypass": {
                "type": "boolean",
                "default": False,
                "description": "Accept bypass: AzureServices (needed by some services, e.g. Azure Backup).",
            }
        },
    ),
    resource_rule(
        name="kv-firewall-ip-rules",
        display_name="Key Vault firewall IP allow-list hygiene",
        description=(
            "Key vault firewall IP rules must be valid, public and narrow: no 0.0.0.0/0 or other ranges broader "
            "than the configured prefix length, nothing outside the allowed ranges."
        ),
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=_FIREWALL,
        remediation=(
            "List single egress addresses or narrow CIDR ranges in properties.networkAcls.ipRules; use "
            "virtualNetworkRules or private endpoints for traffic from Azure networks."
        ),
        url=f"{DOCS}#key-vault-firewall-enabled-ipv4-addresses-and-ranges---static-ips",
        applies_to=is_vault,
        check=_firewall_ip_rules,
        parameters={
            "minimumPrefixLength": {
                "type": "integer",
                "minimum": 0,
                "maximum": 32,
                "default": 24,
                "description": "Shortest accepted IPv4 prefix (/24 = 256 addresses).",
            },
            "minimumIPv6PrefixLength": {
                "type": "integer",
                "minimum": 0,
                "maximum": 128,
                "default": 48,
                "description": "Shortest accepted IPv6 prefix.",
            },
            "allowedRanges": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "When not empty, every IP rule must fall inside one of these CIDR ranges.",
            },
        },
    ),
]

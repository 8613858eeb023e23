"""Annotated field types for the spec: Azure naming rules, GUIDs, durations, ARM ids.

Each type validates where it is declared and explains the rule in its message, so a user sees
what Azure expects rather than a bare regex.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_OBJECT_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{0,89}[-\w_()]$")
_LOCATION = re.compile(r"^[a-z][a-z0-9]{2,39}$")
_DURATION = re.compile(r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$")
_ARM_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/[A-Za-z.]+/[^/].*[^/]$")
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z][A-Za-z0-9_.-]*)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POLICY_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")
_TAG_NAME_FORBIDDEN = set("<>%&\\?/")


def _vault_name(value: str) -> str:
    if not _VAULT_NAME.match(value) or "--" in value:
        raise ValueError(
            "vault names are 3-24 characters of letters, digits and hyphens, start with a letter, "
            "end with a letter or digit and never contain '--'"
        )
    return value


def _object_name(value: str) -> str:
    if not _OBJECT_NAME.match(value):
        raise ValueError("key and secret names are 1-127 characters of letters, digits and hyphens")
    return value


def _guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError("expected a GUID such as 00000000-0000-0000-0000-000000000000")
    return value.lower()


def _resource_group(value: str) -> str:
    if not _RESOURCE_GROUP.match(value):
        raise ValueError(
            "resource group names are 1-90 characters of letters, digits, '_', '-', '.', '(' and ')', not ending in '.'"
        )
    return value


def _location(value: str) -> str:
    if not _LOCATION.match(value):
        raise ValueError("expected an Azure region name such as westeurope (lowercase, no spaces)")
    return value


def duration_days(value: str) -> float:
    """Approximate length of an ISO-8601 date duration in days (year = 365, month = 30)."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(value)
    parts = {k: int(v) for k, v in match.groupdict(default="0").items()}
    return parts["years"] * 365 + parts["months"] * 30 + parts["weeks"] * 7 + parts["days"]


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError("expected an ISO-8601 duration of years, months, weeks or days, such as P90D or P1Y")
    return value


def _arm_id(value: str) -> str:
    if not _ARM_ID.match(value):
        raise ValueError(
            "expected an Azure resource id: /subscriptions/<guid>/resourceGroups/<rg>/providers/<namespace>/..."
        )
    return value


def _subnet_id(value: str) -> str:
    _arm_id(value)
    if "/providers/microsoft.network/virtualnetworks/" not in value.lower() or "/subnets/" not in value.lower():
        raise ValueError("expected a subnet id: .../providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<s>")
    return value


def _workspace_id(value: str) -> str:
    _arm_id(value)
    if "/providers/microsoft.operationalinsights/workspaces/" not in value.lower():
        raise ValueError(
            "expected a Log Analytics workspace id: .../providers/Microsoft.OperationalInsights/workspaces/<name>"
        )
    return value


def _ip_rule(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(
            "expected an IPv4 address or CIDR range with no host bits set, such as 203.0.113.0/24"
        ) from None
    if network.version != 4:
        raise ValueError("Key Vault firewall rules take IPv4 addresses and ranges only")
    return value


def _config_key(value: str) -> str:
    if not _CONFIG_KEY.match(value):
        raise ValueError("expected a Pulumi config key such as dbPassword or myproject:dbPassword")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("expected an environment variable name such as DB_PASSWORD")
    return value


def _policy_name(value: str) -> str:
    if not _POLICY_NAME.match(value):
        raise ValueError("expected a policy name such as kv-public-network-disabled")
    return value


def _tags(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not name or len(name) > 512 or _TAG_NAME_FORBIDDEN & set(name):
            raise ValueError(f"tag name '{name}' must be 1-512 characters without any of < > % & \\ ? /")
        if len(text) > 256:
            raise ValueError(f"tag '{name}' has a value longer than 256 characters")
    return value


def _pattern(regex: re.Pattern[str] | str) -> Any:
    """Mirror a rule as a JSON Schema pattern so editors flag it while typing."""
    return Field(json_schema_extra={"pattern": regex if isinstance(regex, str) else regex.pattern})


VaultName = Annotated[str, AfterValidator(_vault_name), _pattern(r"^(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")]
ObjectName = Annotated[str, AfterValidator(_object_name), _pattern(_OBJECT_NAME)]
Guid = Annotated[str, AfterValidator(_guid), _pattern(_GUID)]
ResourceGroupName = Annotated[str, AfterValidator(_resource_group)]
Location = Annotated[str, AfterValidator(_location)]
Duration = Annotated[str, AfterValidator(_duration), _pattern(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$")]
ArmId = Annotated[str, AfterValidator(_arm_id)]
SubnetId = Annotated[str, AfterValidator(_subnet_id)]
WorkspaceId = Annotated[str, AfterValidator(_workspace_id)]
IpRule = Annotated[str, AfterValidator(_ip_rule)]
ConfigKey = Annotated[str, AfterValidator(_config_key)]
EnvName = Annotated[str, AfterValidator(_env_name)]
PolicyName = Annotated[str, AfterValidator(_policy_name)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]

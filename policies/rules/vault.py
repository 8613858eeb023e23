"""Vault recoverability, permission model and platform access (`azure-native:keyvault:Vault`)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.policies.rule import Rule, Sources, Subject, resource_rule
from vaultspec.policies.wire import dig, is_type, number

DOCS = "https://learn.microsoft.com/azure/key-vault/general"
AZURE_DEFAULT_RETENTION_DAYS = 90  # what Key Vault applies when softDeleteRetentionInDays is absent
ENABLED_FOR_FLAGS = ("enabledForDeployment", "enabledForDiskEncryption", "enabledForTemplateDeployment")


def is_vault(resource_type: str) -> bool:
    return is_type(resource_type, "keyvault", "Vault")


def _purge_protection(subject: Subject) -> Iterator[str]:
    if dig(subject.props, "properties", "enablePurgeProtection") is not True:
        yield (
            "properties.enablePurgeProtection is not true: a deleted vault, key or secret can be purged "
            "before its retention period ends, and nothing can bring it back"
        )


def _soft_delete_enabled(subject: Subject) -> Iterator[str]:
    if dig(subject.props, "properties", "enableSoftDelete") is False:
        yield "properties.enableSoftDelete is false: deleting the vault or an object destroys it immediately"


def _soft_delete_retention(subject: Subject) -> Iterator[str]:
    minimum = int(subject.settings["minimumRetentionDays"])
    days = number(dig(subject.props, "properties", "softDeleteRetentionInDays"))
    if days is None:
        if minimum > AZURE_DEFAULT_RETENTION_DAYS:
            yield (
                f"properties.softDeleteRetentionInDays is not set (Key Vault defaults to "
                f"{AZURE_DEFAULT_RETENTION_DAYS} days), below the required minimum of {minimum} days"
            )
    elif days < minimum:
        yield f"properties.softDeleteRetentionInDays is below the required minimum of {minimum} days"


def _rbac_authorization(subject: Subject) -> Iterator[str]:
    if dig(subject.props, "properties", "enableRbacAuthorization") is not True:
        yield (
            "properties.enableRbacAuthorization is not true: vault access policies cannot be scoped below the "
            "vault, cannot be managed with PIM, and any vault contributor can grant themselves data access"
        )


def _enabled_for(subject: Subject) -> Iterator[str]:
    allowed = set(subject.settings["allowedFlags"])
    for flag in ENABLED_FOR_FLAGS:
        if flag not in allowed and dig(subject.props, "properties", flag) is True:
            yield f"properties.{flag} is true: an Azure platform service can read secrets from this vault"


_RECOVERABLE = Sources(
    azure_policy=("0b60c0b2-2dc2-4e1c-b5c9-abbed971de53",),
    cis_v2=("8.5",),
    cis_v3=("3.3.5",),
    mcsb=("DP-8",),
    checkov=("CKV_AZURE_110", "CKV_AZURE_42"),
    trivy=("AVD-AZU-0016",),
    kics=("cec6e005-9309-46eb-b34b-456f6eae818b", "7c25f361-7c66-44bf-9b69-022acd5eb4bd"),
    other=("PSRule Azure.KeyVault.PurgeProtect",),
)
_SOFT_DELETE = Sources(
    azure_policy=("1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d",),
    cis_v2=("8.5",),
    cis_v3=("3.3.5",),
    mcsb=("DP-8",),
    checkov=("CKV_AZURE_111",),
    trivy=("AVD-AZU-0016",),
    other=("PSRule Azure.KeyVault.SoftDelete",),
)

RULES: list[Rule] = [
    resource_rule(
        name="kv-purge-protection",
        display_name="Key Vault purge protection",
        description="Key vaults must have purge protection enabled.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=_RECOVERABLE,
        remediation=(
            "Set properties.enablePurgeProtection to true (vaultspec: softDelete.purgeProtection: true). "
            "It cannot be turned off again, which is the point."
        ),
        url=f"{DOCS}/soft-delete-overview#purge-protection",
        applies_to=is_vault,
        check=_purge_protection,
    ),
    resource_rule(
        name="kv-soft-delete-enabled",
        display_name="Key Vault soft delete not disabled",
        description="Key vaults must not disable soft delete.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=_SOFT_DELETE,
        remediation="Remove properties.enableSoftDelete or set it to true.",
        url=f"{DOCS}/soft-delete-overview",
        applies_to=is_vault,
        check=_soft_delete_enabled,
    ),
    resource_rule(
        name="kv-soft-delete-retention",
        display_name="Key Vault soft-delete retention",
        description="Key vaults must keep deleted objects for at least the configured number of days.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.MEDIUM,
        sources=_SOFT_DELETE,
        remediation=(
            "Set properties.softDeleteRetentionInDays to at least the minimum (vaultspec: softDelete.retentionDays). "
            "The retention of an existing vault cannot be changed; plan it at creation."
        ),
        url=f"{DOCS}/soft-delete-overview",
        applies_to=is_vault,
        check=_soft_delete_retention,
        parameters={
            "minimumRetentionDays": {
                "type": "integer",
                "minimum": 7,
                "maximum": 90,
                "default": 90,
                "description": "Smallest accepted softDeleteRetentionInDays (Key Vault allows 7-90).",
            }
        },
    ),
    resource_rule(
        name="kv-rbac-authorization",
        display_name="Key Vault RBAC permission model",
        description="Key vaults should use the Azure RBAC permission model instead of access policies.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(
            azure_policy=("12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5",),
            cis_v2=("8.6",),
            cis_v3=("3.3.6",),
            mcsb=("PA-7",),
            other=("PSRule Azure.KeyVault.RBAC",),
        ),
        remediation=(
            "Set properties.enableRbacAuthorization to true and grant data-plane roles with role assignments "
            "(vaultspec: access.model: rbac)."
        ),
        url=f"{DOCS}/rbac-guide",
        applies_to=is_vault,
        check=_rbac_authorization,
    ),
    resource_rule(
        name="kv-enabled-for-disabled",
        display_name="Key Vault platform access flags off",
        description=(
            "Key vaults should not let Azure platform services (VM deployment, disk encryption, ARM template "
            "deployment) read their secrets unless that access is explicitly allowed."
        ),
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(mcsb=("PA-7", "DP-8")),
        remediation=(
            "Set properties.enabledForDeployment, enabledForDiskEncryption and enabledForTemplateDeployment to "
            "false (vaultspec: leave enabledFor empty), or list the needed flag in allowedFlags."
        ),
        url="https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults",
        applies_to=is_vault,
        check=_enabled_for,
        parameters={
            "allowedFlags": {
                "type": "array",
                "items": {"type": "string", "enum": list(ENABLED_FOR_FLAGS)},
                "uniqueItems": True,
                "default": [],
                "description": "enabledFor* flags that may be true.",
            }
        },
    ),
]

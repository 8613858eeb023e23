"""API versions: no preview versions of the Key Vault resource provider.

pulumi-azure-native 3.x exposes every API version as its own module token, e.g.
`azure-native:keyvault/v20241201preview:Vault`; the default tokens (`azure-native:keyvault:Vault`)
pin a stable version. A preview version has no SLA and can change or disappear.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.policies.rule import Rule, Sources, Subject, resource_rule
from vaultspec.policies.wire import api_version_module


def _is_azure_native(resource_type: str) -> bool:
    return resource_type.startswith("azure-native:")


def _preview_api(subject: Subject) -> Iterator[str]:
    versioned = api_version_module(subject.resource_type)
    if versioned is None:
        return
    module, version = versioned
    if module in set(subject.settings["modules"]) and version.lower().endswith("preview"):
        yield (
            f"the resource type uses a preview API version of the {module} provider: preview APIs have no SLA "
            "and may change or be retired"
        )


RULES: list[Rule] = [
    resource_rule(
        name="kv-preview-api-version",
        display_name="No preview Key Vault API versions",
        description="Key Vault resources must use a stable (non-preview) ARM API version.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.MEDIUM,
        sources=Sources(
            other=("Pulumi compliance-policies azurenative-keyvault-v*preview-*-disallow-preview-resource",),
        ),
        remediation=(
            "Use the default azure-native token (e.g. azure-native:keyvault:Vault) or an explicit stable version."
        ),
        url="https://www.pulumi.com/registry/packages/azure-native/version-guide/",
        applies_to=_is_azure_native,
        check=_preview_api,
        parameters={
            "modules": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["keyvault"],
                "description": "azure-native modules whose preview API versions are forbidden.",
            }
        },
    ),
]

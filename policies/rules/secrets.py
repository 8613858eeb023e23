"""Secret lifecycle and metadata (`azure-native:keyvault:Secret`). The value is never read."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.policies.rule import Rule, Sources, Subject, resource_rule
from vaultspec.policies.rules.expiry import MAXIMUM_VALIDITY_PARAMETER, expiry_findings
from vaultspec.policies.wire import dig, is_type

DOCS = "https://learn.microsoft.com/azure/key-vault/secrets"


def is_secret(resource_type: str) -> bool:
    return is_type(resource_type, "keyvault", "Secret")


def _expiry(subject: Subject) -> Iterator[str]:
    expires = dig(subject.props, "properties", "attributes", "expires")
    yield from expiry_findings(
        "properties.attributes.expires", expires, int(subject.settings["maximumValidityInDays"]), subject.now
    )


def _content_type(subject: Subject) -> Iterator[str]:
    content_type = dig(subject.props, "properties", "contentType")
    if not isinstance(content_type, str) or not content_type.strip():
        yield "properties.contentType is not set: consumers cannot tell a password from a certificate or token"


RULES: list[Rule] = [
    resource_rule(
        name="kv-secret-expiry",
        display_name="Key Vault secret expiry",
        description="Secrets must have an expiry date within the configured maximum validity.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(
            azure_policy=("98728c90-32c7-4049-8429-847dc0f4fe37", "342e8053-e12e-4c44-be01-c3c2f318400f"),
            cis_v2=("8.3", "8.4"),
            cis_v3=("3.3.3", "3.3.4"),
            mcsb=("DP-6",),
            checkov=("CKV_AZURE_41",),
            trivy=("AVD-AZU-0017",),
            kics=("dfa20ffa-f476-428f-a490-424b41e91c7f", "cff9c3f7-e8f0-455f-9fb4-5f72326da96e"),
        ),
        remediation=(
            "Set properties.attributes.expires (epoch seconds) no further ahead than the maximum validity and "
            "rotate the secret before it (vaultspec: secrets[].expires)."
        ),
        url=f"{DOCS}/about-secrets",
        applies_to=is_secret,
        check=_expiry,
        parameters=MAXIMUM_VALIDITY_PARAMETER,
    ),
    resource_rule(
        name="kv-secret-content-type",
        display_name="Key Vault secret content type",
        description="Secrets should have a content type.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.LOW,
        sources=Sources(
            azure_policy=("75262d3e-ba4a-4f43-85f8-9f72c090e5e3",),
            checkov=("CKV_AZURE_114",),
            trivy=("AVD-AZU-0015",),
            kics=("f8e08a38-fc6e-4915-abbe-a7aadf1d59ef",),
        ),
        remediation="Set properties.contentType (e.g. text/plain, application/x-pkcs12) (vaultspec: contentType).",
        url=f"{DOCS}/about-secrets",
        applies_to=is_secret,
        check=_content_type,
    ),
]

"""Key material and lifecycle (`azure-native:keyvault:Key`, inputs under `properties`).

vaultspec's imported keys (`ImportedKey`, a dynamic resource) carry the same wire-form inputs, so
every rule here judges them too: importing a key is never a way around a key rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.policies.rule import Rule, Sources, Subject, resource_rule
from vaultspec.policies.rules.expiry import MAXIMUM_VALIDITY_PARAMETER, duration_days, expiry_findings
from vaultspec.policies.wire import dig, is_set, is_type, number, same_text, sequence, text

DOCS = "https://learn.microsoft.com/azure/key-vault/keys"
KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM")
HSM_TYPES = frozenset({"rsa-hsm", "ec-hsm"})
RSA_TYPES = frozenset({"rsa", "rsa-hsm"})
EC_TYPES = frozenset({"ec", "ec-hsm"})
CURVES = ("P-256", "P-256K", "P-384", "P-521")
KEY_VAULT_DEFAULT_RSA_SIZE = 2048
KEY_VAULT_DEFAULT_CURVE = "P-256"


def is_key(resource_type: str) -> bool:
    return is_type(resource_type, "keyvault", "Key") or resource_type == IMPORTED_KEY_TYPE


def _kty(subject: Subject) -> str | None:
    return text(dig(subject.props, "properties", "kty"))


def _hsm_backed(subject: Subject) -> Iterator[str]:
    kty = _kty(subject)
    if kty is None:
        yield "properties.kty is not set"
    elif kty not in HSM_TYPES:
        yield "properties.kty is not an HSM-backed type (RSA-HSM or EC-HSM): the key material is software-protected"


def _allowed_types(subject: Subject) -> Iterator[str]:
    allowed = list(subject.settings["allowedKeyTypes"])
    kty = _kty(subject)
    if kty is None:
        yield "properties.kty is not set"
    elif kty not in {item.lower() for item in allowed}:
        yield f"properties.kty is not one of the allowed key types ({', '.join(allowed)})"


def _rsa_min_size(subject: Subject) -> Iterator[str]:
    if _kty(subject) not in RSA_TYPES:
        return
    minimum = int(subject.settings["minimumRSAKeySize"])
    size = number(dig(subject.props, "properties", "keySize"))
    if size is None:
        if minimum > KEY_VAULT_DEFAULT_RSA_SIZE:
            yield (
                f"properties.keySize is not set (Key Vault creates {KEY_VAULT_DEFAULT_RSA_SIZE}-bit RSA keys), "
                f"below the minimum of {minimum} bits"
            )
    elif size < minimum:
        yield f"properties.keySize is below the minimum of {minimum} bits"


def _ec_curves(subject: Subject) -> Iterator[str]:
    if _kty(subject) not in EC_TYPES:
        return
    allowed = list(subject.settings["allowedECNames"])
    curve = text(dig(subject.props, "properties", "curveName"))
    if curve is None:
        if KEY_VAULT_DEFAULT_CURVE.lower() not in {item.lower() for item in allowed}:
            yield f"properties.curveName is not set (Key Vault uses {KEY_VAULT_DEFAULT_CURVE}), not an allowed curve"
    elif curve not in {item.lower() for item in allowed}:
        yield f"properties.curveName is not one of the allowed curves ({', '.join(allowed)})"


def _expiry(subject: Subject) -> Iterator[str]:
    expires = dig(subject.props, "properties", "attributes", "expires")
    yield from expiry_findings(
        "properties.attributes.expires", expires, int(subject.settings["maximumValidityInDays"]), subject.now
    )


def _rotation(subject: Subject) -> Iterator[str]:
    maximum = int(subject.settings["maximumDaysToRotate"])
    policy = dig(subject.props, "properties", "rotationPolicy")
    if policy is None:
        yield "properties.rotationPolicy is not set: the key is never rotated automatically"
        return
    actions = sequence(dig(policy, "lifetimeActions"))
    rotate_found = False
    rotate_days: list[float] = []
    for index in range(len(actions)):
        if not same_text(dig(actions, index, "action", "type"), "rotate"):
            continue
        rotate_found = True
        where = f"properties.rotationPolicy.lifetimeActions[{index}].trigger"
        after = dig(actions, index, "trigger", "timeAfterCreate")
        before = dig(actions, index, "trigger", "timeBeforeExpiry")
        if after is not None:
            days = duration_days(after)
            if days is None:
                yield f"{where}.timeAfterCreate is not an ISO 8601 duration"
            else:
                rotate_days.append(days)
        elif before is not None:
            lifetime = duration_days(dig(policy, "attributes", "expiryTime"))
            ahead = duration_days(before)
            if lifetime is None or ahead is None:
                yield (
                    f"{where}.timeBeforeExpiry needs ISO 8601 durations in it and in "
                    "properties.rotationPolicy.attributes.expiryTime"
                )
            else:
                rotate_days.append(lifetime - ahead)
        else:
            yield f"{where} has neither timeAfterCreate nor timeBeforeExpiry"
    if not rotate_found:
        yield "properties.rotationPolicy has no Rotate lifetime action: the key is never rotated automatically"
    elif rotate_days and min(rotate_days) > maximum:
        yield f"properties.rotationPolicy rotates the key later than {maximum} days after creation"


def _not_exportable(subject: Subject) -> Iterator[str]:
    if dig(subject.props, "properties", "attributes", "exportable") is True:
        yield "properties.attributes.exportable is true: the private key can leave Key Vault"
    properties = dig(subject.props, "properties")
    if properties is not None and is_set(properties, "releasePolicy"):
        yield "properties.releasePolicy is set: the key can be released to an environment outside Key Vault"


_EXPIRY = Sources(
    azure_policy=("152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0", "49a22571-d204-4c91-a7b6-09b1a586fbc9"),
    cis_v2=("8.1", "8.2"),
    cis_v3=("3.3.1", "3.3.2"),
    mcsb=("DP-6",),
    checkov=("CKV_AZURE_40",),
    trivy=("AVD-AZU-0014",),
    kics=("4d080822-5ee2-49a4-8984-68f3d4c890fc",),
)


def _key_rule(**kwargs: Any) -> Rule:
    return resource_rule(applies_to=is_key, **kwargs)


RULES: list[Rule] = [
    _key_rule(
        name="kv-key-hsm-backed",
        display_name="Key Vault keys HSM-backed",
        description="Keys should be backed by a hardware security module (RSA-HSM or EC-HSM).",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(
            azure_policy=("587c79fe-dd04-4a5e-9d0b-f89598c7261b",),
            mcsb=("DP-6",),
            checkov=("CKV_AZURE_112",),
            kics=("fbb8e5e0-6dea-41d3-8739-4f2405b0e22a",),
        ),
        remediation="Set properties.kty to RSA-HSM or EC-HSM (needs a premium vault).",
        url=f"{DOCS}/about-keys#hsm-protected-keys",
        check=_hsm_backed,
    ),
    _key_rule(
        name="kv-key-allowed-types",
        display_name="Key Vault key types",
        description="Keys should be of a configured cryptographic type.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(azure_policy=("75c4f823-d65c-4f29-a733-01d0077fdbcb",), mcsb=("DP-6",)),
        remediation="Use one of the allowed key types in properties.kty.",
        url=f"{DOCS}/about-keys",
        check=_allowed_types,
        parameters={
            "allowedKeyTypes": {
                "type": "array",
                "items": {"type": "string", "enum": list(KEY_TYPES)},
                "uniqueItems": True,
                "minItems": 1,
                "default": list(KEY_TYPES),
                "description": "Accepted values of properties.kty.",
            }
        },
    ),
    _key_rule(
        name="kv-key-rsa-min-size",
        display_name="Key Vault RSA key size",
        description="RSA keys must have at least the configured key size.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(azure_policy=("82067dbb-e53b-4e06-b631-546d197452d9",), mcsb=("DP-6",)),
        remediation="Set properties.keySize to the minimum or more (3072 or 4096).",
        url=f"{DOCS}/about-keys#key-types-and-protection-methods",
        check=_rsa_min_size,
        parameters={
            "minimumRSAKeySize": {
                "type": "integer",
                "enum": [2048, 3072, 4096],
                "default": 3072,
                "description": "Smallest accepted RSA modulus, in bits.",
            }
        },
    ),
    _key_rule(
        name="kv-key-ec-curves",
        display_name="Key Vault elliptic curves",
        description="Elliptic-curve keys should use a configured curve.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(azure_policy=("ff25f3c8-b739-4538-9d07-3d6d25cfb255",), mcsb=("DP-6",)),
        remediation="Set properties.curveName to an allowed curve (P-256, P-384 or P-521 by default).",
        url=f"{DOCS}/about-keys#curve-types",
        check=_ec_curves,
        parameters={
            "allowedECNames": {
                "type": "array",
                "items": {"type": "string", "enum": list(CURVES)},
                "uniqueItems": True,
                "minItems": 1,
                "default": ["P-256", "P-384", "P-521"],
                "description": "Accepted values of properties.curveName.",
            }
        },
    ),
    _key_rule(
        name="kv-key-expiry",
        display_name="Key Vault key expiry",
        description="Keys must have an expiry date within the configured maximum validity.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=_EXPIRY,
        remediation=(
            "Set properties.attributes.expires (epoch seconds) no further ahead than the maximum validity, and "
            "rotate before it (vaultspec: keys[].expires)."
        ),
        url=f"{DOCS}/about-keys-details#key-attributes",
        check=_expiry,
        parameters=MAXIMUM_VALIDITY_PARAMETER,
    ),
    _key_rule(
        name="kv-key-rotation",
        display_name="Key Vault key rotation",
        description="Keys should have a rotation policy that rotates them within the configured number of days.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(
            azure_policy=("d8cf8476-a2ec-4916-896e-992351803c44",),
            cis_v2=("8.8",),
            cis_v3=("3.3.8",),
            mcsb=("DP-6",),
            other=("PSRule Azure.KeyVault.AutoRotationPolicy",),
        ),
        remediation=(
            "Set properties.rotationPolicy with a Rotate lifetime action triggered timeAfterCreate (e.g. P90D) "
            "within the limit (vaultspec: keys[].rotation.rotateAfterCreate)."
        ),
        url=f"{DOCS}/how-to-configure-key-rotation",
        check=_rotation,
        parameters={
            "maximumDaysToRotate": {
                "type": "integer",
                "minimum": 1,
                "default": 365,
                "description": "Latest accepted rotation, in days after the key version was created.",
            }
        },
    ),
    _key_rule(
        name="kv-key-not-exportable",
        display_name="Key Vault keys not exportable",
        description="Keys should not be exportable or carry a release policy (secure key release).",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.HIGH,
        sources=Sources(mcsb=("DP-6",), other=("Key Vault secure key release",)),
        remediation=(
            "Remove properties.attributes.exportable and properties.releasePolicy unless the key is meant for "
            "confidential-computing key release; waive the rule for such keys with a reason."
        ),
        url=f"{DOCS}/about-keys-details#key-attributes",
        check=_not_exportable,
    ),
]

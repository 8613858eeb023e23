"""Typed arguments of the vaultspec components, usable from plain Python and in provider mode.

Every type is a `TypedDict`: plain Python callers write dict literals (or call the class, which
builds one), and Pulumi's component provider hands other languages' inputs over as plain dicts
with snake_case keys, so one code path (`args["x"]`, `args.get("x")`) serves both.

Provider-mode constraints (pulumi.provider.experimental.analyzer): no `Union` except optional,
no `from __future__ import annotations` (the analyzer reads real annotations), classes at module
top level, unique class names (every type lands in the schema module `index`). Field docstrings
become the schema's descriptions. Closed sets (key types, SKUs) are plain strings checked by the
components with a message naming the input, because the schema has no literal types.

Fields marked `pulumi.Input` may be outputs of other resources; the rest must be known when the
program runs, because they shape the resource graph (names, counts, which resources exist).
"""

from typing import Required, TypedDict

import pulumi


class SoftDeleteArgs(TypedDict, total=False):
    """Soft delete and purge protection of a vault."""

    retention_days: int
    """Days a deleted vault, key or secret stays recoverable (7-90; default 90)."""
    purge_protection: bool
    """Forbid purging before retention ends (default true). Irreversible once on."""


class NetworkArgs(TypedDict, total=False):
    """Public access and firewall of a vault."""

    public_access: str
    """`enabled` or `disabled` (default: disabled, private endpoints only)."""
    default_action: str
    """Firewall action for callers no rule matches: `Allow` or `Deny` (default Deny)."""
    bypass: str
    """`None` (default) or `AzureServices`: whether trusted Azure services bypass the firewall."""
    ip_rules: list[str]
    """IPv4 addresses or CIDR ranges allowed in."""
    subnet_ids: list[str]
    """Virtual network subnet ids allowed in."""
    ignore_missing_vnet_service_endpoint: bool
    """Save subnet rules even when a subnet lacks the Microsoft.KeyVault service endpoint (default false: ARM
    rejects such a rule, which would admit nothing)."""


class GrantArgs(TypedDict, total=False):
    """One data-plane grant: a role (RBAC vaults) or permission lists (access-policy vaults)."""

    principal: Required[pulumi.Input[str]]
    """Object id of the user, group or service principal."""
    principal_type: str
    """RBAC: `User`, `Group` or `ServicePrincipal` (required: Azure's default `User` is wrong for apps)."""
    role: str
    """RBAC: a built-in Key Vault role name (e.g. `Key Vault Crypto User`) or a role definition GUID."""
    scope: str
    """RBAC: `vault` (default), `keys/<declared key>` or `secrets/<declared secret>`."""
    description: str
    """RBAC: why this grant exists (stored on the role assignment)."""
    keys: list[str]
    """Access policies: key permissions (e.g. get, sign, verify)."""
    secrets: list[str]
    """Access policies: secret permissions (e.g. get, list)."""
    certificates: list[str]
    """Access policies: certificate permissions."""


class AccessArgs(TypedDict, total=False):
    """Who may use the vault's data plane, and how."""

    model: Required[str]
    """`rbac` (role assignments) or `accessPolicies` (inline access policies); never both."""
    grants: list[GrantArgs]
    """Data-plane grants."""
    deployer: str
    """Rights of the deploying identity: `lifecycle` (default; use, read, delete and recover: pulumi-azure-native
    deletes keys and secrets through the data plane), `smoke` (use and read only) or `none`."""
    deployer_principal_type: str
    """principalType of the deployer's role assignments, `User` or `ServicePrincipal`; default: read from the
    deploying identity's token (`azure-native:authorization:getClientToken`)."""


class RotationArgs(TypedDict, total=False):
    """Automatic rotation policy of a key (ISO-8601 durations such as P90D)."""

    rotate_after_create: str
    """Rotate this long after each version is created."""
    rotate_before_expiry: str
    """Rotate this long before a version expires."""
    notify_before_expiry: str
    """Emit a near-expiry event this long before expiry."""
    expiry_time: str
    """Lifetime of each new version (at least P28D)."""


class KeyImportArgs(TypedDict, total=False):
    """Where an imported key's material comes from: exactly one of byok, from_config, from_env or value.

    The key is then imported through the data plane instead of generated in the vault."""

    byok: str
    """The content (JSON text) of a .byok key transfer blob from an HSM vendor's BYOK tool, wrapped for `kek`;
    RSA-HSM and EC-HSM keys only. Not a secret: it is encrypted for the vault's key exchange key."""
    kek: str
    """byok: name of the key exchange key (RSA-HSM, ops [import]) in the same vault the blob was wrapped for."""
    public_key: str
    """PEM public key the vault's key must be (an existing key with this public key is adopted)."""
    from_config: str
    """A Pulumi config secret holding the private key (PEM or JWK): `key` or `namespace:key`."""
    from_env: str
    """An environment variable of the deploying process holding the private key (PEM or JWK)."""
    value: pulumi.Input[str]
    """The private key (PEM or JWK) from the program itself; wrapped as a secret."""


class KeyArgs(TypedDict, total=False):
    """A key in a vault."""

    name: Required[str]
    """Key name, unique in the vault."""
    type: Required[str]
    """`RSA`, `RSA-HSM`, `EC` or `EC-HSM` (-HSM types need a premium vault)."""
    size: int
    """RSA only: 2048, 3072 (default) or 4096."""
    curve: str
    """EC only: P-256 (default), P-384, P-521 or P-256K."""
    ops: Required[list[str]]
    """Permitted operations: encrypt, decrypt, sign, verify, wrapKey, unwrapKey; a key exchange key has exactly
    [import]."""
    enabled: bool
    """Whether the key can be used (default true)."""
    expires: str
    """Absolute expiry, RFC 3339 with a time zone (e.g. 2028-06-01T00:00:00Z)."""
    not_before: str
    """Absolute activation time, RFC 3339 with a time zone."""
    rotation: RotationArgs
    """Automatic rotation policy."""
    tags: dict[str, str]
    """Key tags."""
    import_: KeyImportArgs
    """Import the key's material (BYOK blob or private key) instead of generating it in the vault."""


class GenerateArgs(TypedDict, total=False):
    """A value generated once and kept (encrypted) in Pulumi state."""

    length: int
    """Characters in the generated value (default 32)."""
    special: bool
    """Include punctuation characters (default true)."""


class SecretValueArgs(TypedDict, total=False):
    """Where a secret's value comes from: exactly one source. The value is always a Pulumi secret."""

    from_config: str
    """A Pulumi config secret: `key` (project namespace) or `namespace:key`."""
    from_env: str
    """An environment variable of the deploying process."""
    generate: GenerateArgs
    """Generate the value once (pulumi-random) and keep it in state."""
    value: pulumi.Input[str]
    """A value from the program itself (e.g. another resource's output); wrapped as a secret."""


class SecretArgs(TypedDict, total=False):
    """A secret in a vault."""

    name: Required[str]
    """Secret name, unique in the vault."""
    value: Required[SecretValueArgs]
    """Where the value comes from."""
    content_type: str
    """MIME type or free-form hint."""
    enabled: bool
    """Whether the secret can be read (default true)."""
    expires: str
    """Absolute expiry, RFC 3339 with a time zone."""
    not_before: str
    """Absolute activation time, RFC 3339 with a time zone."""
    tags: dict[str, str]
    """Secret tags."""


class DiagnosticsArgs(TypedDict, total=False):
    """Where the vault's audit logs and metrics go."""

    workspace_id: Required[pulumi.Input[str]]
    """Log Analytics workspace id."""
    name: str
    """Diagnostic setting name (default vaultspec-audit)."""
    log_analytics_destination_type: str
    """`Dedicated` (default: resource-specific tables such as AZKVAuditLogs) or `AzureDiagnostics` (the legacy
    shared table)."""


class PolicyExceptionArgs(TypedDict):
    """A waived guardrail, carried as the tag `waiver:<policy>` = reason."""

    policy: str
    """Name of the policy to waive for this vault."""
    reason: str
    """Why (at most 256 characters, ARM's tag value limit)."""


class KeyVaultArgs(TypedDict, total=False):
    """Arguments of a `KeyVault`: the vault and everything in and around it."""

    vault_name: str
    """Globally unique vault name (default: the component's name)."""
    resource_group_name: Required[str]
    """Resource group of the vault."""
    location: Required[str]
    """Azure region, e.g. westeurope."""
    tenant_id: pulumi.Input[str]
    """Tenant of the vault (default: the deploying identity's tenant)."""
    sku: str
    """`premium` (default; needed for -HSM keys) or `standard`."""
    soft_delete: SoftDeleteArgs
    """Soft delete and purge protection."""
    network: NetworkArgs
    """Public access and firewall."""
    access: Required[AccessArgs]
    """Permission model and grants."""
    enabled_for: list[str]
    """Azure services allowed to read secrets: deployment, diskEncryption, templateDeployment (default none)."""
    keys: list[KeyArgs]
    """Keys in the vault."""
    secrets: list[SecretArgs]
    """Secrets in the vault."""
    diagnostics: DiagnosticsArgs
    """Audit logs and metrics destination."""
    lock: str
    """Management lock on the vault: `CanNotDelete` or `ReadOnly`."""
    tags: dict[str, str]
    """Vault tags."""
    exceptions: list[PolicyExceptionArgs]
    """Policy waivers, each with a reason; tagged on the vault, they cover its keys and secrets too."""
    protect: bool
    """Protect the vault and its keys from deletion by Pulumi (default true)."""
    recover: bool
    """A soft-deleted vault of this name exists: recover it (ARM `createMode: recover`) instead of creating
    one. Only read when the vault is created; later runs ignore it (default false)."""


class VaultKeyArgs(KeyArgs, total=False):
    """A key in a vault made elsewhere."""

    vault_name: Required[str]
    """Name of the existing vault."""
    resource_group_name: Required[str]
    """Resource group of the existing vault."""
    vault_uri: pulumi.Input[str]
    """Data-plane endpoint of the vault, for imported keys (default https://<vault_name>.vault.azure.net)."""
    exceptions: list[PolicyExceptionArgs]
    """Policy waivers tagged on the key. Azure cannot change a key's tags, so changing these replaces
    the key: prefer waivers on its vault, which cover its keys."""
    protect: bool
    """Protect the key from deletion by Pulumi (default true)."""


class VaultSecretArgs(SecretArgs, total=False):
    """A secret in a vault made elsewhere."""

    vault_name: Required[str]
    """Name of the existing vault."""
    resource_group_name: Required[str]
    """Resource group of the existing vault."""
    exceptions: list[PolicyExceptionArgs]
    """Policy waivers tagged on the secret."""


__all__ = [
    "AccessArgs",
    "DiagnosticsArgs",
    "GenerateArgs",
    "GrantArgs",
    "KeyArgs",
    "KeyImportArgs",
    "KeyVaultArgs",
    "NetworkArgs",
    "PolicyExceptionArgs",
    "RotationArgs",
    "SecretArgs",
    "SecretValueArgs",
    "SoftDeleteArgs",
    "VaultKeyArgs",
    "VaultSecretArgs",
]

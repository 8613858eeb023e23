"""The vaultspec/v1 document: a typed model of one stack's vaults.

Field names are the YAML names (camelCase) users and tools rely on; unknown fields are errors,
because a typo must never be silently ignored. Rules that span several fields live in
`vaultspec.spec.rules` so every violation can point at its own node.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from vaultspec.catalog.permissions import (
    CERTIFICATE_PERMISSIONS,
    KEY_PERMISSIONS,
    SECRET_PERMISSIONS,
    canonical,
)
from vaultspec.spec.types import (
    ConfigKey,
    Duration,
    EnvName,
    Guid,
    IpRule,
    Location,
    ObjectName,
    PolicyName,
    ResourceGroupName,
    SubnetId,
    Tags,
    VaultName,
    WorkspaceId,
)

API_VERSION = "vaultspec/v1"


class SpecModel(BaseModel):
    """Base: camelCase YAML names only, unknown fields rejected, values immutable after load."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        str_strip_whitespace=True,
    )


class SoftDelete(SpecModel):
    retention_days: int = Field(
        90, ge=7, le=90, description="Days a deleted vault, key or secret stays recoverable (7-90)."
    )
    purge_protection: bool = Field(
        True, description="Forbid purging deleted objects before retention ends. Irreversible once on."
    )


class Network(SpecModel):
    public_access: Literal["enabled", "disabled"] = Field(
        "disabled", description="publicNetworkAccess: 'disabled' allows only private endpoints."
    )
    default_action: Literal["Allow", "Deny"] = Field("Deny", description="Firewall action for callers no rule matches.")
    bypass: Literal["None", "AzureServices"] = Field(
        "None", description="Whether trusted Azure services bypass the firewall."
    )
    ip_rules: list[IpRule] = Field(default_factory=list, description="IPv4 addresses or CIDR ranges allowed in.")
    subnet_ids: list[SubnetId] = Field(default_factory=list, description="Virtual network subnets allowed in.")
    ignore_missing_vnet_service_endpoint: bool = Field(
        False,
        description=(
            "false (default): ARM rejects the deployment when a subnet in subnetIds lacks the Microsoft.KeyVault "
            "service endpoint, so a rule that cannot work is never saved. true: ARM saves the rule anyway; it "
            "admits nothing until the network team enables the endpoint on the subnet."
        ),
    )


class Grant(SpecModel):
    """Who may do what. RBAC grants name a role; access-policy grants list permissions."""

    principal: Guid = Field(description="Object id of the user, group or service principal.")
    principal_type: Literal["User", "Group", "ServicePrincipal"] | None = Field(
        None, description="Required for rbac: Azure's default 'User' is wrong for applications."
    )
    role: str | None = Field(
        None,
        description="rbac: a built-in Key Vault role name (e.g. 'Key Vault Crypto User') or a role GUID.",
    )
    scope: str | None = Field(
        None, description="rbac: 'vault' (default), 'keys/<declared key>' or 'secrets/<declared secret>'."
    )
    description: str | None = Field(None, max_length=1024, description="rbac: why this grant exists.")
    keys: list[str] | None = Field(None, description="accessPolicies: key permissions.")
    secrets: list[str] | None = Field(None, description="accessPolicies: secret permissions.")
    certificates: list[str] | None = Field(None, description="accessPolicies: certificate permissions.")

    @field_validator("keys")
    @classmethod
    def _key_permissions(cls, value: list[str] | None) -> list[str] | None:
        return _permissions(value, KEY_PERMISSIONS, "key")

    @field_validator("secrets")
    @classmethod
    def _secret_permissions(cls, value: list[str] | None) -> list[str] | None:
        return _permissions(value, SECRET_PERMISSIONS, "secret")

    @field_validator("certificates")
    @classmethod
    def _certificate_permissions(cls, value: list[str] | None) -> list[str] | None:
        return _permissions(value, CERTIFICATE_PERMISSIONS, "certificate")

    @property
    def scope_or_vault(self) -> str:
        return self.scope or "vault"


def _permissions(value: list[str] | None, allowed: tuple[str, ...], kind: str) -> list[str] | None:
    if value is None:
        return None
    result = []
    for item in value:
        name = canonical(item, allowed)
        if name is None:
            raise ValueError(f"unknown {kind} permission '{item}'; expected one of: {', '.join(allowed)}")
        if name in result:
            raise ValueError(f"{kind} permission '{name}' is listed twice")
        result.append(name)
    return result


class Access(SpecModel):
    model: Literal["rbac", "accessPolicies"] = Field(
        description="Permission model; one per vault, never both (Azure ignores access policies on RBAC vaults)."
    )
    grants: list[Grant] = Field(default_factory=list, description="Data-plane grants.")
    deployer: Literal["lifecycle", "smoke", "none"] = Field(
        "lifecycle",
        description=(
            "Data-plane rights for the deploying identity: 'lifecycle' (default: use, read, delete and recover "
            "keys and secrets; pulumi-azure-native deletes keys and secrets through the data plane, and vaultspec "
            "recovers soft-deleted ones), 'smoke' (least privilege: use and read only, so removing or replacing a "
            "key or secret fails with 403), or 'none'."
        ),
    )
    deployer_principal_type: Literal["User", "ServicePrincipal"] | None = Field(
        None,
        description=(
            "principalType of the deploying identity's role assignments. Leave it out: it is read from the "
            "deploying identity's token (a person after `az login` is a User, a pipeline's service principal or "
            "managed identity a ServicePrincipal), so one spec serves both."
        ),
    )


class Rotation(SpecModel):
    rotate_after_create: Duration | None = Field(None, description="Rotate this long after each version is created.")
    rotate_before_expiry: Duration | None = Field(None, description="Rotate this long before a version expires.")
    notify_before_expiry: Duration | None = Field(None, description="Emit a near-expiry event this long before expiry.")
    expiry_time: Duration | None = Field(None, description="Lifetime of each new version; at least P28D.")


KeyType = Literal["RSA", "RSA-HSM", "EC", "EC-HSM"]
KeyOp = Literal["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import"]


_IMPORT_SOURCES = ("byok", "from_config", "from_env")
_SECRET_SOURCES = ("from_config", "from_env", "generate")


def chosen_source(model: BaseModel, fields: tuple[str, ...]) -> str:
    """The YAML name of the one source field that is set; ValueError naming the choices unless exactly one is."""
    chosen = [to_camel(name) for name in fields if getattr(model, name) is not None]
    if len(chosen) != 1:
        names = [to_camel(name) for name in fields]
        raise ValueError(f"choose exactly one of {', '.join(names[:-1])} or {names[-1]}")
    return chosen[0]


def _relative_to_spec(value: str | None, info: ValidationInfo) -> str | None:
    """A file the spec names, resolved against the spec file's folder (the loader passes it as context)."""
    if value is None:
        return None
    base = (info.context or {}).get("spec_dir")
    path = Path(value)
    return str(path if path.is_absolute() or base is None else Path(base) / path)


class KeyImport(SpecModel):
    """Where an imported key's material comes from: exactly one of byok, fromConfig or fromEnv."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["byok", "kek"]}, {"required": ["fromConfig"]}, {"required": ["fromEnv"]}]
        }
    )

    byok: str | None = Field(
        None,
        description=(
            "A .byok key transfer blob from an HSM vendor's BYOK tool (path relative to the spec file; safe to "
            "commit: it is encrypted for the vault's KEK). RSA-HSM / EC-HSM keys only."
        ),
    )
    kek: ObjectName | None = Field(
        None, description="byok: the declared key exchange key (RSA-HSM, ops: [import]) the blob was wrapped for."
    )
    public_key: str | None = Field(
        None,
        description="PEM public key (path relative to the spec file): the vault's key must be exactly this key.",
    )
    from_config: ConfigKey | None = Field(
        None, description="A Pulumi config secret holding the private key (PEM or JWK); never a literal."
    )
    from_env: EnvName | None = Field(
        None, description="An environment variable of the deploying process holding the private key (PEM or JWK)."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_literal(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(
                "import takes a source, never key material (it would end up in git): use {byok: FILE, kek: KEY}, "
                "{fromConfig: KEY} or {fromEnv: VAR}"
            )
        return data

    @field_validator("byok", "public_key")
    @classmethod
    def _resolve(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _relative_to_spec(value, info)

    @model_validator(mode="after")
    def _exactly_one(self) -> KeyImport:
        chosen_source(self, _IMPORT_SOURCES)
        return self

    @property
    def source(self) -> Literal["byok", "fromConfig", "fromEnv"]:
        return chosen_source(self, _IMPORT_SOURCES)  # type: ignore[return-value]


class Key(SpecModel):
    name: ObjectName = Field(description="Key name, unique in the vault.")
    type: KeyType = Field(description="RSA | RSA-HSM | EC | EC-HSM; -HSM types need a premium vault.")
    size: Literal[2048, 3072, 4096] | None = Field(None, description="RSA only; defaults to 3072.")
    curve: Literal["P-256", "P-384", "P-521", "P-256K"] | None = Field(None, description="EC only; defaults to P-256.")
    ops: list[KeyOp] = Field(
        min_length=1,
        description=(
            "Permitted operations; EC keys sign and verify only; a key exchange key (KEK) has exactly [import]."
        ),
    )
    enabled: bool = Field(True, description="Whether the key can be used.")
    expires: AwareDatetime | None = Field(None, description="Absolute expiry (keeps re-runs idempotent).")
    not_before: AwareDatetime | None = Field(None, description="Absolute activation time.")
    rotation: Rotation | None = Field(None, description="Automatic rotation policy.")
    tags: Tags = Field(default_factory=dict, description="Key tags (Key Vault allows 15 per key).")
    import_: KeyImport | None = Field(
        None,
        alias="import",
        description="Import the key's material instead of generating it in the vault (BYOK, or a private key).",
    )

    @property
    def is_rsa(self) -> bool:
        return self.type.startswith("RSA")

    @property
    def is_kek(self) -> bool:
        """A key exchange key: generated in the vault, used only to import BYOK blobs."""
        return "import" in self.ops

    @property
    def effective_size(self) -> int | None:
        return (self.size or 3072) if self.is_rsa else None

    @property
    def effective_curve(self) -> str | None:
        return None if self.is_rsa else (self.curve or "P-256")


class Generate(SpecModel):
    length: int = Field(32, ge=16, le=1024, description="Characters in the generated value.")
    special: bool = Field(True, description="Include punctuation characters.")


class SecretValue(SpecModel):
    """Exactly one source; literal values are refused so secrets never land in git."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["fromConfig"]}, {"required": ["fromEnv"]}, {"required": ["generate"]}]
        }
    )

    from_config: ConfigKey | None = Field(None, description="A Pulumi config secret (pulumi config set --secret).")
    from_env: EnvName | None = Field(None, description="An environment variable of the deploying process.")
    generate: Generate | None = Field(None, description="Generated once, kept (encrypted) in Pulumi state.")

    @model_validator(mode="before")
    @classmethod
    def _no_literal(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(
                "literal secret values are not allowed (they would end up in git); "
                "use {fromConfig: KEY}, {fromEnv: VAR} or {generate: {length: 32}}"
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretValue:
        chosen_source(self, _SECRET_SOURCES)
        return self

    @property
    def source(self) -> Literal["fromConfig", "fromEnv", "generate"]:
        return chosen_source(self, _SECRET_SOURCES)  # type: ignore[return-value]


class Secret(SpecModel):
    name: ObjectName = Field(description="Secret name, unique in the vault.")
    value: SecretValue = Field(description="Where the value comes from; never a literal.")
    content_type: str | None = Field(None, max_length=255, description="MIME type or free-form hint.")
    enabled: bool = Field(True, description="Whether the secret can be read.")
    expires: AwareDatetime | None = Field(None, description="Absolute expiry.")
    not_before: AwareDatetime | None = Field(None, description="Absolute activation time.")
    tags: Tags = Field(default_factory=dict, description="Secret tags (Key Vault allows 15 per secret).")


class Diagnostics(SpecModel):
    workspace_id: WorkspaceId = Field(description="Log Analytics workspace receiving audit logs and metrics.")
    name: str = Field("vaultspec-audit", min_length=1, max_length=260, description="Diagnostic setting name.")
    log_analytics_destination_type: Literal["Dedicated", "AzureDiagnostics"] = Field(
        "Dedicated",
        description=(
            "Dedicated (default, what Azure Monitor recommends for new settings): audit logs land in the "
            "resource-specific table AZKVAuditLogs. AzureDiagnostics: the legacy shared AzureDiagnostics table."
        ),
    )


class PolicyException(SpecModel):
    policy: PolicyName = Field(description="Name of the guardrail to waive for this vault.")
    reason: str = Field(min_length=1, max_length=256, description="Why; recorded on the resources as a tag.")


class Vault(SpecModel):
    name: VaultName = Field(description="Globally unique vault name.")
    resource_group: ResourceGroupName = Field(description="Resource group (from defaults when absent).")
    location: Location = Field(description="Azure region (from defaults when absent).")
    tenant_id: Guid | None = Field(None, description="Tenant; the deploying identity's tenant when absent.")
    sku: Literal["standard", "premium"] = Field("premium", description="premium is needed for -HSM keys.")
    soft_delete: SoftDelete = Field(default_factory=SoftDelete, description="Soft delete and purge protection.")
    network: Network = Field(default_factory=Network, description="Public access and firewall.")
    access: Access = Field(description="Permission model and grants.")
    enabled_for: list[Literal["deployment", "diskEncryption", "templateDeployment"]] = Field(
        default_factory=list, description="Azure services allowed to read secrets (all off by default)."
    )
    keys: list[Key] = Field(default_factory=list, description="Keys in the vault.")
    secrets: list[Secret] = Field(default_factory=list, description="Secrets in the vault.")
    diagnostics: Diagnostics | None = Field(None, description="Audit logs and metrics destination.")
    lock: Literal["CanNotDelete", "ReadOnly"] | None = Field(None, description="Management lock on the vault.")
    tags: Tags = Field(default_factory=dict, description="Vault tags, merged over defaults.tags.")
    exceptions: list[PolicyException] = Field(default_factory=list, description="Policy waivers, each with a reason.")


class Defaults(SpecModel):
    location: Location | None = Field(None, description="Azure region of every vault that names none.")
    resource_group: ResourceGroupName | None = Field(None, description="Resource group of every vault that names none.")
    tenant_id: Guid | None = Field(None, description="Tenant of every vault that names none (default: the deployer's).")
    tags: Tags = Field(default_factory=dict, description="Tags of every vault; a vault's own tags win.")


class Spec(SpecModel):
    """One stack's spec file."""

    model_config = ConfigDict(
        title="vaultspec/v1",
        json_schema_extra={"description": "Declarative Azure Key Vaults: one file per Pulumi stack."},
    )

    api_version: Literal["vaultspec/v1"] = Field(description="Document version.")
    defaults: Defaults = Field(default_factory=Defaults, description="Merged into every vault.")
    vaults: list[Vault] = Field(min_length=1, description="The vaults of this stack.")

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("vaults"), list):
            return data
        defaults = data.get("defaults")
        return {**data, "vaults": [merge_defaults(v, defaults) for v in data["vaults"]]}


def merge_defaults(vault: Any, defaults: Any) -> Any:
    """Fill a raw vault mapping from raw defaults; tags merge with the vault's own winning."""
    if not isinstance(vault, dict) or not isinstance(defaults, dict):
        return vault
    merged = dict(vault)
    for field in ("location", "resourceGroup", "tenantId"):
        if field not in merged and defaults.get(field) is not None:
            merged[field] = defaults[field]
    default_tags, own_tags = defaults.get("tags"), vault.get("tags")
    if isinstance(default_tags, dict) and (own_tags is None or isinstance(own_tags, dict)):
        merged["tags"] = {**default_tags, **(own_tags or {})}
    return merged


def epoch_seconds(moment: datetime | None) -> int | None:
    """ARM's representation of key and secret attribute times."""
    return int(moment.timestamp()) if moment else None

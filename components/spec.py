"""The spec adapter: one validated `vaultspec.spec.Vault` -> `KeyVaultArgs`.

The YAML spec is one way into the components, not the only one: everything here is a plain
field-by-field mapping, so `KeyVault(name, from_spec(vault))` and a hand-written
`KeyVault(name, KeyVaultArgs(...))` build the same resources.
"""

from datetime import datetime
from pathlib import Path
from typing import Any

from vaultspec.components.args import (
    AccessArgs,
    GrantArgs,
    KeyArgs,
    KeyImportArgs,
    KeyVaultArgs,
    RotationArgs,
    SecretArgs,
    SecretValueArgs,
)
from vaultspec.spec.model import Grant, Key, KeyImport, Rotation, Secret, SecretValue, Vault


def from_spec(vault: Vault, *, protect: bool = True) -> KeyVaultArgs:
    """`KeyVaultArgs` for a vault of a loaded spec; `protect` guards the vault and its keys."""
    args = KeyVaultArgs(
        vault_name=vault.name,
        resource_group_name=vault.resource_group,
        location=vault.location,
        sku=vault.sku,
        soft_delete={
            "retention_days": vault.soft_delete.retention_days,
            "purge_protection": vault.soft_delete.purge_protection,
        },
        network={
            "public_access": vault.network.public_access,
            "default_action": vault.network.default_action,
            "bypass": vault.network.bypass,
            "ip_rules": list(vault.network.ip_rules),
            "subnet_ids": list(vault.network.subnet_ids),
            "ignore_missing_vnet_service_endpoint": vault.network.ignore_missing_vnet_service_endpoint,
        },
        access=AccessArgs(
            model=vault.access.model,
            grants=[_grant(g) for g in vault.access.grants],
            deployer=vault.access.deployer,
            **_present(deployer_principal_type=vault.access.deployer_principal_type),
        ),
        enabled_for=list(vault.enabled_for),
        keys=[_key(k) for k in vault.keys],
        secrets=[_secret(s) for s in vault.secrets],
        tags=dict(vault.tags),
        exceptions=[{"policy": e.policy, "reason": e.reason} for e in vault.exceptions],
        protect=protect,
    )
    if vault.tenant_id:
        args["tenant_id"] = vault.tenant_id
    if vault.diagnostics:
        args["diagnostics"] = {
            "workspace_id": vault.diagnostics.workspace_id,
            "name": vault.diagnostics.name,
            "log_analytics_destination_type": vault.diagnostics.log_analytics_destination_type,
        }
    if vault.lock:
        args["lock"] = vault.lock
    return args


def _present(**fields: Any) -> dict[str, Any]:
    """Only the fields that are set, so component defaults apply to the rest."""
    return {name: value for name, value in fields.items() if value is not None}


def _grant(grant: Grant) -> GrantArgs:
    return GrantArgs(
        **_present(
            principal=grant.principal,
            principal_type=grant.principal_type,
            role=grant.role,
            scope=grant.scope,
            description=grant.description,
            keys=grant.keys,
            secrets=grant.secrets,
            certificates=grant.certificates,
        )
    )


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _key(key: Key) -> KeyArgs:
    return KeyArgs(
        **_present(
            name=key.name,
            type=key.type,
            size=key.effective_size,
            curve=key.effective_curve,
            ops=list(key.ops),
            enabled=key.enabled,
            expires=_time(key.expires),
            not_before=_time(key.not_before),
            rotation=_rotation(key.rotation) if key.rotation else None,
            tags=dict(key.tags) or None,
            import_=_import(key.import_) if key.import_ else None,
        )
    )


def _import(source: KeyImport) -> KeyImportArgs:
    """The spec's files (blob, public key) are read here, relative to the spec file as the loader resolved them."""
    return KeyImportArgs(
        **_present(
            byok=Path(source.byok).read_text() if source.byok else None,
            kek=source.kek,
            public_key=Path(source.public_key).read_text() if source.public_key else None,
            from_config=source.from_config,
            from_env=source.from_env,
        )
    )


def _rotation(rotation: Rotation) -> RotationArgs:
    return RotationArgs(
        **_present(
            rotate_after_create=rotation.rotate_after_create,
            rotate_before_expiry=rotation.rotate_before_expiry,
            notify_before_expiry=rotation.notify_before_expiry,
            expiry_time=rotation.expiry_time,
        )
    )


def _value(value: SecretValue) -> SecretValueArgs:
    if value.generate is not None:
        return SecretValueArgs(generate={"length": value.generate.length, "special": value.generate.special})
    return SecretValueArgs(**_present(from_config=value.from_config, from_env=value.from_env))


def _secret(secret: Secret) -> SecretArgs:
    return SecretArgs(
        **_present(
            name=secret.name,
            value=_value(secret.value),
            content_type=secret.content_type,
            enabled=secret.enabled,
            expires=_time(secret.expires),
            not_before=_time(secret.not_before),
            tags=dict(secret.tags) or None,
        )
    )

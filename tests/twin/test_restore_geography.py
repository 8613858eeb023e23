"""Restore only within the subscription and the Azure geography of the backup (Key Vault's REST reference:
"BACKUP / RESTORE can be performed within geographical boundaries only ... a backup from the US
geographical area cannot be restored in an EU geographical area"; "The target Key Vault must be owned by
the same Microsoft Azure Subscription as the source Key Vault"). Elsewhere Key Vault answers as for a
foreign blob: "Cannot decrypt backup blob." (MicrosoftDocs/azure-docs#107520: eastus -> germanywestcentral).

The probes restored a westeurope backup into an eastus vault. The pairs below are read from Microsoft's
"Azure regional pairs" page (the oracle is this list, not the twin's table): same geography restores,
another geography is 400 BadParameter and restores nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import KeyVaultError
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import crypto_client, key_client, secret_client

RG = "rg-geo"
PAIRS = [  # (source, target, same geography?)
    ("westeurope", "northeurope", True),  # Europe
    ("eastus", "westus2", True),  # United States
    ("uksouth", "ukwest", True),  # UK
    ("westeurope", "eastus", False),  # the probe: Europe -> United States
    ("westeurope", "uksouth", False),  # Europe and UK are two geographies
    ("brazilsouth", "southcentralus", False),  # paired, but South Central US is outside Brazil
    ("germanywestcentral", "francecentral", False),
]


@pytest.fixture(scope="module")
def vault_in(twin: TwinInfo, make_vault: Callable[..., str]) -> Callable[[str], str]:
    made: dict[str, str] = {}

    everything = {"keys": ["all"], "secrets": ["all"]}
    owner = {"tenantId": twin.tenant_id, "objectId": twin.default_object_id, "permissions": everything}

    def vault(location: str) -> str:
        if location not in made:
            made[location] = make_vault({"accessPolicies": [owner]}, rg=RG, location=location)
        return made[location]

    return vault


def _backups(twin: TwinInfo, vault: str, name: str) -> tuple[bytes, bytes]:
    keys, secrets = key_client(twin, vault), secret_client(twin, vault)
    keys.create_ec_key(name, curve="P-256")
    secrets.set_secret(name, "travels only within its geography")
    blobs = keys.backup_key(name), secrets.backup_secret(name)
    keys.begin_delete_key(name).result()
    keys.purge_deleted_key(name)
    secrets.begin_delete_secret(name).result()
    secrets.purge_deleted_secret(name)
    return blobs


@pytest.mark.parametrize(("source", "target", "same"), PAIRS, ids=[f"{s}->{t}" for s, t, _ in PAIRS])
def test_a_backup_restores_only_within_its_geography(
    twin: TwinInfo, vault_in: Callable[[str], str], name: str, source: str, target: str, same: bool
) -> None:
    key_blob, secret_blob = _backups(twin, vault_in(source), name)
    keys, secrets = key_client(twin, vault_in(target)), secret_client(twin, vault_in(target))
    if same:
        restored = keys.restore_key_backup(key_blob)
        assert crypto_client(twin, restored.id).sign("ES256", b"\0" * 32).signature
        assert secrets.restore_secret_backup(secret_blob).name == name
        assert secrets.get_secret(name).value == "travels only within its geography"
        return
    for restore in (lambda: keys.restore_key_backup(key_blob), lambda: secrets.restore_secret_backup(secret_blob)):
        with pytest.raises(HttpResponseError) as refused:
            restore()
        assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"
        assert refused.value.error.message.startswith("Cannot decrypt backup blob.")
    assert name not in [k.name for k in keys.list_properties_of_keys()]
    assert name not in [s.name for s in secrets.list_properties_of_secrets()]
    assert name not in [k.name for k in keys.list_deleted_keys()]


def test_a_backup_restores_only_within_its_subscription(tmp_path: Path) -> None:
    """A twin holds one subscription, so the other subscription is a vault reference that says so."""
    backend = TwinBackend(tmp_path, 1)
    try:
        body: dict[str, Any] = {
            "location": "westeurope",
            "properties": {"tenantId": backend.ids.tenant_id, "sku": {"family": "A", "name": "standard"}},
        }
        row, _ = backend.vaults.create_or_update("rg", "subvault", body, "2024-11-01")
        vault = backend.vaults.ref(row)
        backend.secrets.set_secret(vault, "s", {"value": "v"})
        blob = backend.secrets.backup_secret(vault, "s")
        elsewhere = dataclasses.replace(vault, subscription="00000000-0000-0000-0000-000000000009")
        with pytest.raises(KeyVaultError) as refused:
            backend.secrets.restore_secret_backup(elsewhere, blob)
        assert refused.value.status == 400 and "another subscription" in refused.value.message
    finally:
        backend.close()

"""Apply a spec to the twin through the real program, and remove what an earlier `up` made.

`apply_spec` renders `vaultspec.program.run` with the `TwinBackend` (so every resource is created,
updated, recovered or left alone on the twin) and then deletes, in reverse creation order, what
the state records but the program no longer declares — only when the render succeeded, as Pulumi
skips deletes after a failed update. `destroy` deletes everything the state records. Keys and
secrets are deleted through the data plane with the deployer's credential (as pulumi-azure-native
does); everything else through ARM. Protected resources are never deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from pydantic import BaseModel, ConfigDict, Field

from vaultspec import localhost
from vaultspec.engine.arm import KEY, SECRET, arm_type
from vaultspec.engine.armclient import ArmClient, ArmError
from vaultspec.engine.azure_mock import AzureIdentity
from vaultspec.engine.recording import Rendering
from vaultspec.engine.render import RenderError, render_spec
from vaultspec.engine.state import ResourceRecord, StackState, StateStore
from vaultspec.engine.twin_backend import RANDOM_PASSWORD, Action, ResourceChange, TwinBackend, describe_error
from vaultspec.engine.values import printable
from vaultspec.twin.server import TwinInfo


@dataclass
class Deployer:
    """The identity `up` deploys as: the twin's default identity, over ARM and the data plane."""

    twin: TwinInfo
    identity: AzureIdentity
    credential: ManagedIdentityCredential
    arm: ArmClient

    def close(self) -> None:
        self.arm.close()
        self.credential.close()


def connect(twin: TwinInfo) -> Deployer:
    """Act as the twin's default identity in this process (App Service-style managed identity)."""
    localhost.install()
    os.environ["IDENTITY_ENDPOINT"] = twin.identity_endpoint
    os.environ["IDENTITY_HEADER"] = twin.identity_header()
    credential = ManagedIdentityCredential(connection_verify=twin.ca_bundle)
    identity = AzureIdentity(
        tenant_id=twin.tenant_id,
        subscription_id=twin.subscription_id,
        object_id=twin.default_object_id,
        client_id=twin.default_object_id,
    )
    return Deployer(twin, identity, credential, ArmClient(twin.arm_url, credential, twin.ca_bundle))


class ApplyResult(BaseModel):
    """What one apply did; everything in it is printable (secrets masked)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    changes: list[ResourceChange] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    stack_outputs: dict[str, Any] = Field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return not self.errors


def apply_spec(spec_path: Path, deployer: Deployer, store: StateStore, stack: str | None = None) -> ApplyResult:
    """Make the twin hold exactly what the spec declares, recording every change in the state."""
    stack = stack or spec_path.stem
    state = store.load(spec_path, stack)
    backend = TwinBackend(
        identity=deployer.identity,
        arm=deployer.arm,
        credential=deployer.credential,
        vault_url=deployer.twin.vault_url,
        ca_bundle=deployer.twin.ca_bundle,
        store=store,
        state=state,
        persist=lambda: store.save(spec_path, state),
    )
    result = ApplyResult()
    rendering: Rendering | None = None
    try:
        rendering = render_spec(spec_path, preview=False, backend=backend, stack=stack, decrypt_config=True)
    except RenderError as error:
        result.errors.append(str(error))
    result.changes = [c for c in backend.changes.values()]
    if rendering is not None:
        result.stack_outputs = printable(rendering.stack_outputs)
        registered = {r.urn for r in rendering.resources}
        removed = [r for r in state.in_delete_order() if r.urn not in registered]
        deletions, errors = delete_records(removed, deployer, store, spec_path, state)
        result.changes.extend(deletions)
        result.errors.extend(errors)
    store.save(spec_path, state)
    return result


def destroy(spec_path: Path, deployer: Deployer, store: StateStore, stack: str | None = None) -> ApplyResult:
    """Delete everything `up` made for this spec, newest first; the state file goes when it is empty."""
    state = store.load(spec_path, stack or spec_path.stem)
    deletions, errors = delete_records(state.in_delete_order(), deployer, store, spec_path, state)
    if state.resources:
        store.save(spec_path, state)
    else:
        store.delete(spec_path)
    return ApplyResult(changes=deletions, errors=errors)


def delete_records(
    records: list[ResourceRecord], deployer: Deployer, store: StateStore, spec_path: Path, state: StackState
) -> tuple[list[ResourceChange], list[str]]:
    """Delete `records` in the given order, stopping at the first failure (its dependents stay intact)."""
    changes: list[ResourceChange] = []
    protected = [r for r in records if r.protect]
    if protected:
        names = ", ".join(f"{r.type.rsplit(':', 1)[-1]} {r.name}" for r in protected)
        return changes, [
            f"refusing to delete protected resources ({names}); set config vaultspec:protect=false for this "
            "stack (Pulumi refuses to delete protected resources too)"
        ]
    for record in records:
        try:
            existed = _delete(record, deployer)
        except (ArmError, HttpResponseError) as exc:
            message = f"{record.type} {record.name}: delete failed: {describe_error(exc)}"
            changes.append(ResourceChange(urn=record.urn, type=record.type, name=record.name, action=Action.FAILED))
            return changes, [message]
        detail = "" if existed else "already gone"
        changes.append(
            ResourceChange(urn=record.urn, type=record.type, name=record.name, action=Action.DELETE, detail=detail)
        )
        del state.resources[record.urn]
        store.save(spec_path, state)
    return changes, []


def _delete(record: ResourceRecord, deployer: Deployer) -> bool:
    """Delete one resource the way pulumi-azure-native would; False when it was already gone."""
    if record.type == RANDOM_PASSWORD:
        return True
    kind = arm_type(record.type)
    if kind is None:
        return True
    if kind in (KEY, SECRET):
        vault = str(record.inputs.get("vaultName"))
        url = deployer.twin.vault_url(vault)
        verify = deployer.twin.ca_bundle
        try:
            if kind is KEY:
                with KeyClient(url, deployer.credential, connection_verify=verify) as keys:
                    keys.begin_delete_key(str(record.inputs.get("keyName"))).wait()
            else:
                with SecretClient(url, deployer.credential, connection_verify=verify) as secrets:
                    secrets.begin_delete_secret(str(record.inputs.get("secretName"))).wait()
        except ResourceNotFoundError:
            return False
        return True
    return deployer.arm.delete(record.id, kind.api_version)

"""The apply backend: each registration of the real program becomes the ARM call Azure would get.

`TwinBackend` plugs into `vaultspec.engine.render` in place of the pure mocks. For every custom
resource it compares the desired inputs with what the last `up` applied (local state, keyed HMAC
fingerprints) and with what the twin holds (an ARM GET), then creates, updates, recovers or leaves
it alone, and answers with ARM's response shaped as pulumi-azure-native's outputs — so vault URIs,
key URIs and ids are the twin's real ones. Semantics follow the provider: Vault PUT is
create-or-update, Key PUT is create-if-not-exist (hence `replaceOnChanges`), keys and secrets are
deleted through the data plane. What the provider does not do, and vaultspec adds, is recovery:
a soft-deleted vault, key or secret with the spec's name is recovered instead of failing with 409.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from pydantic import BaseModel

from vaultspec.engine.arm import KEY, SECRET, VAULT, ArmResourceType, arm_type
from vaultspec.engine.armclient import ArmClient, ArmError
from vaultspec.engine.azure_mock import AzureIdentity, AzureMockBackend, UnsupportedCall
from vaultspec.engine.recording import RenderedResource
from vaultspec.engine.state import ResourceRecord, StackState, StateStore
from vaultspec.engine.values import Concealed, printable, reveal

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
VAULTS_API = VAULT.api_version


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SAME = "same"
    RECOVERED = "recovered"
    DELETE = "delete"
    FAILED = "failed"


class ResourceChange(BaseModel):
    """What `up`/`down` did to one resource (never holds a secret value)."""

    urn: str
    type: str
    name: str
    action: Action
    detail: str = ""


class ApplyError(Exception):
    """A resource the engine could not apply; the message names it and never holds a secret."""


class TwinBackend:
    """A thread-safe `render.Backend` that applies registrations to the twin and records the changes."""

    def __init__(
        self,
        identity: AzureIdentity,
        arm: ArmClient,
        credential: TokenCredential,
        vault_url: Callable[[str], str],
        ca_bundle: str,
        store: StateStore,
        state: StackState,
        persist: Callable[[], None] = lambda: None,
    ) -> None:
        self.identity = identity
        self.arm = arm
        self.credential = credential
        self.vault_url = vault_url
        self.ca_bundle = ca_bundle
        self.store = store
        self.state = state
        self.persist = persist  # called (under the lock) after each recorded resource: crash-safe state
        self.changes: dict[str, ResourceChange] = {}
        self._generator = AzureMockBackend(identity)
        self._lock = threading.Lock()

    # -- the render.Backend protocol --------------------------------------------------------------

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if token == "azure-native:authorization:getClientConfig":
            return self._generator.call(token, args)
        raise UnsupportedCall(f"the offline engine cannot answer the function {token}")

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        try:
            if resource.type == RANDOM_PASSWORD:
                return self._random(resource)
            kind = arm_type(resource.type)
            if kind is None:
                raise ApplyError(f"{resource.type} {resource.name}: the offline engine does not apply this type")
            return self._apply(resource, kind)
        except ApplyError as exc:
            self._record_change(resource, Action.FAILED, str(exc))
            raise
        except (ArmError, AzureError) as exc:
            message = f"{resource.type} {resource.name}: {describe_error(exc)}"
            self._record_change(resource, Action.FAILED, message)
            raise ApplyError(message) from None

    # -- generated values ---------------------------------------------------------------------------

    def _random(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        inputs = reveal(resource.inputs)
        fingerprint = self.store.fingerprint(inputs)
        record = self.state.resources.get(resource.urn)
        value = None
        if record and record.fingerprint == fingerprint and "result" in record.sealed:
            value = self.store.unseal(record.sealed["result"], resource.urn)
        if value is not None:
            action = Action.SAME
        else:
            _, generated = self._generator.create(resource)
            value = reveal(generated["result"])
            action = Action.UPDATE if record else Action.CREATE
        outputs = {**resource.inputs, "result": Concealed(value)}
        self._remember(resource, "none", fingerprint, outputs, {"result": self.store.seal(value, resource.urn)})
        self._record_change(resource, action)
        return "none", outputs

    # -- ARM resources ------------------------------------------------------------------------------

    def _apply(self, resource: RenderedResource, kind: ArmResourceType) -> tuple[str, dict[str, Any]]:
        inputs = reveal(resource.inputs)
        try:
            path = kind.url_path(inputs, self.identity.subscription_id)
        except KeyError as missing:
            raise ApplyError(f"{resource.type} {resource.name}: input {missing} is required") from None
        body = kind.request_body(inputs)
        fingerprint = self.store.fingerprint(inputs)
        record = self.state.resources.get(resource.urn)
        live = self.arm.get(path, kind.api_version)
        detail = ""
        if live is None:
            live, action, detail = self._create(resource, kind, path, body, inputs)
        elif record is not None and record.fingerprint != fingerprint and _replaces(resource, record):
            raise ApplyError(self._replacement_refusal(resource, kind))
        elif record is not None and record.fingerprint == fingerprint and _contains(live, body, kind):
            action = Action.SAME
        else:
            live = self.arm.put(path, kind.api_version, body)
            action = Action.UPDATE
            if kind is KEY and not _contains(live, body, kind):
                raise ApplyError(
                    f"{resource.type} {resource.name}: the key in the vault differs from the spec and Key Vault keys "
                    "cannot be changed through ARM; rename the key, or delete and purge it"
                )
        outputs = kind.outputs(live)
        resource_id = str(live.get("id") or path)
        self._remember(resource, resource_id, fingerprint, _without_secrets(outputs, kind), {})
        self._record_change(resource, action, detail)
        return resource_id, outputs

    def _create(
        self, resource: RenderedResource, kind: ArmResourceType, path: str, body: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], Action, str]:
        """Create, or recover a soft-deleted object of the same name and then apply the spec to it."""
        if kind is VAULT and self._vault_is_soft_deleted(inputs):
            recover = copy.deepcopy(body)
            recover.setdefault("properties", {})["createMode"] = "recover"
            self.arm.put(path, kind.api_version, recover)
            return self.arm.put(path, kind.api_version, body), Action.RECOVERED, "recovered the soft-deleted vault"
        try:
            return self.arm.put(path, kind.api_version, body), Action.CREATE, ""
        except ArmError as exc:
            if exc.status != 409 or kind not in (KEY, SECRET):
                raise
        self._recover_object(kind, inputs)
        live = self.arm.put(path, kind.api_version, body)
        noun = "key" if kind is KEY else "secret"
        return live, Action.RECOVERED, f"recovered the soft-deleted {noun}"

    def _vault_is_soft_deleted(self, inputs: dict[str, Any]) -> bool:
        location = str(inputs.get("location") or "").replace(" ", "").lower()
        path = (
            f"/subscriptions/{self.identity.subscription_id}/providers/Microsoft.KeyVault/locations/{location}"
            f"/deletedVaults/{inputs['vaultName']}"
        )
        return self.arm.get(path, VAULTS_API) is not None

    def _recover_object(self, kind: ArmResourceType, inputs: dict[str, Any]) -> None:
        """Recover a soft-deleted key or secret through the data plane, as the deployer."""
        url = self.vault_url(inputs["vaultName"])
        name = inputs["keyName"] if kind is KEY else inputs["secretName"]
        try:
            if kind is KEY:
                with KeyClient(url, self.credential, connection_verify=self.ca_bundle) as keys:
                    keys.begin_recover_deleted_key(name).wait()
            else:
                with SecretClient(url, self.credential, connection_verify=self.ca_bundle) as secrets:
                    secrets.begin_recover_deleted_secret(name).wait()
        except ResourceNotFoundError:
            raise ApplyError(f"{name}: the name is taken but no soft-deleted object can be recovered") from None
        except HttpResponseError as exc:
            raise ApplyError(
                f"{name} is soft-deleted and could not be recovered ({describe_error(exc)}); "
                "give the deployer recover rights (access.deployer: lifecycle) or recover it by hand"
            ) from None

    def _replacement_refusal(self, resource: RenderedResource, kind: ArmResourceType) -> str:
        if resource.options.protect:
            return (
                f"{resource.type} {resource.name} is protected and its change requires a replacement; "
                "unprotect it first (Pulumi refuses to replace protected resources)"
            )
        noun = "key" if kind is KEY else "resource"
        return (
            f"{resource.type} {resource.name}: this change replaces the {noun}, but Key Vault keeps its name reserved "
            "after deletion (soft delete); rename it in the spec instead"
        )

    # -- bookkeeping --------------------------------------------------------------------------------

    def _remember(
        self,
        resource: RenderedResource,
        resource_id: str,
        fingerprint: str,
        outputs: dict[str, Any],
        sealed: dict[str, str],
    ) -> None:
        with self._lock:
            previous = self.state.resources.get(resource.urn)
            self.state.resources[resource.urn] = ResourceRecord(
                urn=resource.urn,
                type=resource.type,
                name=resource.name,
                id=resource_id,
                sequence=previous.sequence if previous else self.state.next_sequence(),
                fingerprint=fingerprint,
                inputs=resource.printable_inputs(),
                outputs=printable(outputs),
                protect=bool(resource.options.protect),
                sealed=sealed,
            )
            self.persist()

    def _record_change(self, resource: RenderedResource, action: Action, detail: str = "") -> None:
        with self._lock:
            self.changes[resource.urn] = ResourceChange(
                urn=resource.urn, type=resource.type, name=resource.name, action=action, detail=detail
            )


def _replaces(resource: RenderedResource, record: ResourceRecord) -> bool:
    """Whether the changed inputs include one the resource declares `replaceOnChanges`."""
    watched = set(resource.options.replace_on_changes)
    if not watched:
        return False
    if "*" in watched:
        return True
    now = resource.printable_inputs()
    return any(now.get(name) != record.inputs.get(name) for name in watched)


def _contains(live: Any, desired: Any, kind: ArmResourceType, key: str = "") -> bool:
    """Whether the live ARM body already holds every desired value (enums compared case-insensitively)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(
            _contains(live.get(k), v, kind, k)
            for k, v in desired.items()
            if not (kind is SECRET and k == "value") and v is not None
        )
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return False
        return all(any(_contains(item, want, kind, key) for item in live) for want in desired)
    if isinstance(desired, str) and isinstance(live, str):
        return desired.lower() == live.lower()
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired == live
    if isinstance(desired, (int, float)) and isinstance(live, (int, float)):
        return float(desired) == float(live)
    return desired == live


def _without_secrets(outputs: dict[str, Any], kind: ArmResourceType) -> dict[str, Any]:
    if kind is not SECRET:
        return outputs
    trimmed = dict(outputs)
    properties = dict(trimmed.get("properties") or {})
    properties.pop("value", None)
    trimmed["properties"] = properties
    return trimmed


def describe_error(exc: Exception) -> str:
    """Status and error code of a failed call, never its body (which could echo a value)."""
    if isinstance(exc, ArmError):
        return f"{exc.status} {exc.code}: {exc.message}"
    if isinstance(exc, HttpResponseError):
        code = getattr(exc.error, "code", None) if exc.error else None
        return f"{exc.status_code} {code or exc.reason}"
    return type(exc).__name__

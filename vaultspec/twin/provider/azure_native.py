"""The twin's stand-in for the pulumi-azure-native provider: one generic ARM CRUD path over the type table,
and the Key Vault objects azure-native handles by hand.

For every type in `arm_types` it does what pulumi-azure-native 3.x does against Azure (facts and sources:
docs/twin-provider.md), against the twin:

- Check: path parameters (and a Vault's location) are required; `azureApiVersion` joins the inputs.
- Diff: new inputs against old inputs; a path parameter or `force_new` input replaces (delete first).
- Create: refuses a resource that already exists ("cannot create already existing resource", a GET
  first), PUTs the body, reads it back. A Vault created without `accessPolicies` is sent `[]`.
  Keys and secrets: a 409 from the PUT (the name is soft-deleted) recovers the object through the data
  plane and retries, as azure-native does since PR #4759; the recovery is logged on the resource.
- Read (refresh, import): GET; gone is gone (the engine drops it); inputs are rebuilt from the answer in
  the shape of the old inputs, so an unchanged resource refreshes to exactly its inputs.
- Update: PUT of the new inputs, read back; a Vault update without `accessPolicies` keeps the live ones.
- Delete: ARM DELETE (404 is done), except keys and secrets: the data plane's DELETE, as the deploying
  identity (soft delete, never purge).
- Invoke: `authorization:getClientConfig` and `authorization:getClientToken`, from the twin's identity.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from vaultspec.twin.provider.arm_client import ArmError
from vaultspec.twin.provider.arm_types import API_VERSION_INPUT, ARM_TYPES, KEY, SECRET, VAULT, ArmResourceType
from vaultspec.twin.provider.plumbing import (
    ENGINE_LOG,
    UNKNOWN,
    DiffResult,
    Outputs,
    Plugin,
    ProviderError,
    Request,
    ResourceType,
    is_unknown,
)
from vaultspec.twin.provider.twin_access import Twin, twin
from vaultspec.twin.provider.values import changed_paths, project, same_value

PLUGIN_VERSION = "3.29.0"  # the azure-native the installed SDK asks for (its pulumi-plugin.json)
RECOVERY_ATTEMPTS = 6  # azure-native: the PUT is retried until it stops answering 409 (5 s apart, up to 3 min)
RECOVERY_INTERVAL_S = 0.5  # the twin recovers at once; Azure needs seconds
_CASE_INSENSITIVE = ("resourceGroupName", "location")  # azure-native's applyAzureSpecificDiff
LOCATION_HINT = ". Either set it explicitly or configure it with 'pulumi config set azure-native:location <value>'"


def describe(error: Exception) -> str:
    """Status and error code of a failed call, never its body (which could echo a value)."""
    if isinstance(error, ArmError):
        return f"Status={error.status} Code={error.code!r} Message={error.message!r}"
    if isinstance(error, HttpResponseError):
        code = getattr(error.error, "code", None) if error.error else None
        message = getattr(error.error, "message", None) if error.error else None
        return f"Status={error.status_code} Code={code or error.reason!r}" + (
            f" Message={message!r}" if message else ""
        )
    return type(error).__name__


def _contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def _without_empty(value: Any) -> Any:
    """Empty maps and lists removed, recursively (azure-native's import projection)."""
    if isinstance(value, dict):
        pruned = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


class ArmResource(ResourceType):
    """One azure-native type, driven by its `ArmResourceType` metadata."""

    def __init__(self, kind: ArmResourceType) -> None:
        self.kind = kind
        self.token = kind.token

    # -- helpers ------------------------------------------------------------------------------------

    def _path(self, request: Request, inputs: dict[str, Any], twin_: Twin) -> str:
        try:
            return self.kind.url_path(inputs, twin_.subscription_id)
        except KeyError as missing:
            raise ProviderError(f"{request.name}: missing required property {missing}") from None

    def _outputs(self, response: dict[str, Any], fallback_id: str) -> Outputs:
        outputs = self.kind.outputs(response)
        if self.kind is SECRET:  # ARM never returns the value; the engine keeps the input's secret
            (outputs.get("properties") or {}).pop("value", None)
        return Outputs(str(response.get("id") or fallback_id), outputs)

    def _predicted(self, inputs: dict[str, Any], keep: dict[str, Any] | None = None) -> dict[str, Any]:
        """A preview's outputs: the inputs in the output shape, what ARM computes unknown (or kept)."""
        response = self.kind.request_body(inputs)
        for path in self.kind.computed:
            _set_path(response, path, UNKNOWN)
        outputs = self.kind.outputs(response)
        for name in ("name", "location"):  # an update keeps them (azure-native's preview of an update)
            if keep and keep.get(name) is not None:
                outputs[name] = keep[name]
        return outputs

    async def _call(self, request: Request, what: str, function: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args)
        except (ArmError, HttpResponseError) as error:
            raise ProviderError(f"{self.kind.token} {request.name}: {what} failed: {describe(error)}") from None

    def _body(self, request: Request, twin_: Twin, path: str, *, creating: bool) -> dict[str, Any]:
        body = self.kind.request_body(request.inputs)
        if self.kind is VAULT:
            properties = body.setdefault("properties", {})
            if "accessPolicies" not in properties:  # a sub-resource azure-native maintains when unset
                live = None if creating else twin_.arm.get(path, self.kind.api_version)
                properties["accessPolicies"] = ((live or {}).get("properties") or {}).get("accessPolicies") or []
        return body

    # -- verbs --------------------------------------------------------------------------------------

    async def check(self, request: Request) -> dict[str, Any]:
        inputs = dict(request.inputs)
        required = [p for p in self.kind.path_params if p != "subscriptionId"]
        if self.kind is VAULT:
            required.append("location")
        for param in required:
            value = inputs.get(param)
            if is_unknown(value):
                continue
            if not isinstance(value, str) or not value.strip():
                hint = LOCATION_HINT if param == "location" else ""
                raise ProviderError(f"{request.name}: missing required property '{param}'{hint}")
        inputs.setdefault(API_VERSION_INPUT, self.kind.api_version)
        return inputs

    async def diff(self, request: Request) -> DiffResult:
        old = dict(request.old_inputs)
        for name in _CASE_INSENSITIVE:
            if name in old and same_value(old[name], request.inputs.get(name)):
                old[name] = request.inputs[name]
        changes = changed_paths(old, request.inputs)
        replacing = set(self.kind.path_params) | set(self.kind.force_new)
        replaces = {path for path in changes if path.split(".", 1)[0].split("[", 1)[0] in replacing}
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=bool(replaces))

    async def create(self, request: Request) -> Outputs:
        if request.preview or _contains_unknown(request.inputs):
            return Outputs("", self._predicted(request.inputs))
        twin_ = twin()
        path = self._path(request, request.inputs, twin_)
        existing = await self._call(request, "the existence check", twin_.arm.get, path, self.kind.api_version)
        if existing is not None:
            raise ProviderError(f"cannot create already existing resource '{path}'")
        body = self._body(request, twin_, path, creating=True)
        if self.kind in (KEY, SECRET):
            return await self._create_object(request, twin_, path, body)
        await self._call(request, "create", twin_.arm.put, path, self.kind.api_version, body)
        if self.kind is VAULT and str((body.get("properties") or {}).get("createMode", "")).lower() == "recover":
            await ENGINE_LOG.info(request.urn, "recovered the soft-deleted vault (createMode: recover)")
        return await self._read_back(request, twin_, path)

    async def _read_back(self, request: Request, twin_: Twin, path: str) -> Outputs:
        """azure-native's read-after-write: the outputs are what a GET answers after the PUT."""
        response = await self._call(request, "the read after write", twin_.arm.get, path, self.kind.api_version)
        if response is None:
            raise ProviderError(f"{self.kind.token} {request.name}: the resource is gone right after it was written")
        return self._outputs(response, path)

    async def _create_object(self, request: Request, twin_: Twin, path: str, body: dict[str, Any]) -> Outputs:
        """A key or secret: PUT; a 409 means the name is soft-deleted, so recover it and PUT again."""
        recovered = False
        for _ in range(RECOVERY_ATTEMPTS):
            try:
                response = await asyncio.to_thread(twin_.arm.put, path, self.kind.api_version, body)
            except ArmError as error:
                if error.status != 409:
                    raise ProviderError(f"{self.kind.token} {request.name}: create failed: {describe(error)}") from None
                recovered = await self._recover(request, twin_) or recovered
                await asyncio.sleep(RECOVERY_INTERVAL_S)
                continue
            if recovered:
                noun = "key" if self.kind is KEY else "secret"
                await ENGINE_LOG.info(request.urn, f"recovered the soft-deleted {noun} (it keeps its versions)")
            return self._outputs(response, path)
        raise ProviderError(
            f"{self.kind.token} {request.name}: create failed: the name stays taken (409) and no soft-deleted object "
            "could be recovered; purge it or choose another name"
        )

    async def _recover(self, request: Request, twin_: Twin) -> bool:
        """Recover the soft-deleted key or secret of this name (False when there is none to recover)."""
        vault, name = self._object_address(request.inputs, request)

        def recover() -> bool:
            try:
                if self.kind is KEY:
                    with twin_.key_client(vault) as keys:
                        if not keys.get_deleted_key(name).recovery_id:
                            return False
                        keys.begin_recover_deleted_key(name).wait()
                else:
                    with twin_.secret_client(vault) as secrets:
                        if not secrets.get_deleted_secret(name).recovery_id:
                            return False
                        secrets.begin_recover_deleted_secret(name).wait()
            except ResourceNotFoundError:
                return False
            return True

        try:
            return await asyncio.to_thread(recover)
        except HttpResponseError as error:
            noun = "key" if self.kind is KEY else "secret"
            raise ProviderError(
                f"failed to recover soft-deleted {noun} {name}: {describe(error)}"
                + (
                    "; the deploying identity needs recover rights (access.deployer: lifecycle)"
                    if error.status_code == 403
                    else ""
                )
            ) from None

    def _object_address(self, inputs: dict[str, Any], request: Request) -> tuple[str, str]:
        name_key = "keyName" if self.kind is KEY else "secretName"
        vault, name = inputs.get("vaultName"), inputs.get(name_key)
        if not isinstance(vault, str) or not isinstance(name, str):
            raise ProviderError(f"{request.name}: vaultName not found in resource state")
        return vault, name

    async def read(self, request: Request) -> Outputs | None:
        twin_ = twin()
        response = await self._call(request, "read", twin_.arm.get, request.id, self.kind.api_version)
        if response is None:
            return None
        live = self.kind.inputs_of(request.id, response)
        live[API_VERSION_INPUT] = self.kind.api_version
        inputs = project(request.inputs, live) if request.inputs else _without_empty(live)
        result = self._outputs(response, request.id)
        result.inputs = inputs
        return result

    async def update(self, request: Request) -> Outputs:
        if request.preview or _contains_unknown(request.inputs):
            merged = copy.deepcopy(request.state)
            predicted = self._predicted(request.inputs, keep=request.state)
            merged.update({k: v for k, v in predicted.items() if not is_unknown(v)})
            return Outputs(request.id, merged)
        twin_ = twin()
        path = self._path(request, request.inputs, twin_)
        body = await asyncio.to_thread(self._body, request, twin_, path, creating=False)
        response = await self._call(request, "update", twin_.arm.put, path, self.kind.api_version, body)
        if self.kind in (KEY, SECRET):
            return self._outputs(response, path)
        return await self._read_back(request, twin_, path)

    async def delete(self, request: Request) -> None:
        twin_ = twin()
        if self.kind in (KEY, SECRET):
            await self._delete_object(request, twin_)
            return
        await self._call(request, "delete", twin_.arm.delete, request.id, self.kind.api_version)

    async def _delete_object(self, request: Request, twin_: Twin) -> None:
        """Keys and secrets: the data plane's DELETE (soft delete), as the deploying identity."""
        vault, name = self._object_address(request.inputs or self.kind.path_values(request.id), request)

        def delete() -> None:
            try:
                if self.kind is KEY:
                    with twin_.key_client(vault) as keys:
                        keys.begin_delete_key(name).wait()
                else:
                    with twin_.secret_client(vault) as secrets:
                        secrets.begin_delete_secret(name).wait()
            except ResourceNotFoundError:
                return  # already gone: deleting is done

        try:
            await asyncio.to_thread(delete)
        except HttpResponseError as error:
            advice = ""
            if error.status_code == 403:
                advice = (
                    "; the deploying identity may not delete it (data-plane delete rights: access.deployer: lifecycle)"
                )
            raise ProviderError(f"{self.kind.token} {request.name}: delete failed: {describe(error)}{advice}") from None


async def get_client_config(args: dict[str, Any]) -> Outputs:
    return Outputs("", await asyncio.to_thread(twin().client_config))


async def get_client_token(args: dict[str, Any]) -> Outputs:
    token = await asyncio.to_thread(twin().client_token, args.get("endpoint"))
    return Outputs("", {"token": token}, secret_paths=("token",))


PLUGIN = Plugin(
    name="azure-native",
    version=PLUGIN_VERSION,
    types={token: ArmResource(kind) for token, kind in ARM_TYPES.items()},
    functions={
        "azure-native:authorization:getClientConfig": get_client_config,
        "azure-native:authorization:getClientToken": get_client_token,
    },
)

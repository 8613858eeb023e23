"""Smoke as Pulumi resource hooks: after a Key or Secret is created or updated, prove it on the vault.

Two entry points:

- `SmokeHookFactory()` is an `ObjectHookFactory` for the `KeyVault` component's `hooks=` seam
  (`vaultspec.components.hooks`): the component calls it with a `HookTarget` (component, vault name,
  kind, name, declaration) for each key and secret it creates, and binds the returned
  `ResourceHookBinding` to that Key or Secret (which already depends on the deployer's grants). The
  program wires it with `run(hooks=SmokeHookFactory())`. The object's spec comes from the spec vaults
  given to the factory, else from the declaration (`KeyArgs` / `SecretArgs`, the snake_case mirror of
  the spec), so components built without YAML are smoked too.
- `SmokeHooks(vault_spec, name=...)` is the per-vault building block: `for_key(name)` /
  `for_secret(name)` return the binding, `function(kind, name)` the hook's async function.

Nothing is created at import time: a `ResourceHook` registers itself with the engine when
constructed, which fails before `set_mocks` or outside a Pulumi program, so each hook is built on the
first call for its object and reused after that.

Each hook is async, named `vaultspec-smoke-<name>-<keys|secrets>-<object>` (unique per program
when `name` is the component's resource name), bound to after_create and after_update, and skipped on
dry runs. It runs `run_smoke` restricted to its one object and raises `SmokeHookFailed` naming the
failed checks, which fails `pulumi up` on CLI >= 3.238 (a warning before that). Hooks never run when
nothing changed, which is why pipelines also run `vaultspec smoke --stack` (docs/pipelines.md).

The vault URL comes only from non-secret identifiers in `args.new_outputs` (raw camelCase names):

1. a Key's `keyUri` (`https://<vault host>/keys/<name>`); a Secret's `properties.secretUri`.
   A Secret's `properties` holds its (secret) value as an input, so the engine may hand the whole
   `properties` over as a secret `Output`; the hook then awaits it and reads `secretUri` only;
2. else the `vault_url` given to the factory (a string, or the Vault's `properties.vaultUri` Output);
3. else the ARM id (`.../vaults/<vault>/keys|secrets/<name>`, from `new_outputs["id"]` or `args.id`)
   with `dns_suffix` (`vault.azure.net` by default).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal
from urllib.parse import urlsplit

import pulumi
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from vaultspec.smoke.options import SmokeOptions, default_options
from vaultspec.smoke.results import SmokeReport
from vaultspec.smoke.runner import run_smoke
from vaultspec.spec.model import Key, Secret, Vault

HOOK_PREFIX = "vaultspec-smoke"
Kind = Literal["keys", "secrets"]
HookFunction = Callable[[pulumi.ResourceHookArgs], Awaitable[None]]


class SmokeHookFailed(Exception):
    """A smoke check failed after a create/update; the message names the checks (never any value)."""


def _vault_url_of_uri(uri: str, kind: Kind) -> str | None:
    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme != "https" or not parts.netloc or not segments or segments[0] != kind:
        return None
    return f"https://{parts.netloc}"


def _vault_name_of_arm_id(arm_id: str) -> str | None:
    segments = [s for s in arm_id.split("/") if s]
    lowered = [s.lower() for s in segments]
    if "vaults" not in lowered:
        return None
    index = lowered.index("vaults")
    return segments[index + 1] if index + 1 < len(segments) else None


async def _plain(value: Any) -> Any:
    """A value as given, or an Output's resolved value (secret Outputs included: only ids are read)."""
    if isinstance(value, pulumi.Output):
        return await value.future()
    return value


class SmokeHooks:
    """The smoke hooks of one vault: one named `ResourceHook` per key and per secret, built on demand."""

    def __init__(
        self,
        vault: Vault,
        *,
        name: str,
        options: SmokeOptions | None = None,
        credential: Callable[[], Any] | None = None,
        vault_url: str | pulumi.Output[str] | None = None,
        dns_suffix: str = "vault.azure.net",
    ) -> None:
        self.vault = vault
        self.name = name
        self.options = options or default_options()
        self.credential = credential
        self.vault_url = vault_url
        self.dns_suffix = dns_suffix
        self._hooks: dict[str, pulumi.ResourceHook] = {}

    def hook_name(self, kind: Kind, object_name: str) -> str:
        return f"{HOOK_PREFIX}-{self.name}-{kind}-{object_name}"

    def for_key(self, key_name: str) -> pulumi.ResourceHookBinding:
        """The binding to pass as `ResourceOptions(hooks=...)` of the Key resource `key_name`."""
        return self._binding("keys", key_name)

    def for_secret(self, secret_name: str) -> pulumi.ResourceHookBinding:
        """The binding to pass as `ResourceOptions(hooks=...)` of the Secret resource `secret_name`."""
        return self._binding("secrets", secret_name)

    def _binding(self, kind: Kind, object_name: str) -> pulumi.ResourceHookBinding:
        hook = self.hook(kind, object_name)
        return pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook])

    def hook(self, kind: Kind, object_name: str) -> pulumi.ResourceHook:
        self._declared(kind, object_name)
        name = self.hook_name(kind, object_name)
        if name not in self._hooks:
            self._hooks[name] = pulumi.ResourceHook(
                name, self.function(kind, object_name), pulumi.ResourceHookOptions(on_dry_run=False)
            )
        return self._hooks[name]

    def _declared(self, kind: Kind, object_name: str) -> str:
        names = [k.name for k in self.vault.keys] if kind == "keys" else [s.name for s in self.vault.secrets]
        match = next((n for n in names if n.lower() == object_name.lower()), None)
        if match is None:
            raise ValueError(f"vault {self.vault.name} declares no {kind[:-1]} named {object_name!r}")
        return match

    def function(self, kind: Kind, object_name: str) -> HookFunction:
        """The hook's async function (what the engine calls; tests call it directly with ResourceHookArgs)."""
        declared = self._declared(kind, object_name)

        async def smoke_object(args: pulumi.ResourceHookArgs) -> None:
            vault_url = await self.vault_url_of(kind, args)
            if vault_url is None:
                raise SmokeHookFailed(
                    f"cannot tell the vault URL of {kind}/{declared} from the resource outputs "
                    "(no keyUri / properties.secretUri / ARM id); pass vault_url= to SmokeHooks"
                )
            await self.smoke(vault_url, f"{kind}/{declared}", urn=args.urn)

        smoke_object.__name__ = f"smoke_{kind}_{declared}".replace("-", "_")
        smoke_object.__doc__ = f"Smoke {kind}/{declared} of vault {self.vault.name} after create/update."
        return smoke_object

    async def vault_url_of(self, kind: Kind, args: pulumi.ResourceHookArgs) -> str | None:
        outputs = args.new_outputs or {}
        uri: Any = None
        if kind == "keys":
            uri = await _plain(outputs.get("keyUri"))
        else:
            properties = await _plain(outputs.get("properties"))
            if isinstance(properties, dict):
                uri = properties.get("secretUri")
        if isinstance(uri, str) and (url := _vault_url_of_uri(uri, kind)):
            return url
        given = await _plain(self.vault_url)
        if isinstance(given, str) and given:
            return given.rstrip("/")
        arm_id = await _plain(outputs.get("id")) or args.id
        vault_name = _vault_name_of_arm_id(arm_id) if isinstance(arm_id, str) else None
        return f"https://{vault_name.lower()}.{self.dns_suffix}" if vault_name else None

    async def smoke(self, vault_url: str, object_name: str, urn: str | None = None) -> None:
        options = self.options.model_copy(update={"only": frozenset({object_name}), "check_grants": False})
        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(_SMOKE_THREADS, self._smoke_in_own_loop, vault_url, options)
        if not report.passed:
            failures = "; ".join(f"{c.check}: {c.detail}" for c in report.failures)
            raise SmokeHookFailed(f"smoke of {object_name} in vault {self.vault.name} failed: {failures}")
        # logged on the resource, so the engine's events (and `vaultspec up`) tie the result to it
        resource = pulumi.resource.DependencyResource(urn) if urn else None
        pulumi.log.info(
            f"smoke of {object_name} passed: {report.count('passed')} checks passed, {report.count('skipped')} skipped",
            resource,
        )

    def _smoke_in_own_loop(self, vault_url: str, options: SmokeOptions) -> SmokeReport:
        """`run_smoke` in a thread and event loop of its own, so nothing it does needs the program's.

        The engine runs an after-hook before it answers the resource's registration, and the Pulumi SDK
        makes each registration a blocking call in a thread of the program loop's default executor (32
        threads at `--parallel 8`). With many resources in flight every one of those threads waits for
        the engine, which waits for this hook: anything here that needed that executor (aiohttp resolves
        host names in it) would wait for ever. A loop of its own has an executor of its own.
        """

        async def run() -> SmokeReport:
            credential = self.credential() if self.credential is not None else None
            try:
                return await run_smoke(vault_url, self.vault, credential, options)
            finally:
                close = getattr(credential, "close", None)
                if close is not None:
                    await close()

        return asyncio.run(run())


_SMOKE_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vaultspec-smoke-hook")


def _camel(value: Any) -> Any:
    """snake_case argument names (components' `KeyArgs`/`SecretArgs`) as the spec's camelCase names."""
    if isinstance(value, Mapping):
        return {to_camel(str(k)): _camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camel(v) for v in value]
    return value


def spec_object_of(kind: Kind, declaration: Mapping[str, Any]) -> Key | Secret:
    """The spec `Key`/`Secret` for a component's declaration (raises ValidationError when it does not fit).

    Only the spec's own fields are kept. A secret whose value the program supplies (`value.value`, a
    Pulumi Input) has no source smoke can compare, so it is treated like a generated one.
    """
    model = Key if kind == "keys" else Secret
    fields = {f.alias or name for name, f in model.model_fields.items()}
    data = {k: v for k, v in _camel(dict(declaration)).items() if k in fields}
    if kind == "secrets":
        value = {k: v for k, v in dict(data.get("value") or {}).items() if k in ("fromConfig", "fromEnv", "generate")}
        data["value"] = value or {"generate": {}}
    return model.model_validate(data)


class SmokeHookFactory:
    """`ObjectHookFactory` for the KeyVault component's `hooks=` seam: a smoke hook per key and secret.

    `vaults` (optional) are the spec's vaults; objects they declare are smoked against that declaration,
    others against the component's own declaration. Returns None (no hooks, with a warning) for an
    object whose declaration is not expressible in the spec.
    """

    def __init__(
        self,
        vaults: Iterable[Vault] = (),
        *,
        options: SmokeOptions | None = None,
        credential: Callable[[], Any] | None = None,
        dns_suffix: str = "vault.azure.net",
    ) -> None:
        self.vaults = {v.name.lower(): v for v in vaults}
        self.options = options
        self.credential = credential
        self.dns_suffix = dns_suffix
        self._factories: dict[tuple[str, str, str], SmokeHooks] = {}

    def __call__(self, target: Any) -> pulumi.ResourceHookBinding | None:
        """`target`: a `vaultspec.components.HookTarget` (component, vault_name, kind, name, declaration)."""
        kind: Kind = "keys" if target.kind == "key" else "secrets"
        hooks = self.hooks_for(target, kind)
        if hooks is None:
            return None
        return hooks.for_key(target.name) if kind == "keys" else hooks.for_secret(target.name)

    def hooks_for(self, target: Any, kind: Kind) -> SmokeHooks | None:
        slot = (str(target.component), kind, str(target.name).lower())
        if slot not in self._factories:
            vault = self._vault_for(target, kind)
            if vault is None:
                return None
            self._factories[slot] = SmokeHooks(
                vault,
                name=str(target.component),
                options=self.options,
                credential=self.credential,
                dns_suffix=self.dns_suffix,
            )
        return self._factories[slot]

    def _vault_for(self, target: Any, kind: Kind) -> Vault | None:
        declared = self.vaults.get(str(target.vault_name).lower())
        objects = (declared.keys if kind == "keys" else declared.secrets) if declared else []
        if any(o.name.lower() == str(target.name).lower() for o in objects):
            return declared
        try:
            spec_object = spec_object_of(kind, target.declaration or {"name": target.name})
            return Vault.model_validate(
                {
                    "name": target.vault_name,
                    "resourceGroup": "unknown",
                    "location": "unknown",
                    "access": {"model": "accessPolicies"},
                    kind: [spec_object.model_dump(mode="json", by_alias=True, exclude_none=True)],
                }
            )
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            reason = f"{where}: {first['msg']}"
            pulumi.log.warn(f"no smoke hook for {kind}/{target.name}: its declaration does not fit the spec ({reason})")
            return None

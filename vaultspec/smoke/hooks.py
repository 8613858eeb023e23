"""Smoke as Pulumi resource hooks: after a Key or Secret is created or updated, prove it on the vault.

`SmokeHooks(vault_spec, name=...)` is a per-vault factory. The KeyVault component calls
`hooks.for_key(key.name)` / `hooks.for_secret(secret.name)` while it builds each child and passes the
returned `ResourceHookBinding` as `ResourceOptions(hooks=...)` (with `depends_on` on the access
grants, so the smoke identity's rights exist when the hook runs). Nothing is created at import time:
a `ResourceHook` registers itself with the engine when constructed, which fails before `set_mocks` or
outside a Pulumi program, so each hook is built on the first `for_*` call and reused after that.

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

from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import pulumi

from vaultspec.smoke.options import SmokeOptions
from vaultspec.smoke.runner import run_smoke
from vaultspec.spec.model import Vault

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
        self.options = options or SmokeOptions()
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
            await self.smoke(vault_url, f"{kind}/{declared}")

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

    async def smoke(self, vault_url: str, object_name: str) -> None:
        credential = self.credential() if self.credential is not None else None
        try:
            options = self.options.model_copy(update={"only": frozenset({object_name}), "check_grants": False})
            report = await run_smoke(vault_url, self.vault, credential, options)
        finally:
            close = getattr(credential, "close", None)
            if close is not None:
                await close()
        if not report.passed:
            failures = "; ".join(f"{c.check}: {c.detail}" for c in report.failures)
            raise SmokeHookFailed(f"smoke of {object_name} in vault {self.vault.name} failed: {failures}")
        pulumi.log.info(
            f"smoke of {object_name} passed: {report.count('passed')} checks passed, {report.count('skipped')} skipped"
        )

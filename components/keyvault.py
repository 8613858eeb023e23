"""`KeyVault`: a vault with its access, keys, secrets, diagnostics and lock, as one component.

Children (all parented to the component, named `<component>/<concern>/...`):

    Vault                     <name>
    RoleAssignment (rbac)     <name>/roles/<role>@<scope>/<principal | deployer | grant-N>
    Key                       <name>/keys/<key>
    ImportedKey               <name>/keys/<key>              (keys with import_: data-plane imports)
    RandomPassword            <name>/secrets/<secret>       (generated values only)
    Secret                    <name>/secrets/<secret>
    DiagnosticSetting         <name>/diagnostics
    ManagementLockByScope     <name>/lock

Keys and secrets depend on the deployer's grants so that a post-create hook (smoke test) can
use the data plane; key- and secret-scoped grants depend on the object they are scoped to; the
lock depends on everything else. Outputs are registered once, at the end.
"""

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization, keyvault

from vaultspec.components.access import (
    RoleGrant,
    access_model,
    access_policy_entries,
    create_role_assignment,
    deployer_grants,
    policy_grants,
    rbac_grants,
)
from vaultspec.components.args import KeyArgs, KeyVaultArgs
from vaultspec.components.deployer import deployer_principal_type
from vaultspec.components.diagnostics import create_diagnostics, create_lock
from vaultspec.components.hooks import HookTarget, ObjectHookFactory, bind_hooks
from vaultspec.components.imported_keys import ImportedKey, create_imported_key
from vaultspec.components.keys import create_key
from vaultspec.components.secrets import create_secret, secret_uri
from vaultspec.components.type_aliases import without_type_aliases
from vaultspec.components.validation import ComponentArgsError, merged_tags, require, waiver_tags
from vaultspec.components.vault import create_vault, vault_properties, vault_uri

KEY_VAULT_TYPE = "vaultspec:index:KeyVault"


class KeyVault(pulumi.ComponentResource):
    """An Azure Key Vault with its data-plane access, keys, secrets, diagnostics and lock."""

    vault_id: pulumi.Output[str]
    """ARM id of the vault."""
    vault_name: pulumi.Output[str]
    """Azure name of the vault."""
    vault_uri: pulumi.Output[str]
    """Data-plane endpoint, e.g. https://<name>.vault.azure.net/."""
    key_ids: pulumi.Output[dict[str, str]]
    """Versionless key identifiers by key name."""
    secret_ids: pulumi.Output[dict[str, str]]
    """Versionless secret identifiers by secret name."""

    def __init__(
        self,
        name: str,
        args: KeyVaultArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        hooks: ObjectHookFactory | None = None,
    ) -> None:
        # children inherit the component's transformations: no azure-native version aliases (type_aliases.py)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[without_type_aliases]))
        super().__init__(KEY_VAULT_TYPE, name, None, opts)
        where = f"KeyVault '{name}'"
        vault_name = args.get("vault_name") or name
        resource_group = require(args, "resource_group_name", where)
        require(args, "location", where)
        access = require(args, "access", where)
        model, deployer_mode, deployer_type = access_model(access, f"{where}.access")
        keys = list(args.get("keys") or ())
        secrets = list(args.get("secrets") or ())
        key_names = _unique_names(keys, f"{where}.keys")
        secret_names = _unique_names(secrets, f"{where}.secrets")
        waivers = waiver_tags(args.get("exceptions"), f"{where}.exceptions")
        protect = bool(args.get("protect", True))

        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        subscription_id, deployer_id = client.subscription_id, client.object_id
        tenant_id = args.get("tenant_id") or client.tenant_id
        rbac = model == "rbac"
        user_grants: list[RoleGrant] = []
        policies = None
        imports = [key for key in keys if key.get("import_") is not None]
        if imports and deployer_mode == "smoke":
            raise ComponentArgsError(
                f"{where}.access.deployer: imported keys are imported through the data plane by the deployer, which "
                "needs lifecycle rights (or none, when you grant them yourself)"
            )
        if rbac:
            user_grants = rbac_grants(access, key_names, secret_names, f"{where}.access")
        else:
            policies = access_policy_entries(
                policy_grants(access, f"{where}.access"), tenant_id, deployer_id, deployer_mode, bool(imports)
            )

        self.vault = create_vault(
            args,
            resource_name=name,
            vault_name=vault_name,
            properties=vault_properties(args, tenant_id=tenant_id, rbac=rbac, access_policies=policies, where=where),
            tags=merged_tags(args.get("tags"), waivers),
            parent=self,
            protect=protect,
        )
        vault_id = self.vault.id

        def assign(
            grant: RoleGrant, resource_name: str, principal: pulumi.Input[str], after: Sequence[pulumi.Resource]
        ) -> authorization.RoleAssignment:
            return create_role_assignment(
                grant,
                resource_name=resource_name,
                principal=principal,
                vault_id=vault_id,
                subscription_id=subscription_id,
                resource_group_name=resource_group,
                vault_name=vault_name,
                parent=self,
                depends_on=after,
            )

        self.role_assignments = []
        if rbac and deployer_mode != "none":
            principal_type = deployer_type or deployer_principal_type(self)
            for grant in deployer_grants(deployer_mode, principal_type):
                self.role_assignments.append(assign(grant, grant.resource_name(name, "deployer"), deployer_id, ()))
        ready = [self.vault, *self.role_assignments]

        self.keys: dict[str, keyvault.Key | ImportedKey] = {}
        generated_first = sorted(enumerate(keys), key=lambda pair: pair[1].get("import_") is not None)
        for index, key in generated_first:  # an imported key may need a generated KEK to exist first
            target = HookTarget(component=name, vault_name=vault_name, kind="key", name=key["name"], declaration=key)
            options = {
                "resource_name": f"{name}/keys/{key['name']}",
                "vault_name": vault_name,
                "resource_group_name": resource_group,
                "tags": merged_tags(key.get("tags"), {}),  # waivers stay on the vault (policies/waivers.py)
                "parent": self,
                "protect": protect,
                "hooks": bind_hooks(hooks, target),
                "where": f"{where}.keys[{index}]",
            }
            if key.get("import_") is not None:
                kek = self._kek_of(key)
                self.keys[key["name"]] = create_imported_key(
                    key, vault_uri=vault_uri(self.vault), depends_on=[*ready, *kek], **options
                )
            else:
                self.keys[key["name"]] = create_key(key, depends_on=ready, **options)
        self.secrets = {}
        for index, secret in enumerate(secrets):
            target = HookTarget(
                component=name, vault_name=vault_name, kind="secret", name=secret["name"], declaration=secret
            )
            self.secrets[secret["name"]] = create_secret(
                secret,
                resource_name=f"{name}/secrets/{secret['name']}",
                vault_name=vault_name,
                resource_group_name=resource_group,
                tags=merged_tags(secret.get("tags"), {}),
                parent=self,
                depends_on=ready,
                hooks=bind_hooks(hooks, target),
                where=f"{where}.secrets[{index}]",
            )

        scoped = {f"keys/{n.lower()}": r for n, r in self.keys.items()}
        scoped.update({f"secrets/{n.lower()}": r for n, r in self.secrets.items()})
        for index, grant in enumerate(user_grants):
            after = [] if grant.scope == "vault" else [scoped[grant.scope.lower()]]
            principal = grant.principal if grant.principal is not None else deployer_id
            self.role_assignments.append(assign(grant, grant.resource_name(name, f"grant-{index}"), principal, after))

        self.diagnostics = None
        if args.get("diagnostics"):
            self.diagnostics = create_diagnostics(
                args["diagnostics"],
                resource_name=f"{name}/diagnostics",
                vault_id=vault_id,
                parent=self,
                where=f"{where}.diagnostics",
            )
        self.lock = None
        if args.get("lock"):
            everything = [*self.role_assignments, *self.keys.values(), *self.secrets.values()]
            if self.diagnostics is not None:
                everything.append(self.diagnostics)
            self.lock = create_lock(
                args["lock"],
                resource_name=f"{name}/lock",
                vault_id=vault_id,
                parent=self,
                depends_on=everything,
                where=f"{where}.lock",
            )

        self.vault_id = vault_id
        self.vault_name = self.vault.name
        self.vault_uri = vault_uri(self.vault)
        self.key_ids = pulumi.Output.all(**{n: k.key_uri for n, k in self.keys.items()}) if self.keys else _empty()
        self.secret_ids = (
            pulumi.Output.all(**{n: secret_uri(s) for n, s in self.secrets.items()}) if self.secrets else _empty()
        )
        self.register_outputs(
            {
                "vaultId": self.vault_id,
                "vaultName": self.vault_name,
                "vaultUri": self.vault_uri,
                "keyIds": self.key_ids,
                "secretIds": self.secret_ids,
            }
        )

    def _kek_of(self, key: KeyArgs) -> list[pulumi.Resource]:
        """The declared KEK a BYOK import unwraps with (created before it), if this vault declares it."""
        kek_name = str((key.get("import_") or {}).get("kek") or "").lower()
        return [resource for key_name, resource in self.keys.items() if kek_name and key_name.lower() == kek_name]


def _unique_names(objects: list, where: str) -> set[str]:
    seen: set[str] = set()
    for index, item in enumerate(objects):
        name = require(item, "name", f"{where}[{index}]")
        if name.lower() in seen:
            raise ComponentArgsError(f"{where}[{index}].name: '{name}' is declared twice (names are case-insensitive)")
        seen.add(name.lower())
    return seen


def _empty() -> pulumi.Output[dict[str, str]]:
    return pulumi.Output.from_input({})

// The vault of examples/default, from TypeScript: one RBAC vault, an RSA-HSM key that rotates,
// a secret whose value is the stack's config secret `sessionKey`. The component runs in vaultspec's
// component provider (Python); this program only declares it through the generated SDK.
import * as pulumi from "@pulumi/pulumi";
import * as vaultspec from "@pulumi/vaultspec";

const PAYMENTS_API = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f";

// Callers allowed through the vault's firewall (the deployer's address, for the data-plane calls that
// delete keys and secrets and run the smoke tests); none: public access off, private endpoints only.
const allowedIps = new pulumi.Config().getObject<string[]>("allowedIps") ?? [];

const payments = new vaultspec.KeyVault("payments", {
    vaultName: "payments-example-kv",
    resourceGroupName: "rg-payments",
    location: "westeurope",
    network: allowedIps.length > 0
        ? { publicAccess: "enabled", defaultAction: "Deny", bypass: "None", ipRules: allowedIps }
        : { publicAccess: "disabled", defaultAction: "Deny", bypass: "None" },
    access: {
        model: "rbac",
        deployer: "lifecycle",
        grants: [{
            principal: PAYMENTS_API,
            principalType: "ServicePrincipal",
            role: "Key Vault Crypto User",
            scope: "keys/signing",
        }],
    },
    keys: [{
        name: "signing",
        type: "RSA-HSM",
        size: 3072,
        ops: ["sign", "verify"],
        expires: "2028-06-01T00:00:00Z",
        rotation: { rotateAfterCreate: "P90D", expiryTime: "P1Y" },
    }],
    secrets: [{
        name: "session-key",
        value: { fromConfig: "sessionKey" },
        contentType: "application/octet-stream",
        expires: "2027-12-01T00:00:00Z",
    }],
    protect: false,
});

export const vaultUri = payments.vaultUri;
export const keyIds = payments.keyIds;

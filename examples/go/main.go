// The vault of examples/default, from Go: one RBAC vault, an RSA-HSM key that rotates, a secret whose
// value is the stack's config secret `sessionKey`. The component runs in vaultspec's component provider
// (Python); this program only declares it through the generated SDK.
package main

import (
	"example.com/pulumi-vaultspec/sdk/go/vaultspec"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

const paymentsAPI = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		// Callers allowed through the vault's firewall (the deployer's address, for the data-plane calls
		// that delete keys and secrets and run the smoke tests); none: public access off, private endpoints only.
		var allowedIps []string
		_ = config.GetObject(ctx, "allowedIps", &allowedIps)
		network := &vaultspec.NetworkArgsArgs{
			PublicAccess: pulumi.StringRef("disabled"), DefaultAction: pulumi.StringRef("Deny"), Bypass: pulumi.StringRef("None"),
		}
		if len(allowedIps) > 0 {
			network.PublicAccess, network.IpRules = pulumi.StringRef("enabled"), allowedIps
		}
		payments, err := vaultspec.NewKeyVault(ctx, "payments", &vaultspec.KeyVaultArgs{
			VaultName:         pulumi.StringRef("payments-example-kv"),
			ResourceGroupName: "rg-payments",
			Location:          "westeurope",
			Network:           network,
			Access: vaultspec.AccessArgsArgs{
				Model:    "rbac",
				Deployer: pulumi.StringRef("lifecycle"),
				Grants: []vaultspec.GrantArgsArgs{{
					Principal:     pulumi.String(paymentsAPI),
					PrincipalType: pulumi.StringRef("ServicePrincipal"),
					Role:          pulumi.StringRef("Key Vault Crypto User"),
					Scope:         pulumi.StringRef("keys/signing"),
				}},
			},
			Keys: []vaultspec.KeyArgsArgs{{
				Name:     "signing",
				Type:     "RSA-HSM",
				Size:     pulumi.IntRef(3072),
				Ops:      []string{"sign", "verify"},
				Expires:  pulumi.StringRef("2028-06-01T00:00:00Z"),
				Rotation: &vaultspec.RotationArgsArgs{RotateAfterCreate: pulumi.StringRef("P90D"), ExpiryTime: pulumi.StringRef("P1Y")},
			}},
			Secrets: []vaultspec.SecretArgsArgs{{
				Name:        "session-key",
				Value:       vaultspec.SecretValueArgsArgs{FromConfig: pulumi.StringRef("sessionKey")},
				ContentType: pulumi.StringRef("application/octet-stream"),
				Expires:     pulumi.StringRef("2027-12-01T00:00:00Z"),
			}},
			Protect: pulumi.BoolRef(false),
		})
		if err != nil {
			return err
		}
		ctx.Export("vaultUri", payments.VaultUri)
		ctx.Export("keyIds", payments.KeyIds)
		return nil
	})
}

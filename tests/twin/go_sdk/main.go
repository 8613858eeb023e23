// The official Azure SDK for Go (azidentity, azkeys, azsecrets), unmodified, against the twin.
//
// Run by tests/twin/test_go_sdk.py with the variables of `vaultspec twin env` (SSL_CERT_FILE, the
// managed-identity endpoint) and the vault's URL; default client options, so the SDK verifies the
// challenge's resource against the vault's host. Prints one line per check ("ok" or "FAIL" with the
// HTTP status, Key Vault error code and request) and exits 1 when any check failed.
package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

var failures int

func report(op string, err error, extra ...string) bool {
	if err == nil {
		fmt.Printf("ok    %-34s %s\n", op, strings.Join(extra, " "))
		return true
	}
	failures++
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		req := ""
		if re.RawResponse != nil && re.RawResponse.Request != nil {
			req = re.RawResponse.Request.Method + " " + re.RawResponse.Request.URL.String()
		}
		msg := strings.ReplaceAll(err.Error(), "\n", " | ")
		if len(msg) > 600 {
			msg = msg[:600]
		}
		fmt.Printf("FAIL  %-34s status=%d code=%s req=%s\n      %s\n", op, re.StatusCode, re.ErrorCode, req, msg)
	} else {
		fmt.Printf("FAIL  %-34s %T: %s\n", op, err, strings.ReplaceAll(err.Error(), "\n", " | "))
	}
	return false
}

func check(op string, cond bool, detail string) {
	if cond {
		report(op, nil, detail)
	} else {
		report(op, fmt.Errorf("check failed: %s", detail))
	}
}

func main() {
	vault := flag.String("vault", "", "vault URL, https://<name>.vault.localhost:<port>")
	flag.Parse()
	ctx := context.Background()
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1000000)

	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if !report("DefaultAzureCredential", err) {
		os.Exit(1)
	}
	sc, err := azsecrets.NewClient(*vault, cred, nil)
	report("secrets NewClient", err)
	secrets(ctx, sc, "gs-"+suffix)
	kc, err := azkeys.NewClient(*vault, cred, nil)
	report("keys NewClient", err)
	keys(ctx, kc, suffix)
	refusals(ctx, sc, kc, *vault)
	fmt.Printf("failures=%d\n", failures)
	if failures > 0 {
		os.Exit(1)
	}
}

// refusals: the errors Key Vault answers, with its status and error code.
func refusals(ctx context.Context, sc *azsecrets.Client, kc *azkeys.Client, vault string) {
	_, err := sc.GetSecret(ctx, "does-not-exist", "", nil)
	refused("get a missing secret", err, 404, "SecretNotFound")
	_, err = kc.GetKey(ctx, "does-not-exist", "", nil)
	refused("get a missing key", err, 404, "KeyNotFound")
	_, err = sc.SetSecret(ctx, "bad_name!", azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil)
	refused("set a secret with an invalid name", err, 400, "BadParameter")
	_, err = kc.GetRandomBytes(ctx, azkeys.GetRandomBytesParameters{Count: to.Ptr(int32(16))}, nil)
	refused("random bytes from a vault (Managed HSM only)", err, 400, "BadParameter")
	stranger, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: azidentity.ClientID("11111111-2222-3333-4444-555555555555")})
	if report("ManagedIdentityCredential of another principal", err) {
		other, _ := azsecrets.NewClient(vault, stranger, nil)
		_, err = other.GetSecret(ctx, "anything", "", nil)
		refused("another principal without a role reads a secret", err, 403, "Forbidden")
	}
}

func refused(op string, err error, status int, code string) {
	var re *azcore.ResponseError
	got := shortErr(err)
	check(op+fmt.Sprintf(" -> %d %s", status, code), errors.As(err, &re) && re.StatusCode == status && re.ErrorCode == code, got)
}

func secrets(ctx context.Context, c *azsecrets.Client, name string) {
	set, err := c.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: to.Ptr("v1"), ContentType: to.Ptr("text/plain"), Tags: map[string]*string{"a": to.Ptr("b")}}, nil)
	if !report("secret set", err) {
		return
	}
	ver := set.ID.Version()
	got, err := c.GetSecret(ctx, name, "", nil)
	if report("secret get (latest)", err) {
		check("secret value roundtrip", got.Value != nil && *got.Value == "v1", fmt.Sprintf("id=%s", *got.ID))
	}
	_, err = c.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: to.Ptr("v2")}, nil)
	report("secret set v2", err)
	got, err = c.GetSecret(ctx, name, ver, nil)
	if report("secret get (version)", err) {
		check("secret old version value", got.Value != nil && *got.Value == "v1", "")
	}
	n := 0
	found := false
	p := c.NewListSecretPropertiesPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if !report("secret list page", err) {
			break
		}
		for _, s := range page.Value {
			n++
			if s.ID.Name() == name {
				found = true
			}
		}
	}
	check("secret list contains", found, fmt.Sprintf("%d secrets", n))
	nv := 0
	pv := c.NewListSecretPropertiesVersionsPager(name, nil)
	for pv.More() {
		page, err := pv.NextPage(ctx)
		if !report("secret list versions page", err) {
			break
		}
		nv += len(page.Value)
	}
	check("secret list versions", nv == 2, fmt.Sprintf("%d versions", nv))
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	up, err := c.UpdateSecretProperties(ctx, name, ver, azsecrets.UpdateSecretPropertiesParameters{
		ContentType: to.Ptr("application/x-test"), Tags: map[string]*string{"k": to.Ptr("v")},
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(false), Expires: &exp}}, nil)
	if report("secret update properties", err) {
		check("secret update reflected", up.ContentType != nil && *up.ContentType == "application/x-test" && up.Attributes != nil && up.Attributes.Enabled != nil && !*up.Attributes.Enabled && up.Attributes.Expires != nil && up.Attributes.Expires.Equal(exp), "")
	}
	_, err = c.GetSecret(ctx, name, ver, nil)
	refused("secret get of a disabled version", err, 403, "Forbidden")

	bk, err := c.BackupSecret(ctx, name, nil)
	report("secret backup", err, fmt.Sprintf("%d bytes", len(bk.Value)))

	del, err := c.DeleteSecret(ctx, name, nil)
	if report("secret delete", err) {
		check("secret delete has recoveryId", del.RecoveryID != nil, fmt.Sprintf("recoveryId=%v", ptr(del.RecoveryID)))
	}
	err = getWithRetry(func() error { _, e := c.GetDeletedSecret(ctx, name, nil); return e })
	report("secret get deleted", err)
	found = false
	pd := c.NewListDeletedSecretPropertiesPager(nil)
	for pd.More() {
		page, err := pd.NextPage(ctx)
		if !report("secret list deleted page", err) {
			break
		}
		for _, s := range page.Value {
			if s.ID.Name() == name {
				found = true
			}
		}
	}
	check("secret list deleted contains", found, "")
	_, err = c.RecoverDeletedSecret(ctx, name, nil)
	report("secret recover", err)
	err = getWithRetry(func() error { _, e := c.GetSecret(ctx, name, "", nil); return e })
	report("secret get after recover", err)
	_, err = c.DeleteSecret(ctx, name, nil)
	report("secret delete (2)", err)
	_ = getWithRetry(func() error { _, e := c.GetDeletedSecret(ctx, name, nil); return e })
	_, err = c.PurgeDeletedSecret(ctx, name, nil)
	report("secret purge", err)
	time.Sleep(200 * time.Millisecond)
	if len(bk.Value) > 0 {
		rs, err := c.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: bk.Value}, nil)
		if report("secret restore", err) {
			got, err := c.GetSecret(ctx, name, "", nil)
			if report("secret get after restore", err) {
				check("secret restored value", got.Value != nil && *got.Value == "v2", fmt.Sprintf("id=%s", ptr((*string)(rs.ID))))
			}
		}
	}
}

func keys(ctx context.Context, c *azkeys.Client, suffix string) {
	rsaName, ecName := "grsa-"+suffix, "gec-"+suffix
	r, err := c.CreateKey(ctx, rsaName, azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSAHSM), KeySize: to.Ptr(int32(2048)), Tags: map[string]*string{"t": to.Ptr("1")}}, nil)
	if report("key create RSA-HSM 2048", err) {
		fmt.Printf("      kid=%s kty=%s ops=%d\n", *r.Key.KID, *r.Key.Kty, len(r.Key.KeyOps))
	}
	e, err := c.CreateKey(ctx, ecName, azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeECHSM), Curve: to.Ptr(azkeys.CurveNameP256)}, nil)
	if report("key create EC-HSM P-256", err) {
		fmt.Printf("      kid=%s kty=%s crv=%s\n", *e.Key.KID, *e.Key.Kty, *e.Key.Crv)
	}
	if r.Key == nil || e.Key == nil {
		return
	}
	g, err := c.GetKey(ctx, rsaName, "", nil)
	if report("key get", err) {
		check("key get same kid", *g.Key.KID == *r.Key.KID, "")
	}
	_, err = c.GetKey(ctx, rsaName, r.Key.KID.Version(), nil)
	report("key get (version)", err)
	n, found := 0, false
	p := c.NewListKeyPropertiesPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if !report("key list page", err) {
			break
		}
		for _, k := range page.Value {
			n++
			if k.KID.Name() == rsaName {
				found = true
			}
		}
	}
	check("key list contains", found, fmt.Sprintf("%d keys", n))

	pubRSA := &rsa.PublicKey{N: new(big.Int).SetBytes(r.Key.N), E: int(new(big.Int).SetBytes(r.Key.E).Int64())}
	pubEC := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(e.Key.X), Y: new(big.Int).SetBytes(e.Key.Y)}
	digest := sha256.Sum256([]byte("hello twin"))

	s, err := c.Sign(ctx, rsaName, "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Value: digest[:]}, nil)
	if report("key sign RS256", err) {
		check("RS256 local verify", rsa.VerifyPKCS1v15(pubRSA, crypto.SHA256, digest[:], s.Result) == nil, "")
		v, err := c.Verify(ctx, rsaName, "", azkeys.VerifyParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Digest: digest[:], Signature: s.Result}, nil)
		if report("key verify RS256", err) {
			check("RS256 verify true", v.Value != nil && *v.Value, "")
		}
	}
	s, err = c.Sign(ctx, ecName, "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmES256), Value: digest[:]}, nil)
	if report("key sign ES256", err) {
		ok := len(s.Result) == 64 && ecdsa.Verify(pubEC, digest[:], new(big.Int).SetBytes(s.Result[:32]), new(big.Int).SetBytes(s.Result[32:]))
		check("ES256 local verify (raw r||s)", ok, fmt.Sprintf("len=%d", len(s.Result)))
		v, err := c.Verify(ctx, ecName, "", azkeys.VerifyParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmES256), Digest: digest[:], Signature: s.Result}, nil)
		if report("key verify ES256", err) {
			check("ES256 verify true", v.Value != nil && *v.Value, "")
		}
		bad := append([]byte{}, s.Result...)
		bad[5] ^= 1
		v, err = c.Verify(ctx, ecName, "", azkeys.VerifyParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmES256), Digest: digest[:], Signature: bad}, nil)
		if report("key verify ES256 tampered", err) {
			check("ES256 tampered verify false", v.Value != nil && !*v.Value, "")
		}
	}
	pt := []byte("plaintext for oaep")
	en, err := c.Encrypt(ctx, rsaName, "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: pt}, nil)
	if report("key encrypt RSA-OAEP-256", err) {
		de, err := c.Decrypt(ctx, rsaName, "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: en.Result}, nil)
		if report("key decrypt RSA-OAEP-256", err) {
			check("decrypt roundtrip", bytes.Equal(de.Result, pt), "")
		}
	}
	localCT, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pubRSA, pt, nil)
	de, err := c.Decrypt(ctx, rsaName, "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: localCT}, nil)
	if report("key decrypt locally-encrypted OAEP256", err) {
		check("local-encrypt/remote-decrypt", bytes.Equal(de.Result, pt), "")
	}
	cek := make([]byte, 32)
	rand.Read(cek)
	w, err := c.WrapKey(ctx, rsaName, "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: cek}, nil)
	if report("key wrap RSA-OAEP-256", err) {
		u, err := c.UnwrapKey(ctx, rsaName, "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: w.Result}, nil)
		if report("key unwrap RSA-OAEP-256", err) {
			check("wrap roundtrip", bytes.Equal(u.Result, cek), "")
		}
	}
	upd, err := c.UpdateKey(ctx, rsaName, "", azkeys.UpdateKeyParameters{Tags: map[string]*string{"u": to.Ptr("2")}, KeyOps: []*azkeys.KeyOperation{to.Ptr(azkeys.KeyOperationSign), to.Ptr(azkeys.KeyOperationVerify), to.Ptr(azkeys.KeyOperationEncrypt), to.Ptr(azkeys.KeyOperationDecrypt), to.Ptr(azkeys.KeyOperationWrapKey), to.Ptr(azkeys.KeyOperationUnwrapKey)}}, nil)
	if report("key update properties", err) {
		check("key update tags", upd.Tags["u"] != nil && *upd.Tags["u"] == "2", "")
	}

	pol := azkeys.KeyRotationPolicy{
		Attributes: &azkeys.KeyRotationPolicyAttributes{ExpiryTime: to.Ptr("P90D")},
		LifetimeActions: []*azkeys.LifetimeAction{
			{Action: &azkeys.LifetimeActionType{Type: to.Ptr(azkeys.KeyRotationPolicyActionRotate)}, Trigger: &azkeys.LifetimeActionTrigger{TimeAfterCreate: to.Ptr("P30D")}},
			{Action: &azkeys.LifetimeActionType{Type: to.Ptr(azkeys.KeyRotationPolicyActionNotify)}, Trigger: &azkeys.LifetimeActionTrigger{TimeBeforeExpiry: to.Ptr("P7D")}},
		}}
	gp, err := c.GetKeyRotationPolicy(ctx, rsaName, nil)
	if report("key get rotation policy (default)", err) {
		fmt.Printf("      default policy: id=%v actions=%d\n", ptr(gp.ID), len(gp.LifetimeActions))
	}
	up, err := c.UpdateKeyRotationPolicy(ctx, rsaName, pol, nil)
	if report("key update rotation policy", err) {
		check("rotation policy echoed", up.Attributes != nil && up.Attributes.ExpiryTime != nil && *up.Attributes.ExpiryTime == "P90D" && len(up.LifetimeActions) == 2, fmt.Sprintf("actions=%d", len(up.LifetimeActions)))
	}
	gp, err = c.GetKeyRotationPolicy(ctx, rsaName, nil)
	if report("key get rotation policy", err) {
		check("rotation policy persisted", len(gp.LifetimeActions) == 2, "")
	}
	rot, err := c.RotateKey(ctx, rsaName, nil)
	if report("key rotate", err) {
		check("rotate new version", rot.Key.KID.Version() != r.Key.KID.Version(), fmt.Sprintf("new=%s", rot.Key.KID.Version()))
	}
	nv := 0
	pv := c.NewListKeyPropertiesVersionsPager(rsaName, nil)
	for pv.More() {
		page, err := pv.NextPage(ctx)
		if !report("key list versions page", err) {
			break
		}
		nv += len(page.Value)
	}
	check("key list versions", nv == 2, fmt.Sprintf("%d versions", nv))

	bk, err := c.BackupKey(ctx, ecName, nil)
	report("key backup", err, fmt.Sprintf("%d bytes", len(bk.Value)))

	del, err := c.DeleteKey(ctx, rsaName, nil)
	if report("key delete", err) {
		check("key delete recoveryId", del.RecoveryID != nil, fmt.Sprintf("recoveryId=%v", ptr(del.RecoveryID)))
	}
	err = getWithRetry(func() error { _, e := c.GetDeletedKey(ctx, rsaName, nil); return e })
	report("key get deleted", err)
	found = false
	pd := c.NewListDeletedKeyPropertiesPager(nil)
	for pd.More() {
		page, err := pd.NextPage(ctx)
		if !report("key list deleted page", err) {
			break
		}
		for _, k := range page.Value {
			if k.KID.Name() == rsaName {
				found = true
			}
		}
	}
	check("key list deleted contains", found, "")
	_, err = c.RecoverDeletedKey(ctx, rsaName, nil)
	report("key recover", err)
	err = getWithRetry(func() error { _, e := c.GetKey(ctx, rsaName, "", nil); return e })
	report("key get after recover", err)

	// backup/restore: delete + purge the EC key, then restore it
	_, err = c.DeleteKey(ctx, ecName, nil)
	report("key delete EC", err)
	_ = getWithRetry(func() error { _, e := c.GetDeletedKey(ctx, ecName, nil); return e })
	_, err = c.PurgeDeletedKey(ctx, ecName, nil)
	report("key purge EC", err)
	time.Sleep(200 * time.Millisecond)
	if len(bk.Value) > 0 {
		rs, err := c.RestoreKey(ctx, azkeys.RestoreKeyParameters{KeyBackup: bk.Value}, nil)
		if report("key restore EC", err) {
			check("restored same kid", *rs.Key.KID == *e.Key.KID, string(*rs.Key.KID))
			s, err := c.Sign(ctx, ecName, "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmES256), Value: digest[:]}, nil)
			if report("key sign with restored EC", err) {
				check("restored key same material", len(s.Result) == 64 && ecdsa.Verify(pubEC, digest[:], new(big.Int).SetBytes(s.Result[:32]), new(big.Int).SetBytes(s.Result[32:])), "")
			}
		}
	}

	// import RSA JWK
	priv, _ := rsa.GenerateKey(rand.Reader, 2048)
	priv.Precompute()
	jwk := &azkeys.JSONWebKey{
		Kty: to.Ptr(azkeys.KeyTypeRSA),
		N:   priv.N.Bytes(), E: big.NewInt(int64(priv.E)).Bytes(), D: priv.D.Bytes(),
		P: priv.Primes[0].Bytes(), Q: priv.Primes[1].Bytes(),
		DP: priv.Precomputed.Dp.Bytes(), DQ: priv.Precomputed.Dq.Bytes(), QI: priv.Precomputed.Qinv.Bytes(),
		KeyOps: []*azkeys.KeyOperation{to.Ptr(azkeys.KeyOperationEncrypt), to.Ptr(azkeys.KeyOperationDecrypt), to.Ptr(azkeys.KeyOperationSign), to.Ptr(azkeys.KeyOperationVerify)},
	}
	impName := "gimp-" + suffix
	im, err := c.ImportKey(ctx, impName, azkeys.ImportKeyParameters{Key: jwk}, nil)
	if report("key import RSA JWK (software)", err) {
		check("imported public matches", new(big.Int).SetBytes(im.Key.N).Cmp(priv.N) == 0 && im.Key.D == nil, fmt.Sprintf("kty=%s", *im.Key.Kty))
		en, err := c.Encrypt(ctx, impName, "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: pt}, nil)
		if report("imported key encrypt", err) {
			dl, err := rsa.DecryptOAEP(sha256.New(), nil, priv, en.Result, nil)
			check("imported: remote encrypt/local decrypt", err == nil && bytes.Equal(dl, pt), "")
		}
	}
	impH := "gimph-" + suffix
	im, err = c.ImportKey(ctx, impH, azkeys.ImportKeyParameters{Key: jwk, HSM: to.Ptr(true)}, nil)
	if report("key import RSA JWK hsm=true", err) {
		check("imported with hsm=true is RSA-HSM", *im.Key.Kty == azkeys.KeyTypeRSAHSM, string(*im.Key.Kty))
	}
	// EC import
	ecp, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pad := func(b []byte) []byte { o := make([]byte, 32); copy(o[32-len(b):], b); return o }
	ecjwk := &azkeys.JSONWebKey{Kty: to.Ptr(azkeys.KeyTypeEC), Crv: to.Ptr(azkeys.CurveNameP256), X: pad(ecp.X.Bytes()), Y: pad(ecp.Y.Bytes()), D: pad(ecp.D.Bytes())}
	_, err = c.ImportKey(ctx, "gimpec-"+suffix, azkeys.ImportKeyParameters{Key: ecjwk}, nil)
	report("key import EC JWK", err)
}

// getWithRetry calls f until it answers something other than 404 (Key Vault applies deletes and
// recoveries after a moment; the twin at once), at most 20 times.
func getWithRetry(f func() error) error {
	var err error
	for i := 0; i < 20; i++ {
		err = f()
		var re *azcore.ResponseError
		if err == nil || !(errors.As(err, &re) && re.StatusCode == 404) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

func shortErr(err error) string {
	if err == nil {
		return "nil"
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode)
	}
	return err.Error()
}

func ptr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

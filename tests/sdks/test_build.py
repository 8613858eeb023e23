"""The TypeScript and Go SDKs generated from the committed schema compile strictly, and both examples build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from vaultspec.sdks.build import GO_EXAMPLE_BINARY, GO_SDK_MODULE, Built
from vaultspec.sdks.schema import committed_schema


def test_the_typescript_sdk_is_generated_from_the_schema_and_compiles_strictly(typescript: Built):
    package = json.loads((typescript.sdk_dir / "package.json").read_text())
    schema = committed_schema()
    assert (package["name"], package["version"]) == ("@pulumi/vaultspec", schema["version"])
    assert package["pulumi"] == {"resource": True, "name": "vaultspec", "version": schema["version"]}
    for module in ("keyVault", "vaultKey", "vaultSecret"):
        assert (typescript.sdk_dir / "bin" / f"{module}.js").is_file()  # compiled by `tsc --strict`
        assert (typescript.sdk_dir / "bin" / f"{module}.d.ts").is_file()
    declaration = (typescript.sdk_dir / "keyVault.ts").read_text()
    assert "'vaultspec:index:KeyVault'" in declaration and "readonly vaultUri!: pulumi.Output<string>" in declaration


def test_the_typescript_example_type_checks_against_the_sdk(typescript: Built):
    """The build ran `tsc --noEmit` on index.ts; here a program breaking the SDK's types is rejected."""
    wrong = typescript.example_dir / "node_modules" / ".vaultspec-type-error.ts"
    wrong.write_text(
        'import * as vaultspec from "@pulumi/vaultspec";\n'
        'const access = {model: "rbac"};\n'
        'new vaultspec.KeyVault("a", {resourceGroupName: "rg", location: "westeurope", access,\n'
        '    keys: [{name: "signing", type: "RSA-HSM", size: "3072", ops: ["sign"]}]});\n'
        'new vaultspec.KeyVault("b", {resourceGroupName: "rg", location: "westeurope", access,\n'
        '    keys: [{name: "signing", type: "RSA-HSM"}]});\n'
    )
    try:
        tsc = typescript.example_dir / "node_modules" / ".bin" / "tsc"
        done = subprocess.run(
            [str(tsc), "--noEmit", "--strict", "--types", "node", str(wrong)],
            cwd=typescript.example_dir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        wrong.unlink()
    assert done.returncode != 0
    errors = [line.split(".ts", 1)[1] for line in done.stdout.splitlines()]
    assert len(errors) == 2
    assert errors[0].startswith("(4,") and "Type 'string' is not assignable to type 'number'" in errors[0]
    assert errors[1].startswith("(6,") and "Property 'ops' is missing" in errors[1] and "'KeyArgsArgs'" in errors[1]


def test_the_go_sdk_vets_and_the_go_example_builds(golang: Built):
    generated = golang.sdk_dir / "vaultspec"
    assert (golang.sdk_dir / "go.mod").read_text().startswith(f"module {GO_SDK_MODULE}\n")
    assert '"vaultspec:index:KeyVault"' in (generated / "keyVault.go").read_text()
    plugin = json.loads((generated / "pulumi-plugin.json").read_text())
    assert plugin == {"resource": True, "name": "vaultspec", "version": committed_schema()["version"]}
    assert GO_EXAMPLE_BINARY.is_file() and GO_EXAMPLE_BINARY.stat().st_size > 0


def test_the_go_sdk_types_reject_a_wrong_program(golang: Built, tmp_path: Path):
    """The same mistake as in TypeScript, in a copy of the example module: Go's compiler refuses it."""
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(golang.example_dir / name, tmp_path / name)
    module = (tmp_path / "go.mod").read_text().replace("=> ./sdks/vaultspec", f"=> {golang.sdk_dir}")
    (tmp_path / "go.mod").write_text(module)
    source = (golang.example_dir / "main.go").read_text().replace("pulumi.IntRef(3072)", '"3072"')
    assert '"3072"' in source
    (tmp_path / "main.go").write_text(source)
    done = subprocess.run(["go", "vet", "."], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode != 0
    assert 'cannot use "3072"' in done.stderr and "*int" in done.stderr

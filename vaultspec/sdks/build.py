"""Generate the TypeScript and Go SDKs from `components/schema.json`, link them into the examples, compile.

The SDKs are generated, never committed: `pulumi package gen-sdk components/schema.json --local` (the
CLI hands the schema to the Node.js or Go language host, which writes the SDK) into the example's
`sdks/vaultspec`, the folder `pulumi package add` would use, linked as `pulumi package add` links it:

- TypeScript: `"@pulumi/vaultspec": "file:sdks/vaultspec"` in package.json (committed, with its
  lockfile); `npm ci` (npm's cache in `.vaultspec/npm-cache`; install scripts off); the SDK compiled
  with the example's TypeScript and `--strict` into `sdks/vaultspec/bin` (what its postinstall script
  does); the example type-checked with `tsc --noEmit` (its tsconfig is strict).
- Go: the SDK's module `example.com/pulumi-vaultspec/sdk/go` (Pulumi's module path for a local SDK
  without a repository) gets the go.mod Pulumi writes for it, the example's go.mod replaces it with
  `./sdks/vaultspec`; `go vet` over the SDK's packages, `go build` of the example.

Each step is cached by its inputs (`steps.py`), so a rebuild with nothing changed runs no command.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vaultspec.engine.toolchain import PulumiCli, find_cli
from vaultspec.sdks.provider import cli_environment
from vaultspec.sdks.schema import REPO_ROOT, SCHEMA_PATH
from vaultspec.sdks.steps import STATE_DIR, Step, build_lock, digest, run

EXAMPLES = REPO_ROOT / "examples"
TYPESCRIPT_DIR = EXAMPLES / "typescript"
GO_DIR = EXAMPLES / "go"
SDK_FOLDER = Path("sdks") / "vaultspec"
GO_SDK_MODULE = "example.com/pulumi-vaultspec/sdk/go"
GO_EXAMPLE_BINARY = STATE_DIR / "bin" / "vaultspec-example-go"
NPM_CACHE = REPO_ROOT / ".vaultspec" / "npm-cache"
GEN_SDK_LANGUAGE = {"typescript": "nodejs", "go": "go"}


@dataclass(frozen=True)
class Built:
    """What a language's build produced (paths exist; every command succeeded)."""

    example_dir: Path
    sdk_dir: Path
    steps_run: tuple[str, ...]


def hosts_stamp(cli: PulumiCli) -> str:
    """What the language hosts were built from (the build script's stamp), else the CLI's version."""
    stamp = cli.bin_dir / ".built"
    return stamp.read_text() if stamp.exists() else str(cli.version)


def generate(cli: PulumiCli, language: str, destination: Path) -> None:
    """`pulumi package gen-sdk components/schema.json --language L --local` into `destination` (replaced)."""
    with tempfile.TemporaryDirectory(dir=STATE_DIR) as scratch:
        command = [str(cli.executable), "package", "gen-sdk", str(SCHEMA_PATH)]
        command += ["--language", GEN_SDK_LANGUAGE[language], "--local", "--out", scratch]
        run(command, cwd=REPO_ROOT, env=cli_environment(cli))
        shutil.rmtree(destination, ignore_errors=True)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(scratch) / GEN_SDK_LANGUAGE[language]), destination)


def build_typescript(cli: PulumiCli | None = None) -> Built:
    cli = cli or find_cli()
    example, sdk = TYPESCRIPT_DIR, TYPESCRIPT_DIR / SDK_FOLDER
    tsc = example / "node_modules" / ".bin" / "tsc"
    ran: list[str] = []
    with build_lock():
        generated = Step("typescript-sdk", digest(SCHEMA_PATH, hosts_stamp(cli)), (sdk / "package.json",))
        if not generated.fresh():
            generate(cli, "typescript", sdk)
            generated.record()
            ran.append(generated.name)
        versions = run(["node", "--version"], cwd=example) + run(["npm", "--version"], cwd=example)
        installed = Step(
            "typescript-npm",
            digest(example / "package.json", example / "package-lock.json", sdk / "package.json", versions),
            (tsc,),
        )
        if not installed.fresh():
            env = {"npm_config_cache": str(NPM_CACHE), "npm_config_update_notifier": "false"}
            run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], cwd=example, env=env)
            installed.record()
            ran.append(installed.name)
        compiled = Step("typescript-sdk-compile", digest(sdk, installed.key), (sdk / "bin" / "package.json",))
        if not compiled.fresh():
            run([str(tsc), "--strict", "-p", str(sdk)], cwd=example)
            shutil.copyfile(sdk / "package.json", sdk / "bin" / "package.json")  # what its postinstall script does
            compiled.record()
            ran.append(compiled.name)
        checked = Step(
            "typescript-example",
            digest(example / "index.ts", example / "tsconfig.json", example / "Pulumi.yaml", compiled.key),
        )
        if not checked.fresh():
            run([str(tsc), "--noEmit", "-p", str(example)], cwd=example)
            checked.record()
            ran.append(checked.name)
    return Built(example, sdk, tuple(ran))


def go_sdk_module_file(cli: PulumiCli) -> str:
    """The go.mod Pulumi's Go generator writes for an SDK it can pack, at the pinned Pulumi SDK."""
    return f"module {GO_SDK_MODULE}\n\ngo 1.24\n\nrequire github.com/pulumi/pulumi/sdk/v3 v{cli.version}\n"


def build_go(cli: PulumiCli | None = None) -> Built:
    cli = cli or find_cli()
    example, sdk = GO_DIR, GO_DIR / SDK_FOLDER
    ran: list[str] = []
    with build_lock():
        generated = Step("go-sdk", digest(SCHEMA_PATH, hosts_stamp(cli)), (sdk / "go.mod",))
        if not generated.fresh():
            generate(cli, "go", sdk)
            (sdk / "go.mod").write_text(go_sdk_module_file(cli))
            generated.record()
            ran.append(generated.name)
        go_version = run(["go", "env", "GOVERSION"], cwd=example)
        vetted = Step("go-sdk-vet", digest(sdk, example / "go.mod", example / "go.sum", go_version))
        if not vetted.fresh():
            run(["go", "vet", f"{GO_SDK_MODULE}/..."], cwd=example)
            vetted.record()
            ran.append(vetted.name)
        compiled = Step("go-example", digest(example / "main.go", vetted.key), (GO_EXAMPLE_BINARY,))
        if not compiled.fresh():
            GO_EXAMPLE_BINARY.parent.mkdir(parents=True, exist_ok=True)
            run(["go", "vet", "."], cwd=example)
            run(["go", "build", "-o", str(GO_EXAMPLE_BINARY), "."], cwd=example)
            compiled.record()
            ran.append(compiled.name)
    return Built(example, sdk, tuple(ran))

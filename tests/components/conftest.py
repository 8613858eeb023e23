"""Fixtures for the component tests: renders of the real program under mocks (never the Pulumi CLI)."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vaultspec.engine.recording import RenderedResource, Rendering
from vaultspec.engine.render import render_spec

ROOT = Path(__file__).resolve().parents[2]


def _clean_project() -> Path:
    """The repository's Pulumi project as a fresh clone has it, without machine-local stack config
    (`make up` writes Pulumi.dev.yaml, whose secure values a plan reads as placeholders)."""
    folder = Path(tempfile.mkdtemp(prefix="vaultspec-project-"))
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "stacks", folder / "stacks")
    return folder


STACKS = _clean_project() / "stacks"

APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
GROUP = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-obs"
    "/providers/Microsoft.OperationalInsights/workspaces/law"
)
# AzureMockBackend's default identity (what getClientConfig answers offline).
TENANT = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
DEPLOYER = "33333333-3333-3333-3333-333333333333"

HEADER = """\
apiVersion: vaultspec/v1
defaults: {location: westeurope, resourceGroup: rg-test}
vaults:
"""

VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
SECRET = "azure-native:keyvault:Secret"
ROLE = "azure-native:authorization:RoleAssignment"
DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting"
LOCK = "azure-native:authorization:ManagementLockByScope"
PASSWORD = "random:index/randomPassword:RandomPassword"
KEY_VAULT = "vaultspec:index:KeyVault"

SECRET_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "VAULTSPEC_DEV_PARTNER_TOKEN")


def vault_id(name: str, resource_group: str = "rg-test") -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}/providers/Microsoft.KeyVault/vaults/{name}"


@pytest.fixture(autouse=True)
def _no_ambient_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell may hold the dev stack's secrets; tests decide them explicitly."""
    for variable in SECRET_ENV:
        monkeypatch.delenv(variable, raising=False)


def _render_clean(path: Path, **kwargs) -> Rendering:
    with pytest.MonkeyPatch.context() as patch:
        for variable in SECRET_ENV:
            patch.delenv(variable, raising=False)
        return render_spec(path, **kwargs)


@pytest.fixture(scope="session")
def dev_rendering() -> Rendering:
    return _render_clean(STACKS / "dev.yaml")


@pytest.fixture(scope="session")
def prod_rendering() -> Rendering:
    return _render_clean(STACKS / "prod.example.yaml")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Pulumi project folder (Pulumi.yaml named vaultspec) for specs written by a test."""
    (tmp_path / "Pulumi.yaml").write_text("name: vaultspec\nruntime: python\n")
    return tmp_path


@pytest.fixture
def write_spec(project: Path) -> Callable[..., Path]:
    """Write vault entries (YAML parts, each dedented, joined) under HEADER as `<stack>.yaml`."""

    def write(*parts: str, stack: str = "dev", header: str = HEADER) -> Path:
        path = project / f"{stack}.yaml"
        vaults = "".join(textwrap.dedent(part) for part in parts)
        path.write_text(header + textwrap.indent(vaults, "  "))
        return path

    return write


@pytest.fixture
def render_vaults(write_spec: Callable[..., Path]) -> Callable[..., Rendering]:
    """Write a spec and render the real program for it (a dry run unless preview=False)."""

    def render(*parts: str, stack: str = "dev", **kwargs) -> Rendering:
        return render_spec(write_spec(*parts, stack=stack), **kwargs)

    return render


def graph(rendering: Rendering) -> list[tuple[str, str, str]]:
    """(type, name, parent name) of every resource, in the rendering's order."""
    names = {r.urn: r.name for r in rendering.resources}
    return [(r.type, r.name, names.get(r.parent or "", "")) for r in rendering.resources]


def children(rendering: Rendering, type_: str) -> list[RenderedResource]:
    return rendering.of_type(type_)


@pytest.fixture
def clean_env() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch

"""The distribution: one package, `vaultspec`, with the card's folders under its namespace."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path


def test_distribution_metadata(repo_root: Path):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    assert project["name"] == "vaultspec"
    assert project["requires-python"] == ">=3.11"
    assert project["scripts"]["vaultspec"] == "vaultspec.cli:main"


def test_card_folders_import_under_the_vaultspec_namespace(repo_root: Path):
    components = importlib.import_module("vaultspec.components")
    policies = importlib.import_module("vaultspec.policies")
    assert Path(components.__file__).parent == repo_root / "components"
    assert Path(policies.__file__).parent == repo_root / "policies"


def test_every_python_package_folder_is_shipped(repo_root: Path):
    """setup.py discovers packages per mapped folder; nothing with an __init__.py may be left out."""
    spec = importlib.util.spec_from_file_location("vaultspec_setup", repo_root / "setup.py")
    assert spec and spec.loader
    setup_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_module)
    shipped = set(setup_module.packages())
    on_disk = set()
    for package, folder in setup_module.FOLDERS.items():
        for init in (repo_root / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(repo_root / folder)
            if relative.parts[:1] == ("venv",):
                continue  # components/venv: the component provider's virtualenv the Pulumi CLI makes (ignored)
            on_disk.add(".".join([package, *relative.parts]))
    assert on_disk <= shipped


def test_console_script_is_installed():
    script = shutil.which("vaultspec", path=str(Path(sys.executable).parent))
    assert script, "the venv has no `vaultspec` console script"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "validate" in result.stdout

"""Package discovery for the folder-to-namespace mapping in pyproject.toml.

The card's top-level folders `components/` and `policies/` ship as `vaultspec.components` and
`vaultspec.policies`; setuptools' declarative `find` cannot prefix discovered names, so this
file does only that. All metadata lives in pyproject.toml.
"""

from setuptools import find_packages, setup

FOLDERS = {"vaultspec": "vaultspec", "vaultspec.components": "components", "vaultspec.policies": "policies"}


def packages() -> list[str]:
    found: list[str] = []
    for package, folder in FOLDERS.items():
        found.append(package)
        found.extend(f"{package}.{sub}" for sub in find_packages(folder))
    return found


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import it
    setup(packages=packages(), package_dir=FOLDERS)

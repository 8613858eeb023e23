"""The default spec runs the whole lifecycle on the twin: create, remove a secret, replace, tear down.

pulumi-azure-native deletes keys and secrets through the data plane with the deploying identity (the
twin's stand-in provider does the same), so the default `access.deployer` must be able to delete; `smoke`
is the explicit least-privilege choice, and then exactly that fails (as `validate` warns).
"""

from __future__ import annotations

from .conftest import spec_text, write

LIFECYCLE = "      deployer: lifecycle\n"


def default_spec(vault: str, **options: bool) -> str:
    text = spec_text(vault, **options)
    assert LIFECYCLE in text, "spec_text changed; update this test"
    return text.replace(LIFECYCLE, "")  # no `deployer:` at all: the default


def test_a_spec_without_deployer_can_remove_a_secret_and_tear_down(vaultspec, tmp_path):
    spec = write(tmp_path, default_spec("e2e-default-kv"), "dev-default.yaml")
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(default_spec("e2e-default-kv", with_generated=False))
    removed = vaultspec("up", spec=spec)
    assert removed.code == 0, removed.output
    assert removed.changes["delete"] >= 1  # the generated secret, deleted through the data plane
    down = vaultspec("down", spec=spec)
    assert down.code == 0, down.output


def test_the_smoke_deployer_cannot_remove_a_secret(vaultspec, tmp_path):
    text = spec_text("e2e-smoke-kv").replace(LIFECYCLE, "      deployer: smoke\n")
    spec = write(tmp_path, text, "dev-smoke.yaml")
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(text.replace("      - name: session\n", "      - name: session-gone\n", 1))
    refused = vaultspec("up", spec=spec)
    assert refused.code == 1
    assert "403" in refused.output and "access.deployer: lifecycle" in " ".join(refused.output.split())

"""The project's __main__.py is the real program with smoke hooks bound; under mocks hooks never fire."""

from __future__ import annotations

import runpy

from vaultspec.engine.render import render

from .conftest import KEY, ROOT, SECRET, STACKS


def test_the_entry_point_binds_a_smoke_hook_to_every_key_and_secret(clean_env):
    clean_env.delenv("PULUMI_CONFIG", raising=False)
    rendering = render(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        stack="prod.example",
        root_directory=ROOT,
    )
    objects = rendering.of_type(KEY) + rendering.of_type(SECRET)
    assert objects
    for resource in objects:
        assert set(resource.options.hooks) == {"after_create", "after_update"}, resource.name
    assert str(STACKS.name) in rendering.stack_outputs["spec"]

"""Spec loader properties that tests/spec does not state: where a problem points, and what it never says.

tests/spec already shows that arbitrary text and YAML trees raise only SpecError. Added here:
- every problem names the file it came from and a line and column inside that file (a pipeline
  annotating the line must find it), for arbitrary text and for a valid spec with one field broken;
- a problem never quotes a string that was the value of a `secrets[].value` field, whatever it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultspec.spec import SpecError, load_spec

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
VALID = {
    "apiVersion": "vaultspec/v1",
    "defaults": {"location": "westeurope", "resourceGroup": "rg"},
    "vaults": [
        {
            "name": "prop-kv",
            "access": {"model": "rbac"},
            "secrets": [{"name": "s1", "value": {"fromEnv": "PROP_SECRET"}}],
        }
    ],
}
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


def _problems(path: Path) -> list:  # type: ignore[type-arg]
    try:
        load_spec(path)
    except SpecError as error:
        return error.problems
    return []


def _inside(path: Path, problem) -> bool:  # type: ignore[no-untyped-def]
    lines = path.read_bytes().decode("utf-8", "replace").split("\n")
    return problem.file == str(path) and 1 <= problem.line <= len(lines) + 1 and problem.col >= 1


@PROPERTY
@given(text=st.text(max_size=400))
def test_every_problem_in_arbitrary_text_points_inside_the_file(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("text") / "spec.yaml"
    path.write_text(text)
    assert all(_inside(path, problem) for problem in _problems(path))


@PROPERTY
@given(
    field=st.sampled_from(["name", "sku", "access", "keys", "secrets", "network", "softDelete", "tags"]), value=values
)
def test_one_broken_field_in_a_valid_spec_is_reported_inside_the_file(
    tmp_path_factory: pytest.TempPathFactory, field: str, value: object
) -> None:
    document = yaml.safe_load(yaml.safe_dump(VALID))
    document["vaults"][0][field] = value
    path = tmp_path_factory.mktemp("field") / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    assert all(_inside(path, problem) for problem in _problems(path))


@PROPERTY
@given(secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=12, max_size=40))
def test_a_problem_never_quotes_a_secret_value(tmp_path_factory: pytest.TempPathFactory, secret: str) -> None:
    document = yaml.safe_load(yaml.safe_dump(VALID))
    for shape in (secret, {"fromEnv": "X", "extra": secret}, [secret], {"fromConfig": [secret]}):  # values, not keys
        document["vaults"][0]["secrets"][0]["value"] = shape
        path = tmp_path_factory.mktemp("secret") / "spec.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        problems = _problems(path)
        assert problems, shape  # none of these shapes is a valid secret source
        assert all(secret not in str(problem) for problem in problems), shape

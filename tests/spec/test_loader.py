"""The YAML loader: positions, duplicates, hostile input; only SpecError ever comes out."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultspec.spec import SpecError, load_spec
from vaultspec.spec.yamlsource import MAX_BYTES


def messages(path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return [f"{p.line}:{p.col}: {p.message}" for p in caught.value.problems]


def test_broken_yaml_points_at_the_offending_character(spec_file):
    found = messages(spec_file("apiVersion: vaultspec/v1\nvaults:\n  - name: [unclosed\n"))
    assert len(found) == 1
    assert found[0].startswith("4:1: invalid YAML:")


def test_duplicate_mapping_keys_are_rejected_not_silently_overwritten(spec_file):
    found = messages(
        spec_file("apiVersion: vaultspec/v1\nvaults:\n  - name: a-kv\n    sku: premium\n    sku: standard\n")
    )
    assert found == ["5:5: duplicate key 'sku' (first defined at line 4)"]


def test_an_empty_file_is_an_error(spec_file):
    assert messages(spec_file("")) == ["1:1: file is empty: expected a vaultspec/v1 document"]
    assert messages(spec_file("# only a comment\n")) == ["1:1: file is empty: expected a vaultspec/v1 document"]


def test_a_document_that_is_not_a_mapping_is_an_error(spec_file):
    found = messages(spec_file("- just\n- a list\n"))
    assert found == ["1:1: (document): Input should be a valid dictionary or instance of Spec"]


def test_wrong_api_version_is_reported_on_its_value(spec_file):
    found = messages(spec_file("apiVersion: vaultspec/v2\nvaults: []\n"))
    assert found[0] == "1:13: apiVersion: Input should be 'vaultspec/v1'"


def test_non_utf8_bytes_name_the_line_and_column(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: vaultspec/v1\nvaults:\n  - name: caf\xe9-kv\n")
    assert messages(path) == ["3:14: file is not valid UTF-8 (byte 0xe9)"]


def test_control_characters_are_refused_with_a_position(tmp_path):
    path = tmp_path / "ctrl.yaml"
    path.write_bytes(b"apiVersion: vaultspec/v1\nvaults: [\x07]\n")
    assert messages(path) == ["2:10: invalid YAML: unacceptable character #x0007"]


def test_oversized_files_are_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    started = time.perf_counter()
    found = messages(path)
    assert found == [f"1:1: file is {MAX_BYTES + 1} bytes; spec files are limited to {MAX_BYTES} bytes"]
    assert time.perf_counter() - started < 5  # guard against parsing it anyway (generous, not a benchmark)


def test_alias_expansion_bombs_are_refused(spec_file):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    found = messages(spec_file("\n".join(lines) + "\n"))
    assert len(found) == 1
    assert "expands to more than" in found[0]


def test_recursive_aliases_are_refused(spec_file):
    found = messages(spec_file("a: &loop\n  b: *loop\n"))
    assert len(found) == 1 and "nests deeper than" in found[0]


def test_deep_nesting_is_refused(spec_file):
    found = messages(spec_file("a: " + "[" * 5000 + "]" * 5000 + "\n"))
    # LibYAML stops at its own depth limit; the pure-Python parser at ours
    assert len(found) == 1 and ("nests deeper than" in found[0] or "maximum nesting depth" in found[0])


def test_several_documents_in_one_file_are_refused(spec_file):
    found = messages(spec_file("apiVersion: vaultspec/v1\n---\napiVersion: vaultspec/v1\n"))
    assert found == ["2:1: invalid YAML: expected a single document in the stream, but found another document"]


def test_unknown_tags_are_refused_at_the_node(spec_file):
    found = messages(spec_file("apiVersion: !!python/object:os.system x\nvaults: []\n"))
    assert found[0].startswith("1:13: invalid YAML value: could not determine a constructor")


def test_merge_keys_work_and_keep_positions(spec_file):
    text = """\
apiVersion: vaultspec/v1
defaults: {location: westeurope, resourceGroup: rg}
x-access: &rbac {model: rbac}
vaults:
  - name: one-kv
    access: *rbac
"""
    # x-access is unknown at the top level: merge keys are fine, unknown fields are still errors
    assert messages(spec_file(text)) == ["3:1: x-access: unknown field"]


def test_yaml_errors_never_quote_the_source_line(spec_file):
    canary = "canary-7d1e-secret"
    found = messages(spec_file(f"apiVersion: vaultspec/v1\nvaults: [{{name: {canary}\n"))
    assert canary not in "\n".join(found)


def test_a_missing_file_is_a_spec_error(tmp_path):
    found = messages(tmp_path / "nope.yaml")
    assert found == ["1:1: cannot read file: No such file or directory"]


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
yaml_trees = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_through_load_spec_raises_only_spec_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_spec(path)
    except SpecError as error:
        assert error.problems and all(p.line >= 1 and p.col >= 1 for p in error.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_trees)
def test_arbitrary_yaml_trees_raise_only_spec_error(tmp_path_factory, tree):
    import yaml

    path = tmp_path_factory.mktemp("tree") / "spec.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "vaultspec/v1", "vaults": [tree], "extra": tree}))
    with pytest.raises(SpecError):
        load_spec(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_trees)
def test_arbitrary_values_in_a_valid_vault_raise_only_spec_error(tmp_path_factory, tree):
    import yaml

    for field in ("keys", "access", "network", "secrets", "sku"):
        document = {
            "apiVersion": "vaultspec/v1",
            "defaults": {"location": "westeurope", "resourceGroup": "rg"},
            "vaults": [{"name": "fuzz-kv", "access": {"model": "rbac"}, field: tree}],
        }
        path = tmp_path_factory.mktemp("field") / "spec.yaml"
        path.write_text(yaml.safe_dump(document))
        with contextlib.suppress(SpecError):
            load_spec(path)

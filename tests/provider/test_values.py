"""Diffs and refreshes compare values as the engine and ARM do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vaultspec.twin.provider.plumbing import UNKNOWN
from vaultspec.twin.provider.values import changed_paths, project, same_value

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5))
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("abc", max_size=3), inner, max_size=3)
)
maps = st.dictionaries(st.text("abcdef", min_size=1, max_size=4), values, max_size=4)


@given(maps)
def test_nothing_changes_between_a_value_and_itself(value):
    assert changed_paths(value, value) == {}


@given(maps)
def test_a_value_refreshed_from_an_identical_live_one_is_exactly_the_declared_one(value):
    assert project(value, value) == value


def test_paths_name_what_was_added_removed_and_updated_as_the_engine_spells_them():
    old = {
        "properties": {"sku": {"name": "standard"}, "ipRules": [{"value": "1.2.3.4"}], "gone": 1},
        "tags": {"a": "1"},
    }
    new = {"properties": {"sku": {"name": "premium"}, "ipRules": [{"value": "5.6.7.8"}], "added": True}, "tags": None}
    assert changed_paths(old, new) == {
        "properties.sku.name": "update",
        "properties.ipRules[0].value": "update",
        "properties.gone": "delete",
        "properties.added": "add",
        "tags": "delete",
    }


def test_an_unknown_new_value_counts_as_a_change_and_integers_equal_their_floats():
    assert changed_paths({"a": "x"}, {"a": UNKNOWN}) == {"a": "update"}
    assert changed_paths({"n": 90}, {"n": 90.0}) == {}
    assert changed_paths({"b": True}, {"b": 1}) == {"b": "update"}


def test_live_values_match_declared_ones_as_arm_compares_them():
    assert same_value("westeurope", "West Europe")
    assert same_value({"keyOps": ["sign", "verify"]}, {"keyOps": ["verify", "sign"], "extra": 1})
    assert not same_value("Enabled", "Disabled")
    assert not same_value(["a"], ["a", "b"])


def test_refresh_keeps_the_declared_shape_and_shows_real_drift():
    declared = {"location": "westeurope", "properties": {"publicNetworkAccess": "enabled", "value": "kept"}}
    live = {
        "location": "West Europe",
        "properties": {"publicNetworkAccess": "Disabled", "vaultUri": "https://kv/"},
        "tags": {"new": "x"},
    }
    assert project(declared, live) == {
        "location": "westeurope",  # the same, spelt as declared
        "properties": {"publicNetworkAccess": "Disabled", "value": "kept"},  # drift shows; write-only value kept
    }

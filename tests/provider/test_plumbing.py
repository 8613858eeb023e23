"""Values cross the provider protocol as the engine sends them: secrets and unknowns both ways."""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from vaultspec.twin.provider.plumbing import UNKNOWN, marshal, unmarshal


def test_secret_paths_are_wrapped_and_unknowns_use_the_engines_sentinel():
    struct = marshal({"token": "t0k3n", "props": {"uri": "u", "later": UNKNOWN}, "n": 3}, secret_paths=("token",))
    wire = dict(struct)
    assert dict(wire["token"])[rpc._special_sig_key] == rpc._special_secret_sig
    assert dict(wire["props"])["later"] == rpc.UNKNOWN
    assert unmarshal(struct) == {"token": "t0k3n", "props": {"uri": "u", "later": UNKNOWN}, "n": 3}


def test_integers_come_back_as_integers_and_lists_keep_their_order():
    assert unmarshal(marshal({"size": 3072, "ops": ["sign", "verify"], "ratio": 0.5})) == {
        "size": 3072,
        "ops": ["sign", "verify"],
        "ratio": 0.5,
    }


def test_a_value_the_engine_cannot_take_is_refused_by_path():
    with pytest.raises(TypeError, match=r"properties\.when"):
        marshal({"properties": {"when": object()}})

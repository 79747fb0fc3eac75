"""The one ``Registry`` shape: registering (also as a decorator), lazy entries, the unknown-name error,
names in registration order and help texts."""

from __future__ import annotations

import pytest

from stitchcli.errors import StitchError, UsageError
from stitchcli.registry import Registry


def test_register_get_and_names_in_order():
    table = Registry("pooling")
    table.register("mean", len, help="masked")

    @table.register("max")
    def biggest(values):
        return max(values)

    assert table.get("mean") is len and table["max"] is biggest and biggest([1, 3]) == 3
    assert table.names() == ["mean", "max"] and list(table) == ["mean", "max"] and len(table) == 2
    assert "max" in table and "sum" not in table and table.items() == [("mean", len), ("max", biggest)]
    table.register("mean", min)  # replaced in place
    assert table.names() == ["mean", "max"] and table.get("mean") is min
    table.unregister("max")
    assert table.names() == ["mean"]


def test_an_unknown_name_is_one_line_with_the_choices():
    table = Registry("anchor strategy", error=UsageError)
    table.register("random", object())
    table.register("fps", object())
    with pytest.raises(UsageError) as raised:
        table.get("best")
    assert str(raised.value) == "unknown anchor strategy 'best'"
    assert raised.value.hint == "choose one of random, fps." and raised.value.exit_code == 2
    assert table.get("best", None) is None
    hinted = Registry("similarity", hint="choose one of {choices}, or several joined by '+'.")
    hinted.register("cosine", object())
    with pytest.raises(StitchError, match="unknown similarity 'dot'") as raised:
        hinted.get("dot")
    assert raised.value.hint == "choose one of cosine, or several joined by '+'."


def test_lazy_entries_import_on_first_get_only():
    table = Registry("map")
    table.register("decode", "json:JSONDecoder", help="a class named by module:attr")
    table.register("path", "os.path:join")
    assert table.names() == ["decode", "path"] and table.choices_text() == "decode or path"
    import json
    import os.path

    assert table.get("decode") is json.JSONDecoder and table.get("path") is os.path.join
    with pytest.raises(ValueError, match="module:attr"):
        table.register("broken", "no_colon")


def test_choices_text_for_help():
    table = Registry("translation")
    for name, phrase in (("procrustes", "orthogonal"), ("affine", None), ("ridge", "penalised")):
        table.register(name, object(), help=phrase)
    assert table.choices_text() == "procrustes, affine or ridge"
    assert table.choices_text(described=True) == "procrustes (orthogonal), affine or ridge (penalised)"
    assert table.choices_text(before=["none"], exclude=["affine"]) == "none, procrustes or ridge"
    assert table.choices_text(after=["none"], conjunction="and") == "procrustes, affine, ridge and none"
    assert table.help("ridge") == "penalised" and table.help("affine") is None


def test_a_dict_style_patch_is_undone(monkeypatch):
    table = Registry("encoder source")
    table.register("hf", object())
    monkeypatch.setitem(table, "fake", len)
    assert table.get("fake") is len
    monkeypatch.undo()
    assert table.names() == ["hf"]


def test_plugins_register_under_their_entry_name_or_their_own(monkeypatch):
    from stitchcli import plugins

    class Named:
        name = "own_name"

    monkeypatch.setattr(plugins, "load_group",
                        lambda group, register: register("entry_name", Named()))
    by_entry = Registry("head architecture", group="stitchcli.heads")
    by_name = Registry("similarity", group="stitchcli.similarities", named_by="name")
    assert by_entry.names() == ["entry_name"] and by_name.names() == ["own_name"]
    assert by_entry.names(load=True) == ["entry_name"]
    assert Registry("x", group="g").names(load=False) == []
    assert Registry("x", group="g").get("y", None, load=False) is None

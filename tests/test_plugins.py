"""Installed packages extend the registries and the commands through entry points (a tiny example
plugin: an anchor strategy, a similarity, a translation map, a task and a command)."""

from __future__ import annotations

import json
import shutil
import sys
from importlib import invalidate_caches
from pathlib import Path

import pytest
import torch

from stitchcli import plugins
from stitchcli.storage import store

from helpers import run_cli

EXAMPLE = Path(__file__).parent / "plugin_example"
# What pip writes into the .dist-info from the example's pyproject.toml entry points.
ENTRY_POINTS = """[stitchcli.anchor_strategies]
every_other = stitch_every_other:EVERY_OTHER

[stitchcli.similarities]
dot = stitch_every_other:DOT

[stitchcli.translations]
lstsq = stitch_every_other:fit_lstsq

[stitchcli.tasks]
labels = stitch_every_other:LABELS

[stitchcli.commands]
every_other = stitch_every_other:register_commands
"""


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """The example installed the way pip leaves a package: the module plus a .dist-info folder."""
    site = tmp_path / "site"
    info = site / "stitch_every_other-0.1.dist-info"
    info.mkdir(parents=True)
    shutil.copy(EXAMPLE / "stitch_every_other.py", site)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stitch-every-other\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    invalidate_caches()
    plugins.reset()
    yield
    plugins.reset()
    from stitchcli.anchors import STRATEGIES
    from stitchcli.cli import app
    from stitchcli.heads import TASKS
    from stitchcli.relspace import SIMILARITIES
    from stitchcli.translate import TRANSLATIONS

    STRATEGIES.unregister("every_other")
    SIMILARITIES.unregister("dot")
    TRANSLATIONS.unregister("lstsq")
    TASKS.unregister("labels")
    app.registered_commands[:] = [c for c in app.registered_commands if c.name != "every-other"]
    sys.modules.pop("stitch_every_other", None)


def test_a_plugin_strategy_and_similarity_work_from_the_cli(installed_plugin, text_csv, world, tmp_path):
    out = tmp_path / "anchors.safetensors"
    result = run_cli("anchors", "--dataset", text_csv, "--num", 3, "--strategy", "every_other", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert store.load(out).tensors["indices"].tolist() == [0, 2, 4]
    relative = tmp_path / "dot.safetensors"
    result = run_cli("relative", "--embeddings", world["files"]["trainA"], "--anchors", world["anchors"],
                     "--similarity", "dot", "--no-center", "--out", relative)
    assert result.exit_code == 0, result.stderr
    file = store.load(relative)
    x = file.tensors["embeddings"]
    assert torch.allclose(file.tensors["relative"], x @ file.tensors["anchor_embeddings"].T, atol=1e-4)


def test_without_the_plugin_the_names_are_unknown(text_csv, tmp_path):
    plugins.reset()
    result = run_cli("anchors", "--dataset", text_csv, "--num", 3, "--strategy", "every_other",
                     "--out", tmp_path / "a.safetensors")
    assert result.exit_code == 2 and "unknown anchor strategy" in result.stderr


def test_a_broken_plugin_is_reported_and_skipped(installed_plugin, text_csv, tmp_path, monkeypatch):
    import stitch_every_other

    monkeypatch.delattr(stitch_every_other, "EVERY_OTHER")  # its entry point no longer resolves
    plugins.reset()
    result = run_cli("anchors", "--dataset", text_csv, "--num", 3, "--strategy", "random",
                     "--out", tmp_path / "a.safetensors")
    assert result.exit_code == 0, result.stderr
    assert "plugin every_other" in result.stderr and "did not load" in result.stderr


def test_a_plugin_map_is_a_translate_choice(installed_plugin, world):
    result = run_cli("evaluate", "--head", world["heads"]["absolute"], "--embeddings", world["files"]["testB"],
                     "--translate", "lstsq", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)["results"]
    assert row["method"] == "lstsq" and row["accuracy"] > 0.9  # B = 3·A·Q: least squares recovers it
    from stitchcli.translate import TRANSLATIONS, fit_translation

    assert "lstsq" in TRANSLATIONS.names()
    source = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(fit_translation("lstsq", source, 2 * source)(torch.ones(1, 3)), torch.full((1, 3), 2.0),
                          atol=1e-4)


def test_a_plugin_task_is_registered_under_its_name(installed_plugin):
    from stitchcli.heads import get_task
    from stitchcli.registry import Registry

    task = get_task("labels")
    assert task.description == "class labels again" and task.metric == get_task("classification").metric
    with pytest.raises(Exception, match="unknown task 'sorting'") as raised:
        get_task("sorting")
    assert "labels" in raised.value.hint and isinstance(__import__("stitchcli.heads").heads.TASKS, Registry)


def test_a_plugin_command_runs_and_is_listed(installed_plugin):
    result = run_cli("every-other", "--count", 4)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["0", "2", "4", "6"]
    listing = run_cli("--help")
    assert listing.exit_code == 0 and "every-other" in listing.stdout


def test_a_built_in_command_reads_no_command_plugins(installed_plugin, monkeypatch):
    calls = []
    monkeypatch.setattr(plugins, "add_commands", lambda app: calls.append(app) or False)
    assert run_cli("info", "--help").exit_code == 0
    assert calls == []

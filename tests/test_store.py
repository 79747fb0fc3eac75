"""Files are written atomically and get the mode the user's umask gives, like a plain open()."""

from __future__ import annotations

import os
import stat

import pytest
import torch

from stitchcli.storage import store


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_saved_files_follow_the_umask(tmp_path, umask):
    path = store.save(tmp_path / "x.safetensors", "anchors", {"indices": torch.arange(3)}, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    plain = tmp_path / "plain"
    plain.write_text("")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), store.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_plot_follows_the_umask(world, tmp_path, umask):
    pytest.importorskip("matplotlib")
    from helpers import run_cli

    plot = tmp_path / "m.png"
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", world["files"]["testA"],
                     "--plot", plot)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(plot.stat().st_mode) == 0o666 & ~umask

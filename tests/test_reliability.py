"""Faults, races and hostile files: a file replaced while read, inconsistent tensors, indexes that point
elsewhere, heads whose metadata lies, two writers of one output, SIGTERM and stale temp files, raw
control characters, byte-identical outputs, field-specific errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from stitchcli.errors import StitchError
from stitchcli.storage import open_rows, store

from conftest import WORDS
from helpers import assert_one_line_error, run_cli


def embeddings(path: Path, rows: int, seed: int, **tensors) -> Path:
    generator = torch.Generator().manual_seed(seed)
    values = {"embeddings": torch.randn(rows, 8, generator=generator),
              "labels": torch.arange(rows) % 2, "indices": torch.arange(rows), **tensors}
    store.save(path, "embeddings", values, {"encoder": "synth:x", "label_names": ["a", "b"],
                                            "num_samples": str(rows), "dim": "8"})
    return path


# 1. A file replaced while it is read is read wholly old (one descriptor for header and rows).
def test_a_file_replaced_between_header_and_rows_is_read_wholly_old(tmp_path):
    path = embeddings(tmp_path / "e.safetensors", 50, seed=0)
    old = store.load(path).tensors["embeddings"]
    reader = open_rows(path)  # header read
    embeddings(path, 80, seed=1, relative=torch.zeros(80, 3))  # atomically replaced: other layout
    assert torch.equal(reader.read("embeddings"), old)
    assert open_rows(path).num_rows == 80  # a new reader sees the new file


def test_load_reads_one_file_even_if_replaced(tmp_path, monkeypatch):
    from stitchcli.storage import plain

    path = embeddings(tmp_path / "e.safetensors", 50, seed=0)
    old = store.load(path).tensors["embeddings"]
    real = plain.inspect_file

    def inspect_then_replace(*args, **kwargs):
        header = real(*args, **kwargs)
        embeddings(path, 80, seed=1)
        return header

    monkeypatch.setattr(plain, "inspect_file", inspect_then_replace)
    assert torch.equal(plain.load_file(path).tensors["embeddings"], old)


# 2. Inconsistent files are refused.
@pytest.mark.parametrize("labels", [100, 600])
def test_row_tensors_that_disagree_are_refused(tmp_path, labels):
    path = tmp_path / "bad.safetensors"
    store.save(path, "embeddings", {"embeddings": torch.randn(600 if labels == 100 else 100, 8),
                                    "labels": torch.zeros(labels, dtype=torch.long),
                                    "indices": torch.arange(labels)},
               {"label_names": ["a", "b"], "encoder": "synth:x"})
    with pytest.raises(StitchError, match="inconsistent"):
        open_rows(path)
    with pytest.raises(StitchError, match="inconsistent"):
        store.load(path)


@pytest.fixture
def index(tmp_path):
    """An index over two shards of 6 rows each (written as `stitch merge` writes it)."""
    from stitchcli.storage import write_index

    run = "r1"
    for i in range(2):
        shard = tmp_path / f"e-{i + 1:05d}-of-00002.safetensors"
        store.save(shard, "embeddings", {"embeddings": torch.randn(6, 4), "labels": torch.zeros(6, dtype=torch.long),
                                         "indices": torch.arange(6 * i, 6 * i + 6)},
                   {"label_names": ["a"], "shard": f"{i}/2", "shard_rows": json.dumps([6 * i, 6 * i + 6]),
                    "shard_run": run, "output_key": f"k{i}", "encoder": "synth:x"})
    return write_index(tmp_path / "e.safetensors")


def edited(index: Path, change) -> Path:
    data = json.loads(index.read_text())
    change(data)
    index.write_text(json.dumps(data))
    return index


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["shards"].append(dict(d["shards"][0])), "listed twice"),
    (lambda d: d.update(num_samples=10**9), "'num_samples' says"),
    (lambda d: d["shards"][1].update(rows=[5, 12]), "'rows' must be [6"),
    (lambda d: d["shards"][0].update(rows=[0, 5]), "'rows' must be [5"),
    (lambda d: d["shards"][0].update(file="/etc/passwd"), "plain file name"),
    (lambda d: d["shards"][0].update(file="../x.safetensors"), "plain file name"),
    (lambda d: d["shards"][0].update(rows="0-6"), "'rows' must be"),
    (lambda d: d.update(shards={}), "non-empty list"),
])
def test_hostile_indexes_are_refused_field_by_field(index, change, message):
    with pytest.raises(StitchError) as caught:
        open_rows(edited(index, change))
    assert message in caught.value.format_message()
    assert "passwd" not in caught.value.format_message() or "plain file name" in message


def test_an_index_whose_ranges_disagree_with_a_shard_is_refused(index):
    data = json.loads(index.read_text())
    data["shards"][0]["rows"], data["shards"][1]["rows"] = [0, 5], [5, 12]
    index.write_text(json.dumps(data))
    with pytest.raises(StitchError, match="holds rows 0..5"):
        open_rows(index)


# 4. Head metadata is checked against its tensors before any module is built; NaN weights refused.
@pytest.mark.parametrize(("field", "value", "message"), [
    ("hidden", "20000000", "does not match its weights"),
    ("in_dim", "7", "does not match its weights"),
    ("num_classes", "-1", "num_classes must be positive"),
    ("num_classes", "10000000000", "label_names lists"),
    ("label_names", '{"a": 1}', "JSON list of strings"),
])
def test_lying_head_metadata_is_refused(world, tmp_path, field, value, message):
    from stitchcli.heads import load_head

    head = store.load(world["heads"]["relative"])
    meta = store.own_metadata(head.metadata) | {"arch": "mlp", field: value}
    if field != "hidden":
        meta |= {"arch": head.metadata["arch"]}
    path = tmp_path / "h.safetensors"
    store.save(path, "head", head.tensors, meta)
    with pytest.raises(StitchError, match=message):
        load_head(path)


def test_nan_weights_are_refused(world, tmp_path):
    from stitchcli.heads import load_head

    head = store.load(world["heads"]["relative"])
    tensors = {k: v.clone() for k, v in head.tensors.items()}
    name = next(k for k, v in tensors.items() if k.startswith("weights.") and v.is_floating_point() and v.numel())
    tensors[name].view(-1)[0] = float("nan")
    path = tmp_path / "nan.safetensors"
    store.save(path, "head", tensors, store.own_metadata(head.metadata))
    with pytest.raises(StitchError, match="NaN or infinite"):
        load_head(path)
    assert_one_line_error(run_cli("evaluate", "--head", path, "--embeddings", world["files"]["testA"]), "NaN")


# 5. One writer per output.
def test_a_second_writer_of_the_same_output_is_refused_naming_the_first(tmp_path):
    from stitchcli.storage.locks import lock_path, output_lock

    out = tmp_path / "e.safetensors"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from stitchcli.storage.locks import output_lock\n"
        f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StitchError, match=f"another stitch process \\(pid {holder.pid}\\)"):
            with output_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out):  # the kernel dropped the killed holder's lock: free again
        with output_lock(out):  # and re-entrant within one process
            assert lock_path(out).exists()
    assert not lock_path(out).exists()


def test_embed_with_an_output_another_run_holds_says_so(tiny_bert, text_csv, tmp_path):
    from stitchcli.storage.locks import output_lock

    out = tmp_path / "e.safetensors"
    with output_lock(out):
        pass  # a lock file left by nobody is no obstacle
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time; from stitchcli.storage.locks import output_lock\n"
        f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        holder.stdout.readline()
        result = run_cli("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out)
        assert_one_line_error(result, "being written by another stitch process")
    finally:
        holder.kill()
        holder.wait()
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


# 6. SIGTERM stops like Ctrl-C; stale temporary files are removed by the next writer.
def test_sigterm_is_one_line_exit_143_and_a_rerun_resumes(tiny_bert, tmp_path):
    import csv
    import random

    data = tmp_path / "long.csv"
    rng = random.Random(0)
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([" ".join(rng.choice(WORDS) for _ in range(40)), i % 2] for i in range(3000))
    out = tmp_path / "e.safetensors"
    args = [sys.executable, "-m", "stitchcli", "embed", "--encoder", f"hf:{tiny_bert}", "--dataset", str(data),
            "--chunk-size", "64", "--batch-size", "16", "--device", "cpu", "--out", str(out)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    partial = tmp_path / "e.safetensors.partial"
    deadline = time.monotonic() + 120
    while not any(partial.glob("data-*.safetensors")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert [line for line in stderr.splitlines() if line.strip()][-1].startswith("Interrupted: stopped by SIGTERM")
    assert "Traceback" not in stderr and not out.exists() and any(partial.glob("data-*.safetensors"))
    rerun = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert rerun.returncode == 0 and "resuming" in rerun.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.safetensors", "long.csv"]


def test_stale_temp_files_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    out = tmp_path / "e.safetensors"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".e.safetensors.{dead}.abc123.tmp"
    live = tmp_path / f".e.safetensors.{os.getppid()}.def456.tmp"  # a running process (pytest's parent)
    other = tmp_path / f".other.safetensors.{dead}.x.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"x" * 1000)
    embeddings(out, 10, seed=0)
    assert not stale.exists() and live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.glob(".e.safetensors.*")) == [live.name]


# 7. A file's strings never reach the terminal raw.
def test_control_characters_in_metadata_are_escaped(world, tmp_path):
    file = store.load(world["files"]["testB"])
    meta = store.own_metadata(file.metadata) | {"encoder": "evil\nError: fake line\x1b[31m[red]x" + "y" * 20000}
    path = tmp_path / "evil.safetensors"
    store.save(path, "embeddings", file.tensors, meta)
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", path)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout  # no escape sequence, no fake line of our own
    assert not any(line.lstrip().startswith("Error: fake") for line in result.stdout.splitlines())
    assert "evil\\nError: fake line\\x1b[31m" in result.stdout
    assert max(map(len, result.stdout.splitlines())) < 1000
    info = run_cli("info", path).stdout
    assert "\x1b" not in info and "\\x1b" in info


def test_error_lines_escape_and_shorten(world, tmp_path):
    file = store.load(world["files"]["testB"])
    meta = store.own_metadata(file.metadata) | {"label_names": json.dumps(["\x1b[2J" + "n" * 10**6, "b", "c", "d"])}
    path = tmp_path / "labels.safetensors"
    store.save(path, "embeddings", file.tensors, meta)
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", path)
    assert_one_line_error(result, "labels of")
    assert "\x1b" not in result.stderr and len(result.stderr) < 3000


# 8. Same input, same bytes.
def test_anchor_and_head_files_are_byte_identical_across_runs(world, text_csv, tmp_path):
    runs = []
    for i in range(2):
        anchors, head = tmp_path / f"a{i}.safetensors", tmp_path / f"h{i}.safetensors"
        env = {**os.environ, "PYTHONHASHSEED": str(i + 1)}
        for args in (["anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", anchors],
                     ["train-head", "-q", "--embeddings", world["files"]["trainA"], "--out", head]):
            subprocess.run([sys.executable, "-m", "stitchcli", *map(str, args)], check=True, env=env)
        runs.append((anchors.read_bytes(), head.read_bytes()))
    assert runs[0] == runs[1]


# 9. Field-specific errors, never "looks like a bug".
def test_field_specific_errors(world, tiny_bert, tmp_path):
    file = store.load(world["files"]["testB"])
    labels = file.tensors["labels"].clone()
    labels[7] = 9
    bad = tmp_path / "ids.safetensors"
    store.save(bad, "embeddings", {**file.tensors, "labels": labels}, store.own_metadata(file.metadata))
    assert_one_line_error(run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", bad),
                          "label id 9 in row 7 is outside its 4 label_names")
    notlist = tmp_path / "names.safetensors"
    store.save(notlist, "embeddings", file.tensors, store.own_metadata(file.metadata) | {"label_names": "{oops"})
    assert_one_line_error(run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", notlist),
                          "'label_names' is not valid JSON")
    tabbed = tmp_path / "t.csv"
    tabbed.write_text("text\tlabel\ngood\ta\n")
    result = run_cli("anchors", "--dataset", tabbed, "--num", 1, "--out", tmp_path / "a.safetensors")
    assert_one_line_error(result, "no text column")
    assert "looks tab-separated" in result.stderr
    quoted = tmp_path / "q.csv"
    quoted.write_text('text,label\n"good,a\nbad,b\n')
    assert_one_line_error(run_cli("anchors", "--dataset", quoted, "--num", 1, "--out", tmp_path / "a.safetensors"),
                          "unexpected end of data")
    result = run_cli("embed", "--encoder", "hf:does/not-matter", "--dataset", quoted, "--max-length", -1,
                     "--out", tmp_path / "e.safetensors")
    assert_one_line_error(result, "--max-length must be positive")
    for result in (run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", bad),):
        assert "bug" not in result.stderr

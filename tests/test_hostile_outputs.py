"""Hostile outputs (issue 28, classes 1 and 6): every command that writes refuses, in one line before any
work, an output that is one of its inputs (the same path, a relative spelling, a symlink, a hard link, a
shard of an input index, a file inside a folder input); a folder of decoded images is replaced only when
it holds exactly what an earlier run wrote; `predict --encoder` failing after embedding leaves no work
file (an interrupt keeps it to resume), and an empty `--shard` part is a valid Parquet file."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from stitchcli.errors import StitchError

from helpers import assert_one_line_error, ok, run_cli

SPELLINGS = ["same", "relative", "symlink", "hardlink"]


def spelled(path: Path, how: str, monkeypatch) -> Path:
    """Another name for ``path`` as an output: itself, relative to the working folder, a symlink to it, or
    a hard link of it."""
    path = Path(path).resolve()
    if how == "same":
        return path
    if how == "relative":
        monkeypatch.chdir(path.parent.parent)
        return Path(path.parent.name) / path.name
    link = path.with_name(f"link-{how}{path.suffix}")
    link.unlink(missing_ok=True)
    if how == "symlink":
        link.symlink_to(path)
    else:
        os.link(path, link)
    return link


def refused(result, snapshot: dict[Path, bytes], contains: str = "would destroy") -> None:
    assert_one_line_error(result, contains)
    for path, data in snapshot.items():
        assert path.read_bytes() == data, f"{path} was changed"


def texts(path: Path, rows: int = 12, labelled: bool = True) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "code"] if labelled else ["text", "code"])
        for i in range(rows):
            words = f"sample {i} the movie was {'good' if i % 2 else 'bad'}"
            writer.writerow([words, "pos" if i % 2 else "neg", i] if labelled else [words, i])
    return path


@pytest.fixture
def copied(world, tmp_path):
    """A private copy of the synthetic world's files (every test may destroy its own)."""
    root = tmp_path / "w"
    shutil.copytree(world["root"], root)
    return root


# ---- one command × one way to name an input as its output ----------------------------------------------

def _train_head(root, tiny_bert, how, monkeypatch):
    target = root / "trainA.safetensors"
    return target, ["train-head", "--embeddings", target, "--out", spelled(target, how, monkeypatch)]


def _anchors(root, tiny_bert, how, monkeypatch):
    target = root / "train.csv"
    return target, ["anchors", "--dataset", target, "--num", 4, "--out", spelled(target, how, monkeypatch)]


def _relative(root, tiny_bert, how, monkeypatch):
    target = root / "anchors.safetensors"
    return target, ["relative", "--embeddings", root / "trainA.safetensors", "--anchors", target,
                    "--out", spelled(target, how, monkeypatch)]


def _embed(root, tiny_bert, how, monkeypatch):
    target = texts(root / "t.csv")
    return target, ["embed", "--encoder", f"hf:{tiny_bert}", "--dataset", target, "--out",
                    spelled(target, how, monkeypatch)]


def _predict(root, tiny_bert, how, monkeypatch):
    target = texts(root / "new.csv", labelled=False)
    head = root.parent / "late" / "h.safetensors"  # a head that carries its anchor set
    return target, ["predict", "--head", head, "--encoder", f"hf:{tiny_bert}",
                    "--dataset", target, "--out", spelled(target, how, monkeypatch)]


def _prompts(root, tiny_bert, how, monkeypatch):
    target = root / "train.csv"
    return target, ["prompts", "--labels-from", target, "--out", spelled(target, how, monkeypatch)]


def _import(root, tiny_bert, how, monkeypatch):
    from safetensors.torch import save_file

    ids = root / "ids.txt"
    ids.write_text("".join(f"id{i}\n" for i in range(10)))
    ok("anchors", "-q", "--ids", ids, "--num", 4, "--out", root / "id-anchors.safetensors")
    target = root / "v.safetensors"
    save_file({"embeddings": torch.randn(10, 6), "extra": torch.ones(3)}, str(target))
    return target, ["import", target, "--ids", ids, "--anchors", root / "id-anchors.safetensors",
                    "--out", spelled(target, how, monkeypatch)]


COMMANDS = {"train-head": _train_head, "anchors": _anchors, "relative": _relative, "embed": _embed,
            "predict": _predict, "prompts": _prompts, "import": _import}


@pytest.mark.parametrize("how", SPELLINGS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_that_is_an_input_is_refused(command, how, copied, tiny_bert, classifier, monkeypatch):
    shutil.copytree(classifier.parent, copied.parent / "late")
    target, argv = COMMANDS[command](copied, tiny_bert, how, monkeypatch)
    refused(run_cli(*argv), {target: target.read_bytes()})


def test_a_head_written_over_a_shard_of_its_input_index(tiny_bert, text_csv, copied):
    emb = copied / "e.safetensors"
    for i in range(2):
        ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--shard", f"{i}/2",
           "--out", emb)
    ok("merge", "-q", emb)
    shard = copied / "e-00001-of-00002.safetensors"
    refused(run_cli("train-head", "--embeddings", f"{emb}.index.json", "--translate", "none", "--out", shard),
            {shard: shard.read_bytes()})


def test_an_output_inside_an_image_folder_input_is_refused(image_folder, tmp_path):
    folder = tmp_path / "pets"
    shutil.copytree(image_folder, folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert_one_line_error(run_cli("anchors", "--dataset", folder, "--num", 3, "--out",
                                  folder / "cat" / "anchors.safetensors"), "inside")
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def test_run_refuses_an_out_dir_inside_its_train_folder(image_folder, tmp_path):
    folder = tmp_path / "pets"
    shutil.copytree(image_folder, folder)
    assert_one_line_error(run_cli("run", "timm:test_resnet", "timm:test_vit", "--train", folder, "--test",
                                  folder, "--out-dir", folder), "inside")
    assert not (folder / "anchors.safetensors").exists()


def test_evaluate_plot_over_an_input(copied):
    target = copied / "testA.png"
    shutil.copy(copied / "testA.safetensors", target)
    refused(run_cli("evaluate", "--head", copied / "head-relative.safetensors", "--embeddings", target,
                    "--plot", target), {target: target.read_bytes()})


def test_push_to_folder_refuses_a_user_readme_and_results_in_place(copied):
    folder = copied / "project"
    folder.mkdir()
    readme = folder / "README.md"
    readme.write_text("# my project\n")
    head = copied / "head-relative.safetensors"
    assert_one_line_error(run_cli("push", head, "--repo", "org/h", "--to-folder", folder), "model card")
    assert readme.read_text() == "# my project\n"
    readme.write_text('{"results": []}')
    refused(run_cli("push", head, "--repo", "org/h", "--results", readme, "--to-folder", folder),
            {readme: readme.read_bytes()})
    readme.unlink()
    ok("push", "-q", head, "--repo", "org/h", "--to-folder", folder)  # then again: its own files
    ok("push", "-q", folder / "head.safetensors", "--repo", "org/h", "--to-folder", folder)


# ---- a folder of decoded images is replaced only when an earlier run wrote all of it ----------------

def _decoded(folder: Path, rows: int = 3) -> Path:
    import numpy as np

    from stitchcli.evaluate.prediction_files import ImageWriter

    writer = ImageWriter(folder)
    writer.write(list(range(rows)), np.zeros((rows, 1, 4, 4), dtype=np.uint8))
    writer.close()
    return folder


@pytest.mark.parametrize("stranger", ["notes.txt", "000099.png", "sub/", "index-only"])
def test_an_image_folder_with_a_users_files_is_not_replaced(tmp_path, stranger):
    from stitchcli.evaluate.prediction_files import check_image_folder

    folder = _decoded(tmp_path / "decoded")
    check_image_folder(folder)  # exactly an earlier run's files: replaced
    if stranger == "sub/":
        (folder / "sub").mkdir()
    elif stranger == "index-only":  # a user's index.csv beside their own pictures
        (folder / "index.csv").write_text("name,comment\n000000.png,mine\n")
    else:
        (folder / stranger).write_bytes(b"mine")
    with pytest.raises(StitchError, match="no earlier `stitch predict` wrote there"):
        check_image_folder(folder)


# ---- late failures of `predict --encoder`: no work file left, the rerun works --------------------------

@pytest.fixture(scope="module")
def classifier(tiny_bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("late")
    train = texts(root / "train.csv", rows=24)
    ok("anchors", "-q", "--dataset", train, "--num", 6, "--out", root / "a.safetensors")
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", train, "--anchors", root / "a.safetensors",
       "--out", root / "e.safetensors")
    ok("train-head", "-q", "--embeddings", root / "e.safetensors", "--space", "relative", "--out",
       root / "h.safetensors")
    ok("train-head", "-q", "--embeddings", root / "e.safetensors", "--out", root / "absolute.safetensors")
    return root / "h.safetensors"


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_labels_the_head_does_not_know_still_predict_and_leave_nothing(classifier, tiny_bert, tmp_path):
    data = tmp_path / "other.csv"
    data.write_text("text,label\nthe movie,alpha\nthe plot,beta\n")
    result = run_cli("predict", "--head", classifier, "--encoder", f"hf:{tiny_bert}", "--dataset", data,
                     "--out", tmp_path / "p.csv", "--json")
    assert result.exit_code == 0, result.stderr
    assert "no accuracy" in result.stderr
    assert _debris(tmp_path) == []


def test_mixed_ids_into_parquet_are_refused_before_embedding_then_rerun(classifier, tiny_bert, tmp_path):
    pytest.importorskip("pyarrow")
    data = tmp_path / "new.jsonl"  # ids that are numbers and strings: no single Parquet type
    data.write_text("".join(json.dumps({"text": f"the movie {i}", "code": i if i % 3 else f"x{i}"}) + "\n"
                            for i in range(8)))
    args = ["predict", "--head", classifier, "--encoder", f"hf:{tiny_bert}", "--dataset", data,
            "--out", tmp_path / "p.parquet"]
    assert_one_line_error(run_cli(*args, "--id-column", "code"), "parquet")
    assert _debris(tmp_path) == [] and not (tmp_path / "p.parquet").exists()
    ok(*args, "--id-column", "text")  # the input fixed: the rerun writes the predictions
    assert _debris(tmp_path) == []


def test_a_late_user_error_removes_the_work_file_an_interrupt_keeps_it(classifier, tiny_bert, tmp_path,
                                                                       monkeypatch):
    import stitchcli.evaluate.predict as predict

    data = texts(tmp_path / "new.csv", labelled=False)
    args = ["predict", "--head", classifier, "--encoder", f"hf:{tiny_bert}", "--dataset", data,
            "--out", tmp_path / "p.csv"]

    def fail(exc):
        def run(request):
            assert Path(request.embeddings).exists()  # embedded, then the failure
            raise exc
        return run

    monkeypatch.setattr(predict, "run_predict", fail(StitchError("a late mistake")))
    assert_one_line_error(run_cli(*args), "a late mistake")
    assert _debris(tmp_path) == []
    monkeypatch.setattr(predict, "run_predict", fail(KeyboardInterrupt()))
    try:
        run_cli(*args)
    except KeyboardInterrupt:
        pass
    assert _debris(tmp_path) == [".p.csv.embeddings.safetensors"]  # resumable, as documented
    monkeypatch.undo()
    ok(*args)
    assert _debris(tmp_path) == []


def test_an_empty_shard_writes_a_valid_parquet_file(classifier, tiny_bert, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    data = texts(tmp_path / "new.csv", rows=2, labelled=False)
    out = tmp_path / "p.parquet"
    for i in range(3):
        ok("predict", "-q", "--head", classifier.with_name("absolute.safetensors"), "--encoder",
           f"hf:{tiny_bert}", "--dataset", data, "--shard", f"{i}/3", "--out", out)
    empty = tmp_path / "p-00001-of-00003.parquet"
    table = pq.read_table(empty)
    assert table.num_rows == 0 and table.column_names == ["id", "label", "score"]
    assert sum(pq.read_table(tmp_path / f"p-{i:05d}-of-00003.parquet").num_rows for i in (1, 2, 3)) == 2
    assert _debris(tmp_path) == []

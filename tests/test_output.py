"""What users read: help text, JSON value types, and an empty result being an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli
from synthetic import ok


def test_help_keeps_square_brackets(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert "stitchcli[plot]" in run_cli("evaluate", "--help").stdout


def test_accuracy_is_exact_not_float32_noise(world):
    [result] = json.loads(ok("evaluate", "--head", world["heads"]["relative"], "--embeddings",
                             world["files"]["testA"], "--json"))["results"]
    assert result["accuracy"] == round(result["accuracy"] * 200) / 200  # a count over 200 samples
    assert len(repr(result["accuracy"])) <= 6


def test_info_json_decodes_metadata_types(world):
    info = json.loads(ok("info", world["heads"]["relative"], "--json"))["metadata"]
    assert info["label_names"] == ["ant", "bee", "cat", "dog"]
    assert info["seed"] == 0 and info["num_anchors"] == 40 and info["topk"] == 25
    assert info["center"] is True and info["encoder"] == "synth:A"
    # A closed-form head records no Adam settings or hidden layer it never used.
    assert info["arch"] == "logistic" and not {"lr", "epochs", "batch_size", "hidden", "activation"} & set(info)
    assert isinstance(info["train_accuracy"], float)


def test_every_pair_skipped_is_an_error(world):
    result = run_cli("evaluate", "--head", world["heads"]["absolute"], "--embeddings", world["files"]["testC"],
                     "--skip-incompatible")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("skipped ") and "dimension 16" in lines[0]  # why, pair by pair
    assert lines[1].startswith("Error: nothing could be evaluated") and lines[2].startswith("Hint: ")
    assert len(lines) == 3


def test_fail_under_outside_0_1_is_a_usage_error(world):
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", world["files"]["testA"],
                     "--fail-under", "1.5")
    assert result.exit_code == 2 and "pydantic" not in result.stderr.lower()
    assert result.stderr.startswith("Error: --fail-under is an accuracy between 0 and 1, got 1.5")


def test_short_names_drop_shared_parts_and_stay_distinct():
    from stitchcli.evaluate.report import short_names

    assert short_names(["runs/q/minilm-l6-test.safetensors", "runs/q/minilm-l3-test.safetensors"]) == {
        "runs/q/minilm-l6-test.safetensors": "minilm-l6-test", "runs/q/minilm-l3-test.safetensors": "minilm-l3-test"}
    assert short_names(["timm:tf_efficientnet_lite1", "timm:mobilenetv2_100"]) == {
        "timm:tf_efficientnet_lite1": "tf_efficientnet_lite1", "timm:mobilenetv2_100": "mobilenetv2_100"}
    assert short_names(["a/x.safetensors", "b/x.safetensors"]) == {"a/x.safetensors": "a/x",
                                                                   "b/x.safetensors": "b/x"}
    assert short_names(["only/one.safetensors"]) == {"only/one.safetensors": "only/one"}


def test_table_names_are_not_cut_off_a_terminal(world, monkeypatch):
    long_names = world["root"] / "a-rather-long-folder-name-that-would-not-fit"
    long_names.mkdir(exist_ok=True)
    files = []
    for name in ("A", "B", "C"):
        target = long_names / f"test-encoder-{name}-with-a-long-name.safetensors"
        target.write_bytes(world["files"][f"test{name}"].read_bytes())
        files += ["--embeddings", target]
    out = ok("evaluate", "--head", world["heads"]["relative"], *files)
    for name in "ABC":
        assert f"test-encoder-{name}-with-a-long-name" in out  # whole, in the header and the legend
    assert "…" not in out


def test_flags_show_no_type_in_help(monkeypatch):
    from stitchcli.cli import app

    monkeypatch.setenv("COLUMNS", "200")
    for name in [c.name for c in app.registered_commands] + [None]:
        text = run_cli(*([name] if name else []), "--help").stdout
        assert "<bool>" not in text, name
    assert "--center" in run_cli("embed", "--help").stdout


def test_progress_off_a_terminal_is_plain_lines(capsys):
    from stitchcli import console

    bar = console.LoggedProgress(console.TextColumn("{task.description}"), console=console.stderr,
                                 disable=True, every=0.0)
    with bar:
        task = bar.add_task("embedding", total=4)
        for _ in range(4):
            bar.advance(task)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("embedding: 1/4 (25%)") and lines[-1].startswith("embedding: 4/4 (100%)")
    assert "\x1b" not in "".join(lines) and len(lines) == 4  # no redraws, no escape codes, one at the end


def test_short_tasks_stay_silent_off_a_terminal(capsys):
    from stitchcli import console

    with console.LoggedProgress(console.TextColumn("{task.description}"), console=console.stderr,
                                disable=True) as bar:
        task = bar.add_task("evaluating", total=2)
        bar.advance(task, 2)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("command", "usage"), [("run", "ENCODERS..."), ("compare", "FIRST SECOND"),
                                                 ("info", "FILE"), ("push", "HEAD")])
def test_usage_lines_show_metavars(command, usage):
    out = run_cli(command, "--help").stdout
    assert f"[OPTIONS] {usage}" in out and "{" not in out.split("\n\n")[0] + out.splitlines()[1]


def test_prompts_summary_is_one_sentence():
    out = run_cli("--help").stdout
    summary = out[out.index("prompts"):out.index("info")]
    assert "Write class prompts to a CSV" in summary and "embed it with" not in summary



def collecting():
    """A reporter (``stitchcli.events``) that keeps what the core says, and its list."""
    from stitchcli import events

    lines = []

    class Collect(events.Reporter):
        def log(self, message):
            lines.append(("log", message))

        def warn(self, message):
            lines.append(("warn", message))

        def progress(self, description, total=None, *, completed=0, rate=False):
            lines.append(("progress", description, total, completed))
            return events.Progress()

    return Collect(), lines


def test_the_core_reports_through_the_current_reporter(tmp_path):
    from stitchcli import events
    from stitchcli.embed.resume import ChunkStore

    reporter, lines = collecting()
    (tmp_path / "p").mkdir()
    with events.use(reporter):
        ChunkStore(tmp_path / "p", "key", resume=False)
        (tmp_path / "q").mkdir()
        (tmp_path / "q" / "state.json").write_text('{"run_key": "old"}')
        with events.quietly():  # status lines dropped, warnings kept
            ChunkStore(tmp_path / "q", "new")
            events.log("not shown")
        with events.progress("embedding", 4, completed=1) as bar:
            bar.advance(3)
    assert events.current() is events.SILENT  # the previous reporter is back
    assert [line[0] for line in lines] == ["log", "warn", "progress"]
    assert "--no-resume: discarding" in lines[0][1] and "starting over" in lines[1][1]
    assert lines[2] == ("progress", "embedding", 4, 1)


def test_the_silent_default_prints_nothing_but_logs_warnings(capsys, caplog):
    from stitchcli import events

    events.log("status")
    with events.progress("training", 2) as bar:
        bar.advance(2, "epoch 1/1")
    events.warn("careful")
    assert capsys.readouterr() == ("", "")
    assert [r.getMessage() for r in caplog.records if r.name == "stitchcli"] == ["careful"]


def test_the_console_reporter_keeps_warnings_when_quiet(capsys):
    from stitchcli import console, events

    with events.use(console.ConsoleReporter(verbose=False)):
        events.log("wrote x")
        events.warn("plugin p did not load")
        with events.progress("embedding", 2) as bar:
            bar.advance(2)
    assert capsys.readouterr().err == "warning: plugin p did not load\n"
    with events.use(console.ConsoleReporter()):
        events.log("wrote [x].csv")  # plain text from the core: brackets are not markup
        with events.progress("a", 1) as first, events.progress("b", 1) as second:  # one shared bar
            first.advance()
            second.advance()
    assert capsys.readouterr().err == "wrote [x].csv\n"


def test_every_command_prints_json_with_one_indentation():
    from stitchcli.commands._output import dumps

    assert dumps({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'
    commands = Path(__file__).resolve().parent.parent / "stitchcli" / "commands"
    for path in commands.glob("*.py"):
        text = path.read_text()
        if path.name != "_output.py":
            assert "json.dumps" not in text and "typer.echo" not in text, f"{path.name}: use Output.data"


def test_a_summary_is_json_with_one_indentation_and_quiet_drops_status_lines(world, tmp_path):
    out = run_cli("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative",
                  "--out", tmp_path / "h.safetensors", "--json")
    assert out.exit_code == 0 and out.stdout.startswith('{\n  "head": ') and out.stderr == "", out.stderr
    assert json.loads(out.stdout)["space"] == "relative"
    quiet = run_cli("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative",
                    "--topk", 5000, "--out", tmp_path / "q.safetensors", "--quiet")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.stderr  # a status line

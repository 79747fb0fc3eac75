"""Recipes parse and use only options that exist (they cannot run here: they need the hub)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import typer

from stitchcli.cli import app

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
SCRIPTS = ["paper-text.sh", "paper-vision.sh", "quickstart.sh", "test.sh", "hard-pairs.sh", "cross-lingual.sh",
           "reconstruction.sh", "graphs.sh"]


def stitch_calls(script: Path) -> list[tuple[str, list[str]]]:
    """Each `"$STITCH" <command> ...` call in a script: the command and the options it passes."""
    text = script.read_text().replace("\\\n", " ")
    calls = []
    for line in text.splitlines():
        for segment in re.findall(r'"\$STITCH"\s+([\w-]+)([^;|&>]*)', line):
            command, rest = segment
            calls.append((command, re.findall(r"(?<![\w-])(--[\w-]+)", rest)))
    return calls


def known_options() -> dict[str, set[str]]:
    group = typer.main.get_command(app)
    return {name: {opt for param in command.params for opt in param.opts}
            for name, command in group.commands.items()}


@pytest.mark.parametrize("name", SCRIPTS)
def test_recipe_parses(name):
    subprocess.run(["bash", "-n", str(RECIPES / name)], check=True)


@pytest.mark.parametrize("name", ["paper-text.sh", "paper-vision.sh", "quickstart.sh", "hard-pairs.sh",
                                  "cross-lingual.sh", "reconstruction.sh", "graphs.sh"])
def test_recipe_uses_only_existing_commands_and_options(name):
    calls = stitch_calls(RECIPES / name)
    assert calls, "no stitch calls found"
    options = known_options()
    for command, flags in calls:
        assert command in options, f"unknown command stitch {command}"
        unknown = set(flags) - options[command]
        assert not unknown, f"stitch {command} has no {sorted(unknown)}"


def test_the_checker_catches_a_wrong_option(tmp_path):
    script = tmp_path / "bad.sh"
    script.write_text('"$STITCH" embed --encoder x \\\n  --no-such-flag y\n')
    [(command, flags)] = stitch_calls(script)
    assert command == "embed" and "--no-such-flag" in flags and "--no-such-flag" not in known_options()["embed"]

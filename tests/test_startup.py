"""Start-up stays light: `stitch --help` never imports torch, transformers or timm."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "timm", "numpy", "safetensors")
COMMANDS = ["", "embed", "anchors", "relative", "train-head", "evaluate", "info"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_does_not_import_heavy_modules(command):
    argv = [a for a in (command, "--help") if a]
    code = (
        "import sys\n"
        "from stitchcli.cli import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_console_script_and_module_entry_points():
    for argv in ([sys.executable, "-m", "stitchcli", "--version"],):
        result = subprocess.run(argv, capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout.startswith("stitch ")


def test_usage_error_exits_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "stitchcli", "embed", "--bogus"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "Error:" in result.stderr

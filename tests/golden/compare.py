"""Compare two folders of golden outputs (``make.generate``): tensors exactly, metadata key by key.

``differences(golden, new)`` returns one line per difference (empty: the same). What is allowed to
differ, on both sides alike, is in ``IGNORED_KEYS`` and ``normalise`` with the reason for each::

    .venv/bin/python -m tests.golden.compare tests/golden/files /tmp/new-out
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from .make import MANIFEST, ROOT

# Metadata keys left out of the comparison, and why. Nothing else is ignored.
IGNORED_KEYS = {
    # New in issue 27 (typed metadata): every file records the version of its format. The golden files
    # predate it; the new files may carry it. It is the one format change issue 27 allows.
    "format_version": "added by issue 27 to every file",
    # The package version that wrote the file: changes with every release, not with the format.
    "stitchcli_version": "the writer's package version, not part of the format",
    # Issue 28 keys caches and "up to date" checks on the model's content (encoders/identity.py: its
    # files' bytes or stat, the loading library's version), which differs from machine to machine and
    # run to run (the tiny models are written in tmp); the key is compared by the next run, not read.
    "output_key": "a hash that includes the model files' content and stat (issue 28), not part of the format",
}
# Metadata keys new since the golden files were written: allowed to appear where the golden file has
# none (in a file's metadata, and in the anchor set a head carries as the JSON of 'anchor_set'), and
# compared as any other key where the golden file has one. Nothing else may be new.
NEW_KEYS = {
    # Issue 28: an anchor set records the SHA-256 of its stored samples, so that samples replaced under
    # the same set fingerprint are refused when read (stitchcli/anchors/samples.py, ``samples_digest``).
    "samples_sha256": "added by issue 28 to anchor sets with stored samples",
    # Issue 29: a translated head records how many refinement rounds its map may take and how many of
    # its own train rows it keeps for that (stitchcli/heads/pool.py); evaluate --json rows say the rounds.
    "refine": "added by issue 29 to translated heads and to evaluate --json rows",
    "pool_rows": "added by issue 29 to translated heads that keep a pool of their train rows",
}
# Tensors new since the golden files were written, allowed where the golden file has none.
NEW_TENSORS = {
    "pool_embeddings": "added by issue 29: a seeded sample of a translated head's train rows (refinement)",
}
FLOAT_TOLERANCE = 1e-6  # evaluate --json numbers (sums over rows may be reordered); tensors are exact


def root_of(folder: Path) -> str:
    """The tmp root the outputs in ``folder`` were made under (``make.generate`` records it)."""
    return json.loads((Path(folder) / MANIFEST).read_text())["root"]


def normalise(value: str, root: str) -> str:
    """A value with the run's tmp root replaced by a placeholder. ``make.generate`` passes paths relative
    to the root, but the code resolves some to absolute ones, which name the tmp folder of the run and
    so differ from run to run: an anchor set's ``dataset``, an embeddings file's ``anchors_file`` and
    ``anchors_dataset``, the ``dataset`` inside a head's ``anchor_set``. Applied to every value (and to
    every string of the JSON reports and the predictions), so a new absolute path is covered too."""
    return value.replace(root, ROOT)


def read_safetensors(path: Path):
    """Tensors and raw header metadata of a safetensors file, read by safetensors itself (not stitchcli,
    whose reading is what is under test)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return {k: handle.get_tensor(k) for k in handle.keys()}, dict(handle.metadata() or {})


def without_new_keys(old: dict, new: dict) -> dict:
    """``new`` less the ``NEW_KEYS`` that ``old`` lacks; a head's carried ``anchor_set`` (JSON of an anchor
    file's metadata) likewise, inside."""
    new = {k: v for k, v in new.items() if not (k in NEW_KEYS and k not in old)}
    if "anchor_set" in old and "anchor_set" in new:
        try:
            inner_old, inner_new = json.loads(old["anchor_set"]), json.loads(new["anchor_set"])
        except ValueError:
            return new
        if isinstance(inner_old, dict) and isinstance(inner_new, dict):
            new["anchor_set"] = json.dumps(without_new_keys(inner_old, inner_new), sort_keys=True)
    return new


def compare_metadata(name: str, old: dict, new: dict, old_root: str, new_root: str) -> list[str]:
    old = {k: normalise(v, old_root) for k, v in old.items() if k not in IGNORED_KEYS}
    new = without_new_keys(old, {k: normalise(v, new_root) for k, v in new.items() if k not in IGNORED_KEYS})
    out = [f"{name}: metadata '{k}' missing (golden: {old[k]!r})" for k in sorted(old.keys() - new.keys())]
    out += [f"{name}: metadata '{k}' is new ({new[k]!r})" for k in sorted(new.keys() - old.keys())]
    out += [f"{name}: metadata '{k}': golden {old[k]!r}, now {new[k]!r}"
            for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    return out


def compare_tensors(name: str, old: dict, new: dict) -> list[str]:
    import torch

    out = [f"{name}: tensor '{k}' missing" for k in sorted(old.keys() - new.keys())]
    out += [f"{name}: tensor '{k}' is new" for k in sorted(new.keys() - old.keys() - NEW_TENSORS.keys())]
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        if a.dtype != b.dtype or a.shape != b.shape:
            out.append(f"{name}: tensor '{key}': golden {a.dtype} {tuple(a.shape)}, now {b.dtype} {tuple(b.shape)}")
        elif not torch.equal(a, b):
            diff = (a.double() - b.double()).abs().max().item() if a.is_floating_point() else "ints"
            out.append(f"{name}: tensor '{key}' differs (max abs difference {diff})")
    return out


def compare_json(where: str, old, new) -> list[str]:
    """Key by key (objects are unordered, so key order and indentation are not compared), lists in
    order, floats to ``FLOAT_TOLERANCE``, everything else exactly (including int vs float vs null)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{where}.{k} missing" for k in old if k not in new]
        out += [f"{where}.{k} is new" for k in new if k not in old and k not in NEW_KEYS]
        for key in old:
            if key in new:
                out += compare_json(f"{where}.{key}", old[key], new[key])
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: golden has {len(old)} items, now {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in compare_json(f"{where}[{i}]", a, b)]
    if type(old) is float and type(new) is float and math.isclose(old, new, rel_tol=0, abs_tol=FLOAT_TOLERANCE):
        return []
    if type(old) is not type(new) or old != new:
        return [f"{where}: golden {old!r}, now {new!r}"]
    return []


def _strings(value, root: str):
    if isinstance(value, str):
        return normalise(value, root)
    if isinstance(value, dict):
        return {k: _strings(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, root) for v in value]
    return value


def differences(golden: Path, new: Path) -> list[str]:
    """Every difference between the golden outputs and new ones, one line each."""
    golden, new = Path(golden), Path(new)
    old_root, new_root = root_of(golden), root_of(new)
    names = {p.name for p in golden.iterdir()} - {MANIFEST}
    new_names = {p.name for p in new.iterdir()} - {MANIFEST}
    out = [f"{n}: not written now" for n in sorted(names - new_names)]
    out += [f"{n}: new file" for n in sorted(new_names - names)]
    for name in sorted(names & new_names):
        a, b = golden / name, new / name
        if name.endswith(".safetensors"):
            (old_tensors, old_meta), (new_tensors, new_meta) = read_safetensors(a), read_safetensors(b)
            out += compare_tensors(name, old_tensors, new_tensors)
            out += compare_metadata(name, old_meta, new_meta, old_root, new_root)
        elif name.endswith(".json"):
            out += compare_json(name, _strings(json.loads(a.read_text()), old_root),
                                _strings(json.loads(b.read_text()), new_root))
        else:  # predictions (.csv, .jsonl): byte for byte
            old_text, new_text = normalise(a.read_text(), old_root), normalise(b.read_text(), new_root)
            if old_text != new_text:
                old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
                first = next((i for i, (x, y) in enumerate(zip(old_lines, new_lines, strict=False)) if x != y),
                             min(len(old_lines), len(new_lines)))
                out.append(f"{name}: differs from line {first + 1} (golden "
                           f"{old_lines[first] if first < len(old_lines) else None!r}, now "
                           f"{new_lines[first] if first < len(new_lines) else None!r})")
    return out


if __name__ == "__main__":
    found = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) or "no differences")
    sys.exit(1 if found else 0)

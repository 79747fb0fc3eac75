"""A head's model card: ``README.md`` with YAML front matter for the hub, from the head's metadata
(and a stitching table from an ``evaluate --json`` report). No torch."""

from __future__ import annotations

import json
from pathlib import Path

from stitchcli.errors import StitchError, printable
from stitchcli.heads.tasks import get_task
from stitchcli.metadata import HeadMeta
from stitchcli.storage import store


def _yaml_scalar(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or number is valid YAML


def _encoder_id(spec: str) -> str:
    return spec.partition(":")[2] if ":" in spec else spec


def front_matter(meta: HeadMeta, where: str) -> dict:
    """What the hub indexes: library, tags, the encoder trained on, modality, labels, anchors."""
    anchors = meta.carried_anchors(where)
    views = (anchors.views or []) if anchors is not None else []
    modalities = sorted({view.get("modality") for view in views} - {None, "?"}) or (
        [anchors.modality] if anchors is not None and anchors.modality != "?" else [])
    count = (meta.relative.num_anchors if meta.relative is not None
             else anchors.num_anchors if anchors is not None else 0)
    return {
        "library_name": "stitchcli",
        "tags": ["stitchcli", "relative-representations", "zero-shot-stitching", meta.task,
                 *(f"modality:{m}" for m in modalities)],
        "encoder": meta.encoder,
        "modality": modalities[0] if len(modalities) == 1 else modalities,
        "labels": meta.label_names,
        "space": meta.space,
        "arch": meta.arch,
        "translate": meta.translate or "none",
        "anchors": {"count": count, "strategy": anchors.strategy if anchors else None,
                    "seed": anchors.seed if anchors else 0, "fingerprint": meta.anchors_fingerprint,
                    "samples": meta.anchor_samples or "none"},
    }


def _yaml(front: dict) -> str:
    lines = []
    for key, value in front.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value:  # an empty list: `[]` below (a bare `key:` is null)
            lines.append(f"{key}:")
            lines += [f"- {_yaml_scalar(v)}" for v in value]
        else:
            lines.append(f"{key}: {_yaml_scalar(value)}")
    return "\n".join(lines)


# The scores a report's rows may carry, in table order: a classifier's accuracy and macro F1, a value
# head's MSE with R² or PSNR. A column is shown when some row has it (accuracy and F1 when none does).
SCORES = (("accuracy", "accuracy"), ("macro_f1", "macro F1"), ("mse", "MSE"), ("r2", "R²"),
          ("psnr", "PSNR (dB)"))


def _score(row: dict, key: str, number: int) -> str:
    value = row.get(key)
    if value is None:  # a pair that could not run, or a score of another task
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StitchError(f"results entry {number}: {key} is {printable(json.dumps(value), 40)}, "
                          "not a number", hint="give the report `stitch evaluate --json` wrote.")
    return f"{value:.3f}" if key != "mse" else f"{value:.4g}"


def stitching_table(results: dict) -> str:
    """A Markdown table of an ``evaluate --json`` report: one row per (head, encoder)."""
    rows = results.get("results", [])
    if not rows:
        return ""
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise StitchError(f"results entry {number} is not an object of an `evaluate --json` report")
    keys = [(key, title) for key, title in SCORES if any(r.get(key) is not None for r in rows)] or \
        list(SCORES[:2])
    lines = ["| head encoder | read through | encoder | " + " | ".join(t for _, t in keys) + " | samples |",
             "|---|---|---|" + "---:|" * len(keys) + "---:|"]
    for number, r in enumerate(rows):
        scores = " | ".join(_score(r, key, number) for key, _ in keys)
        lines.append(f"| `{_cell(r.get('head_encoder'))}` | {_cell(r.get('method'))} | "
                     f"`{_cell(r.get('encoder'))}` | {scores} | {_cell(r.get('num_samples'))} |")
    return "\n".join(lines)


def _cell(value) -> str:
    """A value as one table cell: on one line, with no column separator of its own."""
    return printable(str(value), 120).replace("|", "\\|").replace("`", "'")


def model_card(head: Path, repo: str, results: dict | None = None) -> str:
    """The ``README.md`` for a head pushed to ``repo``."""
    meta = HeadMeta.from_metadata(store.load_metadata_checked(head, kind="head"), str(head))
    front = front_matter(meta, str(head))
    labels = ", ".join(f"`{name}`" for name in front["labels"])
    encoder = _encoder_id(front["encoder"])
    data = "--dataset DATA.csv" if front["modality"] == "text" else "--dataset IMAGES/"
    body = [
        f"# {repo.rsplit('/', 1)[-1]}",
        "",
        f"A stitchcli {meta.task} head trained on `{encoder}` "
        f"({front['space']} space, {front['arch']} head)" + (f" with labels {labels}." if labels else "."),
        "",
        f"It carries its {front['anchors']['count']} anchors"
        + (" and their samples" if front["anchors"]["samples"] == "stored" else "")
        + ", so any encoder of the same modality can use it without training (zero-shot stitching, "
        "Moschella et al., ICLR 2023): the encoder embeds the anchors and the data, and the head reads "
        + ("the data's similarities to the anchors." if front["space"] == "relative" else
           f"the data through a {front['translate']} map fitted on the anchors."),
        "",
        "## Use",
        "",
        "```bash",
        f"stitch predict --head hf:{repo} --encoder hf:OTHER/ENCODER {data} --out predictions.csv",
        "```",
        "",
        "```python",
        "from stitchcli import load_head",
        "",
        f'head = load_head("hf:{repo}")',
        'predictions = head.predict(samples, encoder="hf:OTHER/ENCODER")' if get_task(meta.task).classifies
        else "values = head.predict_vectors(x, anchors=anchor_x)  # x, anchor_x: any encoder's vectors",
        "```",
    ]
    table = stitching_table(results or {})
    if table:
        body += ["", "## Stitching results", "", table]
    return f"---\n{_yaml(front)}\n---\n\n" + "\n".join(body) + "\n"

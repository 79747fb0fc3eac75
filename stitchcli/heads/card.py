"""A head's model card: ``README.md`` with YAML front matter for the hub, from the head's metadata
(and a stitching table from an ``evaluate --json`` report). No torch."""

from __future__ import annotations

import json
from pathlib import Path

from stitchcli.storage import store


def _yaml_scalar(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or number is valid YAML


def _encoder_id(spec: str) -> str:
    return spec.partition(":")[2] if ":" in spec else spec


def front_matter(meta: dict[str, str]) -> dict:
    """What the hub indexes: library, tags, the encoder trained on, modality, labels, anchors."""
    anchors = json.loads(meta["anchor_set"]) if meta.get("anchor_set") else {}
    views = json.loads(anchors["views"]) if anchors.get("views") else []
    modalities = sorted({view.get("modality") for view in views} - {None, "?"}) or (
        [anchors["modality"]] if anchors.get("modality") not in (None, "?") else [])
    return {
        "library_name": "stitchcli",
        "tags": ["stitchcli", "relative-representations", "zero-shot-stitching", "classification",
                 *(f"modality:{m}" for m in modalities)],
        "encoder": meta.get("encoder", "?"),
        "modality": modalities[0] if len(modalities) == 1 else modalities,
        "labels": json.loads(meta.get("label_names", "[]")),
        "space": meta.get("space"),
        "arch": meta.get("arch"),
        "translate": meta.get("translate", "none"),
        "anchors": {"count": int(meta.get("num_anchors", anchors.get("num_anchors", 0)) or 0),
                    "strategy": anchors.get("strategy"), "seed": int(anchors.get("seed", 0) or 0),
                    "fingerprint": meta.get("anchors_fingerprint"),
                    "samples": meta.get("anchor_samples", "none")},
    }


def _yaml(front: dict) -> str:
    lines = []
    for key, value in front.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}:")
            lines += [f"- {_yaml_scalar(v)}" for v in value]
        else:
            lines.append(f"{key}: {_yaml_scalar(value)}")
    return "\n".join(lines)


def stitching_table(results: dict) -> str:
    """A Markdown table of an ``evaluate --json`` report: one row per (head, encoder)."""
    rows = results.get("results", [])
    if not rows:
        return ""
    lines = ["| head encoder | read through | encoder | accuracy | macro F1 | samples |",
             "|---|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r.get('head_encoder')}` | {r.get('method')} | `{r.get('encoder')}` | "
                     f"{float(r.get('accuracy', 0)):.3f} | {float(r.get('macro_f1', 0)):.3f} | "
                     f"{r.get('num_samples')} |")
    return "\n".join(lines)


def model_card(head: Path, repo: str, results: dict | None = None) -> str:
    """The ``README.md`` for a head pushed to ``repo``."""
    meta = store.load_metadata_checked(head, kind="head")
    front = front_matter(meta)
    labels = ", ".join(f"`{name}`" for name in front["labels"])
    encoder = _encoder_id(front["encoder"])
    data = "--dataset DATA.csv" if front["modality"] == "text" else "--dataset IMAGES/"
    body = [
        f"# {repo.rsplit('/', 1)[-1]}",
        "",
        f"A stitchcli classification head trained on `{encoder}` "
        f"({front['space']} space, {front['arch']} head) with labels {labels}.",
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
        'predictions = head.predict(samples, encoder="hf:OTHER/ENCODER")',
        "```",
    ]
    table = stitching_table(results or {})
    if table:
        body += ["", "## Stitching results", "", table]
    return f"---\n{_yaml(front)}\n---\n\n" + "\n".join(body) + "\n"

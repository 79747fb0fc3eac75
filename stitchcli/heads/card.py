"""A head's model card: ``README.md`` with YAML front matter for the hub, from the head's metadata
(and a stitching table from an ``evaluate --json`` report). No torch."""

from __future__ import annotations

import json
from pathlib import Path

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
    meta = HeadMeta.from_metadata(store.load_metadata_checked(head, kind="head"), str(head))
    front = front_matter(meta, str(head))
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

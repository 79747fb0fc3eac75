"""``stitch prompts``: a labelled text file of class prompts, for heads that classify another modality."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import QuietOpt

# A few of CLIP's ImageNet prompt templates; a prototype head averages them per class.
TEMPLATES = ("a photo of a {label}.", "a picture of a {label}.", "an image of a {label}.",
             "a close-up photo of a {label}.", "a drawing of a {label}.")


def prompts(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .csv file (columns text, label).")],
    labels_from: Annotated[str | None, typer.Option(
        help="Take the class names from this dataset (e.g. the image folder to classify).")] = None,
    label: Annotated[list[str] | None, typer.Option(
        help="A class name (repeatable), instead of --labels-from.")] = None,
    template: Annotated[list[str] | None, typer.Option(
        help="A prompt with {label} in it (repeatable; default: five photo/picture/drawing "
        "templates).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a CSV (text, label) with one prompt per class and template: embed it with a text
    encoder and --anchors whose parallel view is the other modality, then train a prototype head."""
    import csv

    from stitchcli.errors import UsageError
    from stitchcli.storage import store

    if (labels_from is None) == (not label):
        raise UsageError("give either --labels-from DATASET or one or more --label NAME")
    templates = list(template or TEMPLATES)
    bad = [t for t in templates if "{label}" not in t]
    if bad:
        raise UsageError(f"template {bad[0]!r} has no {{label}}")
    names = list(label or [])
    if labels_from is not None:
        from stitchcli.commands.options import check_dataset_exists
        from stitchcli.data import load_dataset

        check_dataset_exists(labels_from)
        names = load_dataset(labels_from).label_names
    store.check_writable(Path(out))
    with store.atomic_path(Path(out), suffix=".csv") as tmp, \
            tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for name in names:  # the label stays the class name; the text reads it with spaces
            for text in templates:
                writer.writerow([text.replace("{label}", str(name).replace("_", " ")), name])
    if not quiet:
        from stitchcli.console import log

        log(f"[green]wrote[/] {out}: {len(names)} classes × {len(templates)} templates")


def register(app: typer.Typer) -> None:
    app.command("prompts")(prompts)

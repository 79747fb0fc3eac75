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
    """Write class prompts to a CSV (text, label), one per class and template.

    Embed it with a text encoder and --anchors whose parallel view is the other modality, then
    train a prototype head on it."""
    import csv

    from stitchcli.commands._output import Output
    from stitchcli.errors import UsageError
    from stitchcli.storage import store

    output = Output(quiet=quiet)
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
        from stitchcli.errors import StitchError

        check_dataset_exists(labels_from)
        data = load_dataset(labels_from)
        if not data.labelled:  # prompts reads a source's default columns only: no --label-column here
            raise StitchError(f"{labels_from} has no labels to take class names from (no 'label' "
                              "column, no class folders)",
                              hint="give the class names with --label NAME (repeatable).")
        names = data.label_names
    store.check_writable(Path(out))
    from stitchcli.commands.options import refuse_overwrite, source_path

    refuse_overwrite(out, {"--labels-from": source_path(labels_from)})
    with store.atomic_path(Path(out), suffix=".csv") as tmp, \
            tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for name in names:  # the label stays the class name; the text reads it with spaces
            for text in templates:
                writer.writerow([text.replace("{label}", str(name).replace("_", " ")), name])
    output.log(f"[green]wrote[/] {out}: {len(names)} classes × {len(templates)} templates")


def register(app: typer.Typer) -> None:
    app.command("prompts")(prompts)

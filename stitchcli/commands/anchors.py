"""``stitch anchors``: choose anchor samples (indices into the train source) shared by all encoders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import (
    STRATEGY_CHOICES,
    ImageColumnOpt,
    JsonOpt,
    LabelColumnOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    SplitOpt,
    StreamingOpt,
    TextColumnOpt,
)


def anchors(
    num: Annotated[int, typer.Option("--num", "-k", help="Number of anchors K.")],
    out: OutOpt,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", help="The train source the anchors are rows of (any format of `stitch embed`).",
        rich_help_panel="Dataset")] = None,
    strategy: Annotated[str, typer.Option(
        help=f"{STRATEGY_CHOICES}.")] = "random",
    embeddings: Annotated[list[Path] | None, typer.Option(
        help="An encoder's embeddings of the same train source (fps, kmeans: one or more; "
        "aligned: two or more). Repeatable.")] = None,
    seed: SeedOpt = 0,
    split: SplitOpt = None,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    image_column: ImageColumnOpt = "image",
    streaming: StreamingOpt = False,
    parallel: Annotated[list[str] | None, typer.Option(
        "--parallel", help="Another view of the same items, row i = row i of --dataset (a translation, "
        "the images of captions...): every encoder embeds the anchors from the view it reads. "
        "Repeatable.", rich_help_panel="Parallel anchors")] = None,
    id_column: Annotated[str | None, typer.Option(
        help="Align the --parallel views by this column instead of by row (an image folder's id is "
        "the file name without suffix).", rich_help_panel="Parallel anchors")] = None,
    ids: Annotated[Path | None, typer.Option(
        help="Instead of --dataset: sample ids of vectors made elsewhere (one per line, .npy or .json), "
        "for `stitch import`.")] = None,
    samples: Annotated[bool, typer.Option(
        "--samples/--no-samples", help="Keep the anchor samples in the file (texts as UTF-8, images as "
        "their original bytes, every view), so the source is no longer needed; --no-samples keeps only "
        "row numbers (for data that must not be copied).")] = True,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Choose K anchor samples from the train source; every encoder then uses the same ones."""
    from collections import Counter

    from stitchcli.commands._output import Output
    from stitchcli.commands.options import check_dataset_exists, check_streaming
    from stitchcli.errors import UsageError
    from stitchcli.storage import store

    output = Output(json_output, quiet)

    # Checked before torch is imported (~2 s): a wrong path fails at once.
    store.check_writable(out)
    if (dataset is None) == (ids is None):
        raise UsageError("give either --dataset SOURCE or --ids IDS_FILE")
    if ids is not None:
        dataset = f"ids:{ids}"
    check_streaming(dataset, streaming)
    check_dataset_exists(dataset)
    for view in parallel or []:
        check_dataset_exists(view)
    if id_column is not None and not parallel:
        raise UsageError("--id-column aligns --parallel views; give at least one --parallel source")
    for path in embeddings or []:
        store.load_metadata_checked(path, kind="embeddings")
    from stitchcli.commands.options import refuse_overwrite, source_path

    refuse_overwrite(out, {"--dataset" if ids is None else "--ids": source_path(dataset),
                           "--embeddings": embeddings,
                           "--parallel": [source_path(view) for view in parallel or []]})

    from stitchcli.anchors import choose_anchors, get_strategy, save_anchor_set
    from stitchcli.data import ReadOptions, load_dataset

    get_strategy(strategy)
    read = ReadOptions(split, text_column, label_column, image_column, streaming)
    data = load_dataset(dataset, read)
    anchor_set, labels, chosen_by = choose_anchors(data, num, strategy, seed, embeddings or [], read,
                                                   parallel or [], id_column, keep_samples=samples)
    save_anchor_set(out, anchor_set, labels, chosen_by)
    # Unlabelled data: stratified is random (one class), and there is nothing to count per class.
    counts = Counter(data.label_names[i] for i in labels.tolist()) if data.labelled else Counter()
    summary = {
        "anchors": str(out), "num_anchors": len(anchor_set.indices), "strategy": strategy,
        "seed": seed, "dataset": data.source, "anchors_fingerprint": anchor_set.fingerprint,
        "per_class": dict(sorted(counts.items())),
        "views": [view.as_json() for view in anchor_set.views],
        "samples": "stored" if anchor_set.samples else "none",
        "bytes": out.stat().st_size,
    }
    if json_output:
        output.data(summary)
    elif not quiet:
        per_class = "; per class: " + ", ".join(f"{k} {v}" for k, v in counts.items()) if counts else ""
        output.log(f"[green]wrote[/] {out}: {summary['num_anchors']} {strategy} anchors from "
                   f"{data.source} (anchor set {anchor_set.fingerprint}{per_class or '; unlabelled'})")
        for view in anchor_set.views[1:]:
            output.log(f"  parallel view: {view.source} ({view.modality}, {view.num_rows} rows)")


def register(app: typer.Typer) -> None:
    app.command("anchors")(anchors)

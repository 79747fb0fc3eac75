"""``stitch compare``: how alike two encoders' latent spaces are, absolute vs relative."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt


def compare(
    first: Annotated[Path, typer.Argument(help="Embeddings file of encoder A.")],
    second: Annotated[Path, typer.Argument(help="Embeddings file of encoder B, same samples.")],
    k: Annotated[int, typer.Option("--k", help="Neighbours for the Jaccard index.")] = 10,
    normalize: Annotated[str, typer.Option(
        help="Also the relative vectors after this per-anchor standardisation (file, anchors), as "
        "a head reads them; none leaves that column out.")] = "file",
    max_samples: Annotated[int, typer.Option(
        help="Neighbour metrics compare every pair of samples: use at most this many (a seeded "
        "sample, the same rows of both files).")] = 10_000,
    json_output: JsonOpt = False,
) -> None:
    """Compare two encoders on the same samples: CKA, paired cosine, neighbour Jaccard, MRR."""
    from rich.table import Table

    from stitchcli.commands._output import Output
    from stitchcli.storage import store

    output = Output(json_output)
    for path in (first, second):  # before torch is imported (~2 s)
        store.load_metadata_checked(path, kind="embeddings")

    from stitchcli.errors import UsageError
    from stitchcli.evaluate import compare_files
    from stitchcli.metadata import EmbeddingsMeta
    from stitchcli.storage import open_rows

    if max_samples < 2:
        raise UsageError(f"--max-samples must be at least 2, got {max_samples}")
    a, b = open_rows(first), open_rows(second)
    result = compare_files(a, b, k, normalize, max_samples)
    if result["relative"]["cka"] is None:
        output.warn("[yellow]no relative vectors in both files: embed them with the same --anchors[/]")
    if json_output:
        output.data(result)
        return
    sampled = f" of {result['sampled_from']}" if "sampled_from" in result else ""
    table = Table(title=f"{EmbeddingsMeta.of(a).encoder} vs {EmbeddingsMeta.of(b).encoder} "
                  f"({result['num_samples']} samples{sampled})")
    table.add_column("metric")
    table.add_column("absolute", justify="right")
    table.add_column("relative", justify="right")
    spaces = [result["absolute"], result["relative"]]
    if "relative_normalized" in result:
        table.add_column(f"relative, normalize {normalize}", justify="right")
        spaces.append(result["relative_normalized"])
    names = {"cka": "linear CKA", "cosine": "mean cosine of pairs", "jaccard": f"top-{k} Jaccard",
             "mrr": "partner MRR"}
    for key, label in names.items():
        cells = [("—" if space[key] is None else f"{space[key]:.3f}")
                 for space in spaces]
        table.add_row(label, *cells)
    output.table(table)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)

"""``stitch info``: metadata and tensor shapes of any stitchcli file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt


def info(
    file: Annotated[Path, typer.Argument(help="A .safetensors file written by stitch.")],
    json_output: JsonOpt = False,
) -> None:
    """Show a file's kind, metadata and tensor shapes."""
    from stitchcli.commands._output import Output
    from stitchcli.storage import store

    output = Output(json_output)

    # The header alone (no torch): format, kind, and tensor byte ranges that match the file's size.
    header = store.inspect(file)
    metadata = header.metadata
    shapes = {name: {"shape": list(spec.shape), "dtype": spec.dtype}
              for name, spec in header.tensors.items()}
    if json_output:
        output.data({"file": str(file), "kind": header.kind,
                     "metadata": store.decoded_metadata(metadata), "tensors": shapes})
        return
    from rich.table import Table

    from stitchcli.console import safe

    table = Table(title=f"{safe(file)} ({safe(header.kind)})", show_header=True)
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for key, value in sorted(metadata.items()):  # a file's strings are shown escaped and shortened
        table.add_row(safe(key), safe(_carried(value) if key == "anchor_set" else value, 2000))
    for name, spec in shapes.items():
        table.add_row(f"[cyan]tensor[/] {safe(name)}", f"{spec['dtype']} {spec['shape']}")
    output.table(table)


def _carried(raw: str) -> str:
    """The anchor set a head carries, in a line (``--json`` gives it whole)."""
    from stitchcli.errors import StitchError
    from stitchcli.metadata import AnchorSetMeta

    try:
        return AnchorSetMeta.from_json(raw, "head").describe()
    except StitchError:
        return raw


def register(app: typer.Typer) -> None:
    app.command("info")(info)

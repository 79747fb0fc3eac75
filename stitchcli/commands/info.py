"""``stitch info``: metadata and tensor shapes of any stitchcli file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt


def info(
    file: Annotated[Path, typer.Argument(help="A .safetensors file written by stitch.")],
    json_output: JsonOpt = False,
) -> None:
    """Show a file's kind, metadata and tensor shapes."""
    import json

    from stitchcli.storage import store

    # The header alone (no torch): format, kind, and tensor byte ranges that match the file's size.
    header = store.inspect(file)
    metadata = header.metadata
    shapes = {name: {"shape": list(spec.shape), "dtype": spec.dtype}
              for name, spec in header.tensors.items()}
    if json_output:
        typer.echo(json.dumps({"file": str(file), "kind": metadata.get("kind"),
                               "metadata": store.decoded_metadata(metadata), "tensors": shapes},
                              indent=2))
        return
    from rich.table import Table

    from stitchcli.console import safe, stdout

    table = Table(title=f"{safe(file)} ({safe(metadata.get('kind'))})", show_header=True)
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for key, value in sorted(metadata.items()):  # a file's strings are shown escaped and shortened
        table.add_row(safe(key), safe(_carried(value) if key == "anchor_set" else value, 2000))
    for name, spec in shapes.items():
        table.add_row(f"[cyan]tensor[/] {safe(name)}", f"{spec['dtype']} {spec['shape']}")
    stdout.print(table)


def _carried(raw: str) -> str:
    """The anchor set a head carries, in a line (``--json`` gives it whole)."""
    try:
        meta = json.loads(raw)
        samples = "samples stored" if meta.get("samples") == "stored" else "no samples"
        return (f"{meta.get('num_anchors', '?')} {meta.get('strategy', '?')} anchors of "
                f"{meta.get('dataset', '?')} (set {meta.get('anchors_fingerprint', '?')}, {samples})")
    except (ValueError, AttributeError):
        return raw


def register(app: typer.Typer) -> None:
    app.command("info")(info)

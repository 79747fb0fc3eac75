"""Option types shared by several subcommands (``Annotated`` aliases) and the --dataset check; the
choices in help texts come from the registries (names only: no torch, no plugin is loaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.anchors import STRATEGIES
from stitchcli.encoders import POOLINGS
from stitchcli.errors import StitchError, UsageError
from stitchcli.heads import ACTIVATIONS, ARCHITECTURES, TASKS
from stitchcli.relspace import NORMALIZATIONS, SIMILARITIES
from stitchcli.translate import NO_MAP, translation_choices

DATA = "Dataset"
OUTPUT = "Output"

DatasetOpt = Annotated[str, typer.Option(
    "--dataset", "-d", help="CSV/TSV/JSONL file, image folder, .npz, IDX file, .parquet file or folder, "
    "datasets.save_to_disk folder, or hf:<name>[:<config>].",
    rich_help_panel=DATA)]
SplitOpt = Annotated[str | None, typer.Option(
    help="Split name (hub datasets); for a local file, the name stored in metadata "
    "(default: the file's stem).", rich_help_panel=DATA)]
TextColumnOpt = Annotated[str, typer.Option(help="Column holding the text.", rich_help_panel=DATA)]
LabelColumnOpt = Annotated[str, typer.Option(help="Column holding the label.", rich_help_panel=DATA)]
ImageColumnOpt = Annotated[str, typer.Option(
    help="Column holding the image (hub datasets).", rich_help_panel=DATA)]
StreamingOpt = Annotated[bool, typer.Option(
    "--streaming", help="hf: datasets: read the hub's Parquet files a row group at a time instead of "
    "downloading the split first.", rich_help_panel=DATA)]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output .safetensors file.",
                                      rich_help_panel=OUTPUT)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout for scripts.",
                                       rich_help_panel=OUTPUT)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or status lines.",
                                        rich_help_panel=OUTPUT)]
SIMILARITY_CHOICES = f"{SIMILARITIES.choices_text()}, or several joined by '+' (e.g. cosine+euclidean)"
SimilarityOpt = Annotated[str, typer.Option(help=f"Similarity of samples to anchors: {SIMILARITY_CHOICES}.")]
RELATIVE = "Relative inputs (recorded in the head, applied again by evaluate)"
NormalizeOpt = Annotated[str, typer.Option(
    help=f"Per-anchor standardisation: {NORMALIZATIONS.choices_text(described=True)}.",
    rich_help_panel=RELATIVE)]
TopkOpt = Annotated[int, typer.Option(
    help="Keep each sample's k largest relative values (ASIF); 0 keeps all.", rich_help_panel=RELATIVE)]
TopkPowerOpt = Annotated[float, typer.Option(
    help="With --topk: raise kept values to this power before renormalising.", rich_help_panel=RELATIVE)]
CenterOpt = Annotated[bool, typer.Option(
    "--center/--no-center", help="Subtract the anchors' mean from samples and anchors first.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
# How an encoder is loaded and run: the same options for `embed` and `predict --encoder`.
MODEL = "Model"
PoolingOpt = Annotated[str | None, typer.Option(
    help=f"{POOLINGS.choices_text(described=True)}. Default for hf: text models mean; vision models what "
    "their family's card uses (cls for ViT/DeiT/DINOv2, pooler for CLIP/SigLIP vision and CNNs). "
    "timm: mean/cls override the model's own pooling.", rich_help_panel=MODEL)]
MaxLengthOpt = Annotated[int, typer.Option(help="Max tokens per text.", rich_help_panel=MODEL)]
DeviceOpt = Annotated[str, typer.Option(help="auto, cpu, cuda or mps.", rich_help_panel=MODEL)]
DtypeOpt = Annotated[str, typer.Option(help="float32, float16 or bfloat16.", rich_help_panel=MODEL)]
WeightsOpt = Annotated[Path | None, typer.Option(
    help="Local checkpoint (.safetensors or a torch state dict) instead of hub weights.",
    rich_help_panel=MODEL)]
TrustRemoteCodeOpt = Annotated[bool, typer.Option(
    "--trust-remote-code", help="Allow model code from the hub repo to run (off by default).",
    rich_help_panel=MODEL)]
ARCH_CHOICES = ARCHITECTURES.choices_text(described=True)
# Commands that train classifiers only (run, sweep) list the architectures that fit class labels.
NOT_CLASSIFIERS = tuple(getattr(TASKS.get("classification", load=False), "refuses", ()))
ArchOpt = Annotated[str, typer.Option(
    help=f"{ARCHITECTURES.choices_text(described=True, exclude=NOT_CLASSIFIERS)}.")]
TASK_CHOICES = TASKS.choices_text()
ACTIVATION_CHOICES = ACTIVATIONS.choices_text()
STRATEGY_CHOICES = STRATEGIES.choices_text(described=True)


def translate_option(how: str, default: str, *, repeatable: bool = False, none: bool = True,
                     panel: str | None = None):  # noqa: ANN201 - a typer OptionInfo
    """The ``--translate`` option of a command: ``how`` a head reads other encoders, then the map
    names (the translation registry's, ``none`` first unless ``none`` is False) and the default."""
    choices = translation_choices(first=NO_MAP if none else None)
    return typer.Option("--translate", help=f"{how}: {choices}" + (" (repeatable)" if repeatable else "")
                        + f" \\[default: {default}].", rich_help_panel=panel)


def refine_option(default: str, panel: str | None = None):  # noqa: ANN201 - a typer OptionInfo
    """The ``--refine N`` option of a command that reads other encoders through a head's map."""
    return typer.Option("--refine", min=0, help="For translated heads, at most N rounds of refining the "
                        "map with unpaired rows (the head's pool and a sample of the file's own; mutual "
                        "nearest neighbours, rounds chosen on held-out anchors; 0: off) "
                        f"\\[default: {default}].", rich_help_panel=panel)


def check_streaming(source: str, streaming: bool) -> None:
    if streaming and not source.startswith("hf:"):
        raise UsageError("--streaming is for hf: datasets",
                         hint="local Parquet files and save_to_disk folders are always read a row group "
                         "at a time.")


def check_dataset_exists(source: str) -> None:
    """Fail at once, before any slow import, on a local --dataset that does not exist (the loader
    says the same later); ``hf:`` and other ``<source>:`` datasets are left to their loaders, and
    so is everything when a dataset format was registered in-process or by a plugin."""
    prefix, colon, _ = source.partition(":")
    if colon and len(prefix) > 1 and not any(sep in prefix for sep in "/\\"):
        return
    if Path(source).exists():
        return
    from importlib.metadata import entry_points

    from stitchcli.data import SOURCES

    if SOURCES.names(load=False) or entry_points(group="stitchcli.datasets"):
        return  # such a format may read sources that are not paths
    raise StitchError(f"dataset not found: {source}")


def refuse_overwrite(out, inputs: dict, encoder: str | None = None, what: str = "--out",  # noqa: ANN001
                     folder: bool = False, hint: str | None = None) -> None:
    """Refuse, in one line before any work, an output (``out``: a path or several) that is one of the
    command's ``inputs`` (``{"--dataset": source, ...}``) or a file of ``encoder``'s local model folder
    (``hf:DIR``); with ``folder``, an output folder replaced whole that holds an input."""
    from stitchcli.storage import store

    named = dict(inputs)
    if encoder is not None and encoder.startswith("hf:"):
        named["--encoder"] = store.folder_files(encoder[3:])
    store.refuse_overwrite(out, named, what=what, folder=folder, **({"hint": hint} if hint else {}))


def source_path(source: str | None) -> str | None:
    """The local path a ``--dataset`` names (``ids:FILE`` is its file); None for hub sources."""
    if source is None or source.startswith("hf:"):
        return None
    return source[4:] if source.startswith("ids:") else source

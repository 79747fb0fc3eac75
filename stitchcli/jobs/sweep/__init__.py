"""``stitch sweep``: stitching recipes compared on existing embeddings files, with no re-embedding."""

from stitchcli.jobs.sweep.grid import Recipe, expand_grid
from stitchcli.jobs.sweep.runner import SweepRequest
from stitchcli.jobs.sweep.seeds import run_sweep, within_noise

__all__ = ["Recipe", "SweepRequest", "expand_grid", "run_sweep", "within_noise"]

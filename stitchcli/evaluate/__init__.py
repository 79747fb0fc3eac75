"""Evaluation: any head on any embeddings file (zero-shot), tables and plots of the results, and
``compare`` (how alike two latent spaces are).

``evaluation`` (checks that a head and a file fit, predictions, the matrix) → ``report`` (short
names and cells of the tables, which the CLI draws) → ``plotting`` (the heatmap, picture grids) ←
``reconstruction`` (a reconstruction head's decodings on each file). Importing the package costs no
torch: up-front checks (``plot_format``) run before any heavy import; the rest loads on first use.
"""

from stitchcli._lazy import lazy_exports

__all__ = ["PredictRequest", "Result", "cell", "title", "check_output", "check_scale", "compare_files",
           "evaluate", "evaluate_matrix", "fmt", "head_methods", "plot_confusion", "plot_format",
           "plot_matrix", "plot_reconstructions", "require_matplotlib", "row_key", "run_predict",
           "short_names", "short_spec", "skipped_result"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Result": ".evaluation", "evaluate": ".evaluation", "evaluate_matrix": ".evaluation",
    "head_methods": ".evaluation", "skipped_result": ".evaluation",
    "title": ".report", "cell": ".report", "fmt": ".report", "row_key": ".report",
    "short_names": ".report", "short_spec": ".report", "plot_confusion": ".plotting",
    "plot_format": ".plotting", "check_scale": ".plotting", "plot_matrix": ".plotting",
    "require_matplotlib": ".plotting", "plot_reconstructions": ".reconstruction",
    "compare_files": ".compare",
    "PredictRequest": ".predict", "check_output": ".prediction_files", "run_predict": ".predict",
})

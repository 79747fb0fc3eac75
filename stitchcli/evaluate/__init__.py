"""Evaluation: any head on any embeddings file (zero-shot), tables and plots of the results, and
``compare`` (how alike two latent spaces are).

``evaluation`` (checks that a head and a file fit, predictions, the matrix) → ``report`` (rich
tables) → ``plotting`` (the heatmap, picture grids) ← ``reconstruction`` (a reconstruction head's
decodings on each file). Importing the package costs no torch: up-front checks
(``plot_format``) run before any heavy import; the rest loads on first use.
"""

from stitchcli._lazy import lazy_exports

__all__ = ["PredictRequest", "Result", "check_output", "check_scale", "compare_files", "evaluate",
           "evaluate_matrix", "head_methods", "per_class_table", "plot_confusion", "plot_format",
           "plot_matrix", "plot_reconstructions",
           "require_matplotlib", "results_table", "run_predict", "skipped_result"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Result": ".evaluation", "evaluate": ".evaluation", "evaluate_matrix": ".evaluation",
    "head_methods": ".evaluation", "skipped_result": ".evaluation",
    "results_table": ".report", "per_class_table": ".report", "plot_confusion": ".plotting",
    "plot_format": ".plotting", "check_scale": ".plotting", "plot_matrix": ".plotting",
    "require_matplotlib": ".plotting", "plot_reconstructions": ".reconstruction",
    "compare_files": ".compare",
    "PredictRequest": ".predict", "check_output": ".prediction_files", "run_predict": ".predict",
})

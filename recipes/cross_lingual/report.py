"""Print the cross-lingual recipe's table from its `stitch evaluate --json` files (and save results.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def accuracies(path: Path) -> dict[tuple[str, str], float]:
    """(head file stem, embeddings file stem) -> accuracy."""
    results = json.loads(path.read_text())["results"]
    return {(Path(r["head"]).stem, Path(r["embeddings"]).stem): r["accuracy"] for r in results}


def main() -> None:
    run = Path(sys.argv[1])
    summary = json.loads((run / "data" / "summary.json").read_text())
    parallel = accuracies(run / "parallel" / "evaluate.json")
    shuffled = accuracies(run / "shuffled" / "evaluate.json")
    absolute = (run / "absolute-error.txt").read_text().strip().splitlines()
    num = json.loads((run / "parallel" / "anchors.json").read_text())["num_anchors"]
    rows = [
        ("EN head (MiniLM-L6) on EN test", "no stitching", parallel["en-head", "en-test"]),
        ("EN head on FR test (USE-m v3)", "stitched, parallel anchors", parallel["en-head", "fr-test"]),
        ("FR head (USE-m v3) on FR test", "no stitching (native)", parallel["fr-head", "fr-test"]),
        ("FR head on EN test (MiniLM-L6)", "stitched, parallel anchors", parallel["fr-head", "en-test"]),
        ("EN head on FR test (USE-m v3)", "control: shuffled 'translations'", shuffled["en-head", "fr-test"]),
        ("chance", f"{len(summary['classes'])} balanced classes", 1 / len(summary["classes"])),
    ]
    print(f"\nDebian package descriptions, EN -> FR: {summary['train']} train / {summary['test']} test rows, "
          f"sections {', '.join(summary['classes'])}; {num} anchors from the train rows")
    width = max(len(r[0]) for r in rows)
    mode = max(len(r[1]) for r in rows)
    print(f"{'head on test file':<{width}}  {'':<{mode}}  accuracy")
    for name, how, acc in rows:
        print(f"{name:<{width}}  {how:<{mode}}  {acc:.3f}")
    print(f"absolute EN head on FR test: cannot run ({absolute[0].removeprefix('Error: ')})")
    results = {"data": summary, "num_anchors": num, "table": [
        {"row": name, "mode": how, "accuracy": round(acc, 4)} for name, how, acc in rows]}
    (run / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

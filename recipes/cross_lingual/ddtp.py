"""Build a labelled EN/FR parallel corpus from Debian's translated package descriptions (DDTP)."""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

# Pinned: a stable release's indexes change only at point releases, so reruns see (almost) the same data.
MIRROR, SUITE, ARCH = "http://deb.debian.org/debian", "bookworm", "amd64"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# Well-populated sections whose packages say what they are for (libs/devel/doc are mostly boilerplate).
CLASSES = ["games", "science", "sound", "graphics", "net", "text"]


def say(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


def index_files(lists: Path) -> dict[str, Path]:
    """The three indexes apt keeps in ``lists`` (any compression), by role."""
    patterns = {
        "packages": f"*_dists_{SUITE}_main_binary-{ARCH}_Packages*",
        "en": f"*_dists_{SUITE}_main_i18n_Translation-en*",
        "fr": f"*_dists_{SUITE}_main_i18n_Translation-fr*",
    }
    found = {}
    for role, pattern in patterns.items():
        hits = sorted(p for p in lists.glob(pattern) if p.is_file())
        if hits:
            found[role] = hits[0]
    return found


def fetch(lists: Path) -> dict[str, Path]:
    """Download the indexes with the ordinary apt client into a private lists folder (once)."""
    found = index_files(lists)
    if len(found) == 3:
        say(f"reusing the DDTP indexes in {lists}")
        return found
    if not KEYRING.exists():
        sys.exit(f"Error: {KEYRING} is missing: this step needs Debian's archive keyring (apt install "
                 "debian-archive-keyring), or put the indexes in the lists folder yourself")
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    sources = lists / "sources.list"
    sources.write_text(f"deb [arch={ARCH} signed-by={KEYRING}] {MIRROR} {SUITE} main\n")
    say(f"apt-get update: {SUITE} main Packages + Translation-en/fr into {lists} (~37 MB)")
    subprocess.run([
        "apt-get", "update", "-qq",
        "-o", f"Dir::State::Lists={lists.resolve()}",
        "-o", f"Dir::Etc::SourceList={sources.resolve()}",
        "-o", "Dir::Etc::SourceParts=/nonexistent",  # only our one line, not the machine's sources
        "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",  # leave apt's own caches alone
        "-o", "Acquire::Languages=en,fr", "-o", f"APT::Architectures={ARCH}",
        "-o", "APT::Get::List-Cleanup=0",
    ], check=True)
    found = index_files(lists)
    if len(found) != 3:
        sys.exit(f"Error: apt-get update did not leave the three indexes in {lists} (found {sorted(found)})")
    return found


def release_date(lists: Path) -> str:
    """The Date of the fetched Release file: which state of the archive the data comes from."""
    for path in lists.glob(f"*_dists_{SUITE}_InRelease"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Date:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def records(path: Path):
    """Deb822 stanzas of an index (decompressed by apt's own helper), as dicts; continuation lines kept."""
    text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(path)], check=True,
                          capture_output=True, text=True, encoding="utf-8", errors="replace").stdout
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.split("\n"):
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line[1:]
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if fields:
            yield fields


def sentence(description: str, max_chars: int) -> str:
    """The synopsis plus the first sentence of the long description, cut at a word near ``max_chars``."""
    synopsis, _, body = description.partition("\n")
    lines = [line.strip() for line in body.split("\n")]
    paragraph = " ".join(line for line in lines if line and line != ".")
    first = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0] if paragraph else ""
    text = synopsis.strip().rstrip(".")
    text = f"{text}. {first}" if first else text
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] + " …"
    return text


def pairs(files: dict[str, Path], max_chars: int) -> list[dict]:
    """One (en, fr, section) item per source package whose description has a French translation."""
    binaries = {}
    for p in records(files["packages"]):
        if "Package" in p and "Description-md5" in p:
            source = p.get("Source", p["Package"]).split(" ")[0]
            binaries[p["Package"]] = (p["Description-md5"], p.get("Section", "").split("/")[-1], source)
    english = {r["Description-md5"]: r["Description-en"]
               for r in records(files["en"]) if "Description-en" in r}
    by_source: dict[str, list[dict]] = defaultdict(list)
    for r in records(files["fr"]):
        package, md5 = r.get("Package"), r.get("Description-md5")
        if package not in binaries or "Description-fr" not in r or md5 not in english:
            continue
        binary_md5, section, source = binaries[package]
        if binary_md5 != md5:
            continue
        by_source[source].append({"package": package, "source": source, "section": section,
                                  "en": sentence(english[md5], max_chars),
                                  "fr": sentence(r["Description-fr"], max_chars)})
    items, seen = [], set()
    for source in sorted(by_source):  # one binary per source: the one named after it, else the first
        choices = sorted(by_source[source], key=lambda i: (i["package"] != source, i["package"]))
        item = choices[0]
        if item["en"].lower() in seen or item["fr"].lower() in seen:
            continue  # boilerplate descriptions shared between sources
        seen |= {item["en"].lower(), item["fr"].lower()}
        items.append(item)
    return items


def write_csv(path: Path, rows: list[dict], column: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "id"])
        writer.writerows((row[column], row["section"], row["package"]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lists", type=Path, default=Path(".assets/ddtp-lists"),
                        help="private apt lists folder for the indexes (fetched once, then reused)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the CSV files")
    parser.add_argument("--classes", default=",".join(CLASSES), help="comma-separated Debian sections")
    parser.add_argument("--train-per-class", type=int, default=170)
    parser.add_argument("--test-per-class", type=int, default=85)
    parser.add_argument("--max-chars", type=int, default=200, help="cut each description near this length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    classes = args.classes.split(",")
    items = pairs(fetch(args.lists), args.max_chars)
    released = release_date(args.lists)
    counts = Counter(item["section"] for item in items)
    say(f"{len(items)} EN/FR source packages; chosen sections: "
        + ", ".join(f"{c} {counts[c]}" for c in classes))
    need = args.train_per_class + args.test_per_class
    short = [c for c in classes if counts[c] < need]
    if short:
        sys.exit(f"Error: too few translated packages in {short} for {need} per class")

    rng = random.Random(args.seed)
    train, test = [], []
    for c in classes:
        pool = sorted((i for i in items if i["section"] == c), key=lambda i: i["source"])
        rng.shuffle(pool)
        train += pool[:args.train_per_class]
        test += pool[args.train_per_class:need]
    rng.shuffle(train)
    rng.shuffle(test)

    args.out.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", train), ("test", test)):
        for lang in ("en", "fr"):
            write_csv(args.out / f"{lang}-{split}.csv", rows, lang)
    # The control: the same French rows in another order, so row i is no longer item i's translation.
    order = list(range(len(train)))
    while any(i == j for i, j in enumerate(order)):
        rng.shuffle(order)
    write_csv(args.out / "fr-train-shuffled.csv", [train[j] for j in order], "fr")
    summary = {"train": len(train), "test": len(test), "classes": classes, "total_pairs": len(items),
               "suite": f"{SUITE}/main", "release_date": released}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    say(f"wrote {args.out}/{{en,fr}}-{{train,test}}.csv and fr-train-shuffled.csv "
        f"({len(train)} train, {len(test)} test rows)")


if __name__ == "__main__":
    main()

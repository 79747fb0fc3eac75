"""``stitch push``: a head as a Hugging Face model repo (head.safetensors + a model card), or that layout
in a local folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt, QuietOpt


def push(
    head: Annotated[Path, typer.Argument(help="Head file from `stitch train-head`.")],
    repo: Annotated[str, typer.Option("--repo", help="Hub repo ORG/NAME (created if missing).")],
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    results: Annotated[Path | None, typer.Option(
        help="An `evaluate --json` report to show as the card's stitching table.")] = None,
    to_folder: Annotated[Path | None, typer.Option(
        "--to-folder", help="Write the repo's files to this folder instead of uploading.")] = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Share a head: upload it with a generated model card (or write the same files to a folder)."""
    import json
    import os
    import shutil
    import tempfile

    from stitchcli.commands._output import Output
    from stitchcli.errors import StitchError, UsageError
    from stitchcli.heads import CARD_FILE, HEAD_FILE, model_card, parse_hub_head
    from stitchcli.storage import store

    output = Output(json_output, quiet)
    parse_hub_head(repo)
    store.load_metadata_checked(head, kind="head")
    report = None
    if results is not None:
        try:
            report = json.loads(Path(results).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StitchError(f"results file not found: {results}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise StitchError(f"{results} is not an `evaluate --json` report: {exc}") from None
        if not isinstance(report, dict) or not isinstance(report.get("results"), list):
            raise StitchError(f"{results} is not an `evaluate --json` report (no 'results' list)")
    if to_folder is not None:
        from stitchcli.commands.options import refuse_overwrite

        refuse_overwrite(to_folder / CARD_FILE, {"--results": results}, what="--to-folder's")
        _refuse_strangers(to_folder, head)
    card = model_card(head, repo, report)

    def write(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / HEAD_FILE
        if not (target.exists() and os.path.samefile(target, head)):  # a head pushed from its folder
            with store.atomic_path(target) as tmp:
                shutil.copyfile(head, tmp)
        with store.atomic_path(folder / CARD_FILE) as tmp:
            tmp.write_text(card, encoding="utf-8")

    if to_folder is not None:
        if private:
            raise UsageError("--private is for uploads; --to-folder writes local files")
        write(to_folder)
        summary = {"repo": repo, "folder": str(to_folder), "files": [HEAD_FILE, CARD_FILE]}
    else:
        try:
            from huggingface_hub import HfApi
        except ImportError:
            raise StitchError("pushing needs huggingface_hub", hint="pip install huggingface_hub") from None
        api = HfApi()
        with tempfile.TemporaryDirectory(prefix="stitch-push-") as folder:
            write(Path(folder))
            try:
                api.create_repo(repo_id=repo, repo_type="model", private=private, exist_ok=True)
                commit = api.upload_folder(repo_id=repo, repo_type="model", folder_path=folder,
                                           commit_message="Upload stitchcli head")
            except Exception as exc:  # offline, no token, no rights...
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise StitchError(f"cannot push to {repo}: {text}",
                                  hint="log in with `hf auth login` (or set HF_TOKEN); --to-folder writes "
                                  "the files locally.") from None
        summary = {"repo": repo, "url": str(getattr(commit, "commit_url", "") or f"hf:{repo}"),
                   "files": [HEAD_FILE, CARD_FILE], "private": private}
    output.result(summary, f"[green]wrote[/] {summary.get('folder') or summary['url']}: {HEAD_FILE} and "
                  f"{CARD_FILE}")


def _refuse_strangers(folder: Path, head: Path) -> None:
    """Refuse, before writing, a --to-folder whose head file or model card another tool wrote: only a
    stitchcli head and a card with stitchcli's front matter are replaced."""
    from stitchcli.errors import StitchError
    from stitchcli.heads import CARD_FILE, HEAD_FILE
    from stitchcli.storage import store

    card, file = folder / CARD_FILE, folder / HEAD_FILE
    hint = "give another --to-folder (an empty one, or one an earlier `stitch push` wrote)."
    if card.is_dir() or file.is_dir():
        raise StitchError(f"{folder} holds a folder named {CARD_FILE} or {HEAD_FILE}", hint=hint)
    if card.exists():
        try:
            text = card.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        front = text.split("\n---", 1)[0] + "\n"
        if not (text.startswith("---\n") and '\nlibrary_name: "stitchcli"\n' in front):
            raise StitchError(f"{card} is not a model card of `stitch push`; writing the card would replace "
                              "it", hint=hint)
    if file.exists():
        try:
            store.load_metadata_checked(file, kind="head")
        except StitchError:
            raise StitchError(f"{file} is not a stitchcli head; writing the head would replace it",
                              hint=hint) from None


def register(app: typer.Typer) -> None:
    app.command("push")(push)

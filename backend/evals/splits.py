"""The dataset's splits: `dev` (tuned on freely) and `heldout` (written apart, never tuned on).

A dataset folder with `dev/` and `heldout/` sub-folders is scored one split at a time, so a score on
held-out cases is never mixed with one on cases the model was tuned against. A plain file or a folder
without splits is one run, named "all".
"""

from __future__ import annotations

from pathlib import Path

SPLITS = ("dev", "heldout")
CHOICES = ("all", *SPLITS)


def has_cases(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.yaml"))


def split_folders(dataset: Path, split: str = "all") -> list[tuple[str, Path]]:
    """(split name, folder) to run, in order; splits without any case file are left out."""
    if not dataset.is_dir() or not any((dataset / name).is_dir() for name in SPLITS):
        return [("all", dataset)]
    chosen = SPLITS if split == "all" else (split,)
    return [(name, dataset / name) for name in chosen if has_cases(dataset / name)]

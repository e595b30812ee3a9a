"""The `switchboard eval` options (kept apart so the CLI can build its parser without the harness)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .splits import CHOICES

DEFAULT_DATASET = Path("tests/evals/cases")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="provider:model (default: LLM_MODEL, else the offline model)")
    parser.add_argument("--filter", dest="pattern", help="category or case-id glob, comma-separated (jira,hl7-*)")
    parser.add_argument(
        "--out", type=Path, default=Path("eval-report"), help="where report.json/.html go (one sub-folder per split)"
    )
    parser.add_argument(
        "--split", choices=CHOICES, default="all", help="dev, heldout or all (a table and a report per split)"
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="a case file or a folder of them")
    parser.add_argument("--concurrency", type=int, default=1, help="cases run at once (real models: try 4)")
    parser.add_argument("--turn-timeout", type=float, default=120.0, help="seconds before a turn is cancelled")
    parser.add_argument("--min-success", type=float, default=0.0, help="exit 1 below this task success (0..1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each case and its failures")

"""`switchboard eval`: run the dataset against a fresh demo environment and report the scores."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from agents.providers import ModelConfigError
from backend.config import SettingsError

from .dataset import DatasetError, load_dataset
from .environment import demo_environment
from .metrics import Scores, by_category
from .report import report_data, text_table, write_reports
from .runner import CaseResult, run_cases
from .splits import split_folders
from .vocabulary import sandbox_vocabulary


@dataclass(frozen=True)
class EvalRun:
    model: str
    scores: list[Scores]
    results: list[CaseResult]
    seconds: float

    @property
    def overall(self) -> Scores:
        return self.scores[-1]


async def evaluate(
    dataset: Path,
    *,
    model: str | None = None,
    pattern: str | None = None,
    out: Path | None = None,
    database_url: str | None = None,
    concurrency: int = 1,
    turn_timeout_s: float = 120.0,
    verbose: bool = False,
    split: str | None = None,
) -> EvalRun:
    """Load, run and score the cases; write report.json and report.html under `out` when given."""
    cases = load_dataset(dataset).select(pattern)
    if not cases:
        raise DatasetError(f"no case matches {pattern!r}")
    started = time.perf_counter()

    def progress(result: CaseResult) -> None:
        if verbose:
            print(f"{'pass' if result.success else 'FAIL'}  {result.id}", file=sys.stderr)
            for failure in result.failures:
                print(f"      {failure}", file=sys.stderr)

    async with demo_environment(model=model, database_url=database_url, turn_timeout_s=turn_timeout_s) as env:
        vocabulary = sandbox_vocabulary()
        results = await run_cases(env, cases, vocabulary, concurrency=concurrency, progress=progress)
        run = EvalRun(env.model, by_category(results), results, time.perf_counter() - started)
        meta = {
            "model": env.model,
            "dataset": str(dataset),
            "split": split or "all",
            "filter": pattern,
            "integrations": env.integrations,
            "seconds": round(run.seconds, 2),
        }
    if out is not None:
        write_reports(out, report_data(meta, run.scores, results), run.scores, results)
    return run


def run_command(args: argparse.Namespace) -> int:
    import asyncio

    runs = split_folders(args.dataset, args.split)
    if not runs:
        print(f"switchboard eval: no cases in the {args.split!r} split of {args.dataset}", file=sys.stderr)
        return 2
    below = False
    for name, folder in runs:
        out = args.out if name == "all" else args.out / name
        try:
            run = asyncio.run(
                evaluate(
                    folder,
                    model=args.model,
                    pattern=args.pattern,
                    out=out,
                    concurrency=args.concurrency,
                    turn_timeout_s=args.turn_timeout,
                    verbose=args.verbose,
                    split=name,
                )
            )
        except (DatasetError, ModelConfigError, SettingsError) as exc:
            print(f"switchboard eval: {exc}", file=sys.stderr)
            return 2
        title = "" if name == "all" else f"split: {name} · "
        print(f"{title}model: {run.model} · {len(run.results)} cases in {run.seconds:.1f} s")
        print(text_table(run.scores))
        failed = [r for r in run.results if not r.success]
        if failed:
            print(f"\nfailed: {', '.join(r.id for r in failed)}")
        print(f"\nreports: {out / 'report.json'}, {out / 'report.html'}\n")
        below = below or run.overall.task_success < args.min_success
    return 1 if below else 0

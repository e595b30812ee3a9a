"""CI gate: the offline model plays every case of the dataset through the product's turn machinery.

It must reach 90 % task success with zero hallucinated identifiers. Runs on the test database (SQLite,
or PostgreSQL with TEST_DATABASE_URL), with the demo sandboxes on loopback, like `switchboard eval`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.evals.command import evaluate
from backend.evals.dataset import load_dataset
from tests.conftest import empty_database

DATASET = Path(__file__).parent / "cases"
MIN_SUCCESS = 0.90
MIN_CASES = 120


def test_the_dataset_is_large_and_covers_every_category() -> None:
    cases = load_dataset(DATASET).cases
    by_category = {c: sum(1 for case in cases if case.category == c) for c in ("general", "hl7", "jira", "emr")}
    assert len(cases) >= MIN_CASES, by_category
    assert all(count >= 20 for count in by_category.values()), by_category
    follow_ups = [case.id for case in cases if len(case.turns) > 1]
    assert len(follow_ups) >= 20, "multi-turn cases (follow-ups that depend on earlier turns) are thin"


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_offline_model_scores_at_least_90_percent_without_hallucinations(
    database_url: str, tmp_path: Path
) -> None:
    await empty_database(database_url)
    run = await evaluate(DATASET, database_url=database_url, out=tmp_path)
    failed = {r.id: r.failures for r in run.results if not r.success}
    overall = run.overall
    invented = {r.id: r.failures for r in run.results if any(t.hallucinations for t in r.turns)}
    assert overall.hallucinations == 0, invented
    assert overall.task_success >= MIN_SUCCESS, json.dumps(failed, indent=1)[:6000]
    for row in run.scores:
        assert row.task_success >= 0.8, (row.name, failed)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"] == "offline" and len(report["cases"]) == len(run.results)
    assert "<table>" in (tmp_path / "report.html").read_text()

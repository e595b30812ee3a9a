"""The run's report: a console table, `report.json` and a self-contained `report.html`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from .metrics import Scores
from .runner import CaseResult

COLUMNS = (
    ("category", "category"),
    ("cases", "cases"),
    ("success", "task success"),
    ("precision", "tool precision"),
    ("recall", "tool recall"),
    ("halluc", "hallucinations"),
    ("errors", "turns w/ errors"),
    ("p50", "latency p50 ms"),
    ("p95", "latency p95 ms"),
    ("tokens", "tokens (in/out)"),
)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def row_cells(s: Scores) -> list[str]:
    return [
        s.name,
        str(s.cases),
        f"{_rate(s.task_success)} ({s.passed}/{s.cases})",
        _rate(s.tool_precision),
        _rate(s.tool_recall),
        str(s.hallucinations),
        f"{s.turns_with_errors}/{s.turns}",
        f"{s.latency_p50_ms:.0f}",
        f"{s.latency_p95_ms:.0f}",
        f"{s.tokens_input}/{s.tokens_output}",
    ]


def text_table(scores: Sequence[Scores]) -> str:
    """An aligned plain-text table (also valid as the body of a markdown table)."""
    rows = [[title for _, title in COLUMNS], *[row_cells(s) for s in scores]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report_data(meta: dict[str, Any], scores: Sequence[Scores], results: Sequence[CaseResult]) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "scores": [s.as_dict() for s in scores],
        "cases": [r.as_dict() for r in results],
    }


def write_reports(out: Path, data: dict[str, Any], scores: Sequence[Scores], results: Sequence[CaseResult]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    (out / "report.html").write_text(html_report(data, scores, results), encoding="utf-8")


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2433}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d5d9e2;padding:.3rem .6rem;text-align:left;
vertical-align:top}th{background:#f2f4f8}.ok{color:#17803d}.fail{color:#b42318}details{margin:.2rem 0}
pre{white-space:pre-wrap;background:#f7f8fa;padding:.5rem;margin:.3rem 0;max-height:20rem;overflow:auto}
code{font-size:12px}
"""


def html_report(data: dict[str, Any], scores: Sequence[Scores], results: Sequence[CaseResult]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for _, title in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row_cells(s)) + "</tr>" for s in scores)
    cases = "".join(_case_html(r) for r in sorted(results, key=lambda r: (r.success, r.category, r.id)))
    meta = ", ".join(
        f"{escape(k)}: <b>{escape(str(data[k]))}</b>" for k in ("model", "generated_at", "dataset") if k in data
    )
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>Switchboard eval</title><style>{_STYLE}</style>"
        f"<h1>Switchboard agent evaluation</h1><p>{meta}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<h2>Cases (failures first)</h2>{cases}</html>"
    )


def _case_html(result: CaseResult) -> str:
    mark = '<span class="ok">pass</span>' if result.success else '<span class="fail">FAIL</span>'
    turns = []
    for i, turn in enumerate(result.turns, 1):
        calls = "; ".join(f"{c['operation']} {json.dumps(c['args'], ensure_ascii=False)}" for c in turn.calls)
        failures = "".join(f"<li class=fail>{escape(f)}</li>" for f in turn.failures)
        turns.append(
            f"<p><b>turn {i}</b> ({turn.latency_s * 1000:.0f} ms) — user: <code>{escape(turn.user[:400])}</code></p>"
            f"<p>tools: <code>{escape(calls or 'none')}</code></p><ul>{failures}</ul>"
            f"<pre>{escape(turn.answer[:4000])}</pre>"
        )
    return (
        f"<details{' open' if not result.success else ''}><summary>{mark} <b>{escape(result.id)}</b> "
        f"({escape(result.category)})</summary>{''.join(turns)}</details>"
    )

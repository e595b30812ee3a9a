"""Plays each case in a fresh chat session and scores every turn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .dataset import EvalCase, EvalTurn
from .environment import EvalEnvironment, TurnTrace
from .grounding import Vocabulary, contains, forbidden_present, missing_facts, ungrounded
from .matching import count_matched, count_relevant, trajectory_matches


@dataclass
class TurnResult:
    user: str
    answer: str
    calls: list[dict[str, Any]]
    trajectory_ok: bool
    expected_calls: int
    actual_calls: int
    matched_calls: int  # expected calls some distinct actual call satisfied (recall)
    relevant_calls: int  # actual calls that fit an expected call (precision)
    missing_facts: list[str]
    forbidden_facts: list[str]
    hallucinations: list[str]
    errors: list[str]
    latency_s: float
    tokens: dict[str, int]
    failures: list[str] = field(default_factory=list)


@dataclass
class CaseResult:
    id: str
    category: str
    turns: list[TurnResult]

    @property
    def success(self) -> bool:
        return all(not t.failures for t in self.turns)

    @property
    def failures(self) -> list[str]:
        return [f"turn {i + 1}: {f}" for i, t in enumerate(self.turns) for f in t.failures]

    def as_dict(self) -> dict[str, Any]:
        turns = [asdict(t) for t in self.turns]
        return {"id": self.id, "category": self.category, "success": self.success, "turns": turns}


def score_turn(turn: EvalTurn, trace: TurnTrace, sources: Sequence[str], vocabulary: Vocabulary) -> TurnResult:
    """Everything that can be wrong with one turn's answer, as readable failures."""
    counted = turn.mode != "ignore"
    trajectory_ok = trajectory_matches(turn.mode, turn.expect_tools, trace.calls)
    forbidden = forbidden_present(turn.must_not_contain, trace.answer)
    # A forbidden fact is also a hallucination when nothing in the conversation gave it to the model.
    corpus = "\n".join(sources)
    invented = sorted(
        set(ungrounded(trace.answer, sources, vocabulary)) | {f for f in forbidden if not contains(corpus, f)}
    )
    errors = list(trace.errors)
    if not turn.tool_errors_expected:
        errors += [f"tool {c.name} failed: {str(c.result)[:200]}" for c in trace.calls if not c.ok]
    result = TurnResult(
        user=turn.user,
        answer=trace.answer,
        calls=[{"tool": c.name, "operation": c.operation, "args": c.args, "ok": c.ok} for c in trace.calls],
        trajectory_ok=trajectory_ok,
        expected_calls=len(turn.expect_tools) if counted else 0,
        actual_calls=len(trace.calls) if counted else 0,
        matched_calls=count_matched(turn.expect_tools, trace.calls) if counted else 0,
        relevant_calls=count_relevant(turn.expect_tools, trace.calls) if counted else 0,
        missing_facts=missing_facts(turn.must_contain, trace.answer),
        forbidden_facts=forbidden,
        hallucinations=invented,
        errors=errors,
        latency_s=trace.latency_s,
        tokens=dict(trace.tokens),
    )
    failures = result.failures
    if not trajectory_ok:
        wanted = ", ".join(f"{e.op}{e.args or ''}" for e in turn.expect_tools) or "no tool calls"
        made = ", ".join(f"{c.operation}{c.args}" for c in trace.calls) or "none"
        failures.append(f"trajectory ({turn.mode}) expected {wanted}; made {made}")
    if result.missing_facts:
        failures.append(f"answer lacks {result.missing_facts}")
    if forbidden:
        failures.append(f"answer contains {forbidden}")
    if invented:
        failures.append(f"answer names what no source gave: {invented}")
    if errors:
        failures.append(f"errors: {errors}")
    if not trace.answer.strip():
        failures.append("empty answer")
    wants = turn.wants_approval
    if wants and not trace.approvals:
        failures.append("expected an approval request; none came")
    elif trace.approvals and (wants is False or (wants is None and turn.approval is None)):
        failures.append(f"unexpected approval request for {trace.approvals[0].get('tool_name')}")
    return result


async def run_case(env: EvalEnvironment, case: EvalCase, vocabulary: Vocabulary) -> CaseResult:
    """The case's turns in one new chat session; each turn sees the conversation so far."""
    session_id = await env.new_session(case.turns[0].user)
    sources: list[str] = []
    results = []
    for index, turn in enumerate(case.turns):
        try:
            trace = await env.user_turn(session_id, turn.user, first=index == 0, approval=turn.approval)
        except Exception as exc:  # the product refused the turn (an AppError...): the case fails, the run goes on
            trace = TurnTrace(errors=[f"the turn could not run: {type(exc).__name__}: {exc}"])
        sources.append(turn.user)
        sources.extend(str(c.result) for c in trace.calls)
        results.append(score_turn(turn, trace, sources, vocabulary))
    return CaseResult(case.id, case.category, results)


def changes_state(case: EvalCase) -> bool:
    """A case that approves a write (creates an issue, sends a message) changes what others read."""
    return any(turn.approval == "approve" for turn in case.turns)


async def run_cases(
    env: EvalEnvironment,
    cases: Sequence[EvalCase],
    vocabulary: Vocabulary,
    *,
    concurrency: int = 1,
    progress: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Every case; results in the dataset's order.

    Read-only cases run first, `concurrency` at a time (sessions are independent); cases that approve
    writes run after them, one at a time, so "my open issues" always sees the sandbox's seed state.
    """
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(case: EvalCase) -> CaseResult:
        async with gate:
            result = await run_case(env, case, vocabulary)
        if progress is not None:
            progress(result)
        return result

    reads = [c for c in cases if not changes_state(c)]
    results = {c.id: r for c, r in zip(reads, await asyncio.gather(*(one(c) for c in reads)), strict=True)}
    for case in cases:
        if changes_state(case):
            results[case.id] = await one(case)
    return [results[c.id] for c in cases]

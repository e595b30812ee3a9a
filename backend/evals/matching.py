"""Did the agent call the right tools? Key-argument matching plus `agentevals` trajectory matching.

Actual calls are named by their operation id (so `demo_jira__search_issues` and `acme__search_issues`
both read `jira.search_issues`), with the tool name and integration carried as the pseudo-arguments
`@tool`, `@integration` and `@text` (every argument value as one text, for "the call mentions OPS and
Incident" whether a model wrote JQL or structured filters). A case names only the arguments that
matter; each is a spec:

    value                 equal (strings case- and whitespace-insensitive; numbers as numbers)
    {contains: text}      the value (as text) contains it, case-insensitive (a list: all of them)
    {regex: pattern}      the value (as text) matches, case-insensitive
    {glob: pattern}       shell-style pattern on the value
    {any_of: [spec...]}   one of the specs matches
    [spec, ...]           the value is a list holding an item matching each spec
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage

from .dataset import ExpectedCall, TrajectoryMode

_SPEC_MARK = "@spec"  # marks the reference side: agentevals also calls matchers with sides swapped


@dataclass(frozen=True)
class ActualCall:
    """A tool call the agent made, as the turn's frames reported it."""

    name: str
    operation: str
    integration: str | None
    args: dict[str, Any]
    ok: bool = True
    result: Any = field(default=None, compare=False)

    def as_args(self) -> dict[str, Any]:
        text = " ".join(_text(v) for v in self.args.values())
        return {**self.args, "@tool": self.name, "@integration": self.integration or "", "@text": text}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _fold(value: str) -> str:
    return " ".join(value.lower().split())


def arg_matches(spec: Any, value: Any) -> bool:
    """Whether an argument value satisfies a spec (see the module docstring)."""
    if isinstance(spec, dict):
        if "contains" in spec:
            needles = spec["contains"] if isinstance(spec["contains"], list) else [spec["contains"]]
            haystack = _fold(_text(value)) if value is not None else ""
            return all(_fold(str(n)) in haystack for n in needles)
        if "regex" in spec:
            return value is not None and re.search(str(spec["regex"]), _text(value), re.IGNORECASE) is not None
        if "glob" in spec:
            return value is not None and fnmatch.fnmatch(_text(value).lower(), str(spec["glob"]).lower())
        if "any_of" in spec:
            return any(arg_matches(option, value) for option in spec["any_of"])
        return isinstance(value, dict) and all(arg_matches(v, value.get(k)) for k, v in spec.items())
    if isinstance(spec, list):
        return isinstance(value, list) and all(any(arg_matches(s, v) for v in value) for s in spec)
    if isinstance(spec, bool) or isinstance(value, bool):
        return spec is value
    if isinstance(spec, int | float) and isinstance(value, int | float):
        return float(spec) == float(value)
    if isinstance(spec, str) and isinstance(value, str | int | float):
        return _fold(spec) == _fold(str(value))
    return bool(spec == value)


def reference_args(expected: ExpectedCall) -> dict[str, Any]:
    args: dict[str, Any] = {_SPEC_MARK: True, **expected.args}
    if expected.tool:
        args["@tool"] = {"glob": expected.tool}
    if expected.integration:
        args["@integration"] = expected.integration
    return args


def args_match(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """agentevals matcher: every key argument of the reference side holds in the actual side."""
    spec, actual = (first, second) if first.get(_SPEC_MARK) else (second, first)
    if not spec.get(_SPEC_MARK):  # two actual calls (never compared by the scorers we use)
        return spec == actual
    return all(arg_matches(v, actual.get(k)) for k, v in spec.items() if k != _SPEC_MARK)


def call_matches(expected: ExpectedCall, actual: ActualCall) -> bool:
    return expected.op == actual.operation and args_match(reference_args(expected), actual.as_args())


def count_matched(expected: Sequence[ExpectedCall], actual: Sequence[ActualCall]) -> int:
    """Expected calls that some distinct actual call satisfies (for precision and recall)."""
    used: set[int] = set()
    matched = 0
    for want in expected:
        for index, call in enumerate(actual):
            if index not in used and call_matches(want, call):
                used.add(index)
                matched += 1
                break
    return matched


def count_relevant(expected: Sequence[ExpectedCall], actual: Sequence[ActualCall]) -> int:
    """Actual calls that fit some expected call (for precision: asking both EMRs is not noise)."""
    return sum(1 for call in actual if any(call_matches(want, call) for want in expected))


def _messages(calls: Sequence[tuple[str, dict[str, Any]]]) -> list[AIMessage]:
    # One assistant message per call: "strict" then means the same calls in the same order, whether a
    # model batched them into one step or made them one after another.
    return [
        AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"c{i}", "type": "tool_call"}])
        for i, (name, args) in enumerate(calls)
    ]


def trajectory_matches(mode: TrajectoryMode, expected: Sequence[ExpectedCall], actual: Sequence[ActualCall]) -> bool:
    """The agentevals trajectory match of this turn's calls against the expected ones."""
    if mode == "ignore":
        return True
    from agentevals.trajectory.match import create_trajectory_match_evaluator

    names = {c.operation for c in actual} | {e.op for e in expected}
    evaluate = create_trajectory_match_evaluator(
        trajectory_match_mode=mode,
        tool_args_match_mode="superset",
        tool_args_match_overrides=dict.fromkeys(names, args_match),
    )
    result = evaluate(
        outputs=_messages([(c.operation, c.as_args()) for c in actual]),
        reference_outputs=_messages([(e.op, reference_args(e)) for e in expected]),
    )
    return bool(result["score"])

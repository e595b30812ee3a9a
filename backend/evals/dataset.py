"""Evaluation cases: the YAML format, loading and filtering.

A file holds one category's cases:

    category: jira
    cases:
      - id: jira-open-mine
        turns:
          - user: "what are my open jira tickets?"
            expect_tools:
              - op: jira.my_open_issues          # the tool's operation id (tools.tooling metadata)
                tool: "*jira*"                   # optional glob on the tool name
                args: {max_results: 20}          # optional key arguments (see matching.arg_matches)
            must_contain: ["SB-12", ["in progress", "In Progress"]]   # a list = any one of them
            must_not_contain: ["SB-999"]
            approval: approve                    # how the user answers an approval request

`trajectory` per turn: `superset` (default when calls are expected: every expected call is made,
extra calls only cost precision), `strict` (exactly these calls, in this order), `unordered`
(exactly these calls, any order) or `ignore`. A turn that expects no calls defaults to `strict`:
answering from nothing but the conversation is part of the task.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Literal["jira", "emr", "hl7", "general"]
TrajectoryMode = Literal["strict", "unordered", "superset", "ignore"]
Fact = str | list[str]


class ExpectedCall(BaseModel):
    """One tool call the agent should make."""

    model_config = ConfigDict(extra="forbid")

    op: str = Field(min_length=3, description="operation id, e.g. jira.search_issues")
    tool: str | None = Field(default=None, description="glob on the tool name, e.g. epic_sandbox__*")
    integration: str | None = Field(default=None, description="the integration's name, e.g. Epic sandbox")
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("args", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        # YAML reads 1960-08-09 as a date: keep argument specs JSON-plain (dates as their ISO text).
        return json.loads(json.dumps(value, default=str)) if isinstance(value, dict) else value


class EvalTurn(BaseModel):
    """One user message and what a good answer to it looks like."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    expect_tools: list[ExpectedCall] = Field(default_factory=list)
    trajectory: TrajectoryMode | None = None
    must_contain: list[Fact] = Field(default_factory=list)
    must_not_contain: list[str] = Field(default_factory=list)
    approval: Literal["approve", "reject"] | None = None
    expect_approval: bool | None = None  # None: the turn asks for one exactly when `approval` is set
    tool_errors_expected: bool = False  # a failing tool result is the point (e.g. an unknown issue key)

    @field_validator("must_contain", "must_not_contain", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # YAML reads 1960-08-09 as a date and 76 as a number; a fact is always text.
        def text(item: Any) -> Any:
            return [str(i) for i in item] if isinstance(item, list) else str(item)

        return [text(item) for item in value] if isinstance(value, list) else value

    @property
    def mode(self) -> TrajectoryMode:
        if self.trajectory is not None:
            return self.trajectory
        return "superset" if self.expect_tools else "strict"

    @property
    def wants_approval(self) -> bool | None:
        if self.expect_approval is not None:
            return self.expect_approval
        return True if self.approval is not None else None


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    category: Category
    description: str = ""
    turns: list[EvalTurn] = Field(min_length=1)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    cases: list[dict[str, Any]]

    @field_validator("cases")
    @classmethod
    def _not_empty(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise ValueError("a case file needs at least one case")
        return value


class DatasetError(ValueError):
    """A case file is malformed; the message names the file and the case."""


class Dataset(BaseModel):
    cases: list[EvalCase]

    @model_validator(mode="after")
    def _unique_ids(self) -> Dataset:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"duplicate case id {case.id!r}")
            seen.add(case.id)
        return self

    def select(self, pattern: str | None) -> list[EvalCase]:
        """Cases whose category equals `pattern` or whose id matches it as a glob (comma-separated)."""
        if not pattern:
            return list(self.cases)
        globs = [p.strip() for p in pattern.split(",") if p.strip()]
        return [c for c in self.cases if any(c.category == g or fnmatch.fnmatch(c.id, g) for g in globs)]


def load_dataset(path: Path) -> Dataset:
    """Every `*.yaml` under `path` (or the one file `path`), in name order."""
    files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise DatasetError(f"no *.yaml case files under {path}")
    cases: list[EvalCase] = []
    for file in files:
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8"))
            parsed = CaseFile.model_validate(raw)
            for item in parsed.cases:
                cases.append(EvalCase.model_validate({"category": parsed.category, **item}))
        except (yaml.YAMLError, ValueError) as exc:
            raise DatasetError(f"{file}: {exc}") from None
    try:
        return Dataset(cases=cases)
    except ValueError as exc:
        raise DatasetError(str(exc)) from None

"""The harness itself: matching, grounding, dataset rules, failure detection, and the real-model path."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.evals.command import evaluate
from backend.evals.dataset import DatasetError, ExpectedCall, load_dataset
from backend.evals.grounding import Vocabulary, fact_present, ungrounded
from backend.evals.matching import ActualCall, arg_matches, count_matched, trajectory_matches
from backend.evals.vocabulary import sandbox_vocabulary
from tests.agents.openai_compat_server import create_app as compat_server
from tests.conftest import empty_database
from tools.sandbox_server import serve_app

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG777|P|2.5.1\nPID|1||12345^^^HOSP^MR||DOE^JANE"


def _call(operation: str, **args: object) -> ActualCall:
    return ActualCall(name=operation.replace(".", "__"), operation=operation, integration="Demo", args=dict(args))


def test_argument_specs() -> None:
    assert arg_matches("sb-12", "SB-12")
    assert arg_matches({"contains": ["currentuser()", "resolution"]}, "assignee = currentUser() AND resolution = X")
    assert not arg_matches({"contains": "status"}, "assignee = currentUser()")
    assert arg_matches({"regex": r"^E\d{4}$"}, "E1001") and not arg_matches({"regex": r"^E\d{4}$"}, "C77001")
    assert arg_matches({"any_of": ["Harold", "Quimby"]}, "quimby")
    assert arg_matches(["backend"], ["Backend", "api"]) and not arg_matches(["ui"], ["backend"])
    assert arg_matches(5, 5.0) and not arg_matches(True, 1)
    assert not arg_matches("x", None)


def test_trajectory_modes() -> None:
    search = ExpectedCall(op="jira.search_issues", args={"jql": {"contains": "currentUser()"}})
    get = ExpectedCall(op="jira.get_issue", args={"issue_key": "SB-1"})
    made = [_call("jira.get_issue", issue_key="SB-1"), _call("jira.search_issues", jql="assignee = currentUser()")]
    assert trajectory_matches("superset", [search], made)
    assert trajectory_matches("unordered", [search, get], made)
    assert not trajectory_matches("strict", [search, get], made)
    assert trajectory_matches("strict", [get, search], made)
    assert not trajectory_matches("strict", [], made[:1])  # no call expected, one made
    assert not trajectory_matches("superset", [ExpectedCall(op="jira.get_issue", args={"issue_key": "SB-2"})], made)
    assert trajectory_matches("ignore", [search], [])
    assert count_matched([search, get, get], made) == 2


def test_ungrounded_identifiers_are_caught() -> None:
    vocabulary = sandbox_vocabulary()
    sources = ['{"key":"SB-12","summary":"Login fails"}', "show SB-12"]
    assert ungrounded("SB-12 is open; see also SB-99.", sources, vocabulary) == ["SB-99"]
    assert ungrounded("SB-1 is the one", sources, vocabulary) == ["SB-1"]  # SB-12 does not ground SB-1
    # HL7 field positions and standards look like issue keys but are not.
    assert ungrounded("PID-5 holds the name; MSH-10 the control id; dates are ISO-8601.", [], vocabulary) == []
    if vocabulary.patient_names:  # the EMR connector is installed: its patients are known
        sources = ['{"name":{"family":"Quimby","given":["Harold"]},"mrn":"E1001"}']
        assert ungrounded("Harold Quimby (MRN E1001)", sources, vocabulary) == []
        assert ungrounded("Harold Quimby, E1001, and Edith Quimby (E1099)", sources, vocabulary) == [
            "E1099",
            "Edith Quimby",
        ]
    assert ungrounded("nothing to see", [], Vocabulary()) == []


def test_facts_match_whole_numbers_but_word_prefixes() -> None:
    assert fact_present("OPS-1", "OPS-1 and OPS-12") and not fact_present("OPS-1", "only OPS-12")
    assert fact_present("6", "You have 6 open issues") and not fact_present("6", "16 issues")
    assert fact_present(["rejected", "declined"], "The user DECLINED it")
    assert fact_present("approv", "writes need your approval")


def test_dataset_rules(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("category: general\ncases:\n  - id: same\n    turns: [{user: hi}]\n")
    (tmp_path / "b.yaml").write_text("category: hl7\ncases:\n  - id: same\n    turns: [{user: hi}]\n")
    with pytest.raises(DatasetError, match="duplicate case id 'same'"):
        load_dataset(tmp_path)
    (tmp_path / "b.yaml").write_text("category: hl7\ncases:\n  - id: other\n    turns: [{user: hi, typo: 1}]\n")
    with pytest.raises(DatasetError, match=r"b\.yaml"):
        load_dataset(tmp_path)
    (tmp_path / "b.yaml").write_text("category: hl7\ncases:\n  - id: hl7-x\n    turns: [{user: hi}]\n")
    dataset = load_dataset(tmp_path)
    assert [c.id for c in dataset.select("hl7")] == ["hl7-x"]
    assert [c.id for c in dataset.select("sa*")] == ["same"]
    assert dataset.select("general,hl7-*") == dataset.cases


CASES = """
category: hl7
cases:
  - id: hl7-right
    turns:
      - user: "explain this {adt}"
        expect_tools: [{{op: hl7.explain, args: {{message: {{contains: MSG777}}}}}}]
        must_contain: [MSG777]
  - id: hl7-wrong-expectations
    turns:
      - user: "explain this {adt}"
        expect_tools: [{{op: hl7.validate}}]
        must_contain: [a fact the answer lacks]
        must_not_contain: [MSG777]
"""


async def test_the_harness_fails_wrong_answers(database_url: str, tmp_path: Path) -> None:
    await empty_database(database_url)
    (tmp_path / "cases.yaml").write_text(CASES.format(adt=ADT.replace("\n", "\\n").replace("\\&", "\\\\&")))
    run = await evaluate(tmp_path / "cases.yaml", database_url=database_url)
    results = {r.id: r for r in run.results}
    assert results["hl7-right"].success, results["hl7-right"].failures
    wrong = results["hl7-wrong-expectations"]
    assert not wrong.success
    reasons = " ".join(wrong.failures)
    assert "trajectory" in reasons and "lacks" in reasons and "contains ['MSG777']" in reasons
    assert run.overall.task_success == 0.5
    assert run.overall.hallucinations == 0  # MSG777 is wrong here but grounded: the user pasted it
    assert run.overall.tool_precision == 0.5 and run.overall.tool_recall == 0.5


REAL_MODEL_CASE = """
category: hl7
cases:
  - id: hl7-real-model-path
    turns:
      - user: "explain this message {adt}"
        expect_tools: [{{op: hl7.explain, args: {{message: {{contains: MSG777}}}}}}]
        must_contain: [MSG777, ADT^A01]
"""


@pytest.mark.parametrize("answer_tail, succeeds", [("", True), (" Related ticket: OPS-4242.", False)])
async def test_a_real_model_runs_unchanged_through_llm_model_and_openai_base_url(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer_tail: str, succeeds: bool
) -> None:
    """An OpenAI-compatible server on loopback stands in for the provider: same wire format, same harness."""
    await empty_database(database_url)
    words = ["The ", "message ", "is ", "an ", "ADT^A01 ", "with ", "control ", "id ", "MSG777.", answer_tail]
    server = compat_server("hl7_explain", {"message": ADT}, [w for w in words if w])
    (tmp_path / "case.yaml").write_text(REAL_MODEL_CASE.format(adt=ADT.replace("\n", "\\n").replace("\\&", "\\\\&")))
    async with serve_app(server) as base_url:
        monkeypatch.setenv("LLM_MODEL", "openai:gpt-test")
        monkeypatch.setenv("OPENAI_BASE_URL", f"{base_url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        run = await evaluate(tmp_path / "case.yaml", database_url=database_url)
    assert run.model == "openai:gpt-test"
    (result,) = run.results
    assert result.success is succeeds, result.failures
    turn = result.turns[0]
    assert turn.calls[0]["operation"] == "hl7.explain" and turn.calls[0]["ok"]
    assert turn.tokens["total"] == 38  # two model calls of 19 tokens, as the server reports usage
    assert run.overall.hallucinations == (0 if succeeds else 1)
    assert len(server.state.requests) == 2


SPLIT_CASE = """
category: general
cases:
  - id: {id}
    turns:
      - user: hello
        must_contain: [Switchboard]
"""


def test_eval_reports_each_split_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`switchboard eval` prints a table and writes a report per split; `--split` picks one."""
    import argparse
    import json

    from backend.evals.command import run_command

    for split, case_id in (("dev", "dev-hello"), ("heldout", "heldout-hello")):
        (tmp_path / "cases" / split).mkdir(parents=True)
        (tmp_path / "cases" / split / "general.yaml").write_text(SPLIT_CASE.format(id=case_id))

    def run(split: str) -> int:
        args = argparse.Namespace(
            dataset=tmp_path / "cases", split=split, out=tmp_path / "out", model=None, pattern=None,
            concurrency=1, turn_timeout=60.0, verbose=False, min_success=1.0,
        )  # fmt: skip
        return run_command(args)

    assert run("all") == 0
    printed = capsys.readouterr().out
    assert "split: dev" in printed and "split: heldout" in printed
    for split, case_id in (("dev", "dev-hello"), ("heldout", "heldout-hello")):
        report = json.loads((tmp_path / "out" / split / "report.json").read_text())
        assert report["split"] == split and [c["id"] for c in report["cases"]] == [case_id]
    assert run("heldout") == 0
    assert "split: dev" not in capsys.readouterr().out

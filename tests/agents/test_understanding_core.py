"""The understanding layer on its own: grounding, dialogue references, intent by meaning (the real
packaged embedding model), hypotheticals, compound steps, and the conductor's clarifying question."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agents.offline.conductor import conduct
from agents.offline.skill import Call, Reply, Step, ToolInfo, ToolOutcome, Turn
from agents.offline.understanding import IntentRouter, Operation, clean_span, ground
from agents.offline.understanding.dialogue import DialogueState, Entity, Mention, ordinal_index, register_extractor
from agents.offline.understanding.embedder import default_embedder
from agents.offline.understanding.intents import meaning_text
from agents.offline.understanding.replies import CLARIFY_OPENING
from agents.offline.understanding.requests import is_confirmation, is_hypothetical, split_steps, without_hold


@pytest.mark.parametrize(
    ("span", "argument"),
    [
        ("Harold Quimby's please", "Harold Quimby"),
        ("Dr. Marisol Vantongeren and then create a ticket", "Marisol Vantongeren"),
        ("the in progress column, thanks", "in progress column"),
        ("Mrs. edith quimby\u2019s", "edith quimby"),
    ],
)
def test_clean_span_keeps_only_the_argument(span: str, argument: str) -> None:
    assert clean_span(span) == argument


def test_ground_accepts_case_typos_prefixes_and_aliases_but_never_a_guess() -> None:
    statuses = ["To Do", "In Progress", "In Review", "Done"]
    assert ground("in progres", statuses) is not None and ground("in progres", statuses).value == "In Progress"  # type: ignore[union-attr]
    assert ground("DONE", statuses).value == "Done"  # type: ignore[union-attr]
    assert ground("purple", statuses) is None
    assert ground("in", statuses) is None  # too short to mean one of them
    projects = {"OPS": ["Operations"], "MKT": ["Marketing"], "SB": ["Switchboard"]}
    assert ground("operatoins", list(projects), aliases=projects).value == "OPS"  # type: ignore[union-attr]
    assert ground("marketing", list(projects), aliases=projects).value == "MKT"  # type: ignore[union-attr]
    assert ground("quimby", ["Harold Quimby", "Edith Quimby"]) is None  # two people: ask, don't pick


def _info(operation: str, access: str = "read", integration: str = "Demo") -> ToolInfo:
    return ToolInfo(operation.replace(".", "__"), operation, integration, operation.split(".")[0], access, {})


def _items(outcome: ToolOutcome) -> Mention | None:
    data = outcome.data
    if isinstance(data, dict) and "items" in data:
        return Mention(tuple(Entity("thing", str(i)) for i in data["items"]), is_list=True)
    if isinstance(data, dict) and "id" in data:
        return Mention((Entity("thing", str(data["id"])),), is_list=False)
    return None


register_extractor("things.", _items)


def _outcome(operation: str, content: str, call_id: str = "") -> ToolOutcome:
    info = _info(operation)
    return ToolOutcome(info, info.name, {}, content, True, call_id)


def test_dialogue_resolves_ordinals_plurals_and_pronouns() -> None:
    state = DialogueState([_outcome("things.list", '{"items": ["A-1", "A-2", "A-3"]}')])
    assert state.resolve("tell me about the second one", "thing").entities[0].id == "A-2"  # type: ignore[union-attr]
    assert state.resolve("and the last one?", "thing").entities[0].id == "A-3"  # type: ignore[union-attr]
    assert [e.id for e in state.resolve("close all of them", "thing").entities] == ["A-1", "A-2", "A-3"]  # type: ignore[union-attr]
    assert state.resolve("the ninth one", "thing") is None  # no ninth item: nothing is guessed
    assert state.resolve("what is it?", "thing") is None  # a list of three has no single focus
    focused = DialogueState(
        [_outcome("things.list", '{"items": ["A-1", "A-2"]}'), _outcome("things.get", '{"id": "A-2"}')]
    )
    assert focused.resolve("assign it to me", "thing").entities[0].id == "A-2"  # type: ignore[union-attr]
    assert ordinal_index("#3") == 2 and ordinal_index("number 2 please") == 1 and ordinal_index("show more") is None


OPERATIONS = (
    Operation("emr.allergies", "look up a patient's allergies", (
        "what is she allergic to", "any allergies on file", "drug allergies for the patient", "reactions to meds",
    )),
    Operation("emr.vitals", "show a patient's vitals", (
        "blood pressure and pulse", "latest vital signs", "what was his temperature", "oxygen saturation",
    )),
    Operation("jira.create", "create a Jira issue", (
        "create a ticket", "file a bug about the crash", "log an issue for this", "raise a task",
    )),
    Operation("hl7.send", "send an HL7 message", (
        "send this message to the lab", "forward it to the downstream system", "transmit the ADT",
    )),
)  # fmt: skip


def test_the_packaged_model_ranks_paraphrases_by_meaning() -> None:
    router = IntentRouter(OPERATIONS)
    assert router.rank("does he react badly to penicillin").best[0] == "emr.allergies"  # type: ignore[index]
    assert router.rank("how's her BP and heart rate").best[0] == "emr.vitals"  # type: ignore[index]
    assert router.rank("please open a ticket so someone fixes the export").best[0] == "jira.create"  # type: ignore[index]
    assert router.rank("relay this to the pharmacy system").best[0] == "hl7.send"  # type: ignore[index]
    only_emr = router.rank("log an issue for this", available=["emr.allergies", "emr.vitals"])
    assert {label for label, _ in only_emr.scores} == {"emr.allergies", "emr.vitals"}  # no Jira tool bound


def test_identifiers_do_not_carry_meaning() -> None:
    assert meaning_text("Hand SB-16 over to Alex on 2025-06-01") == "hand it over to alex on"
    vectors = default_embedder().embed(["a", "b"])
    assert vectors.shape == (2, 256) and abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-3


def test_hypotheticals_confirmations_and_steps() -> None:
    assert is_hypothetical("what would happen if I moved SB-4 to done?")
    assert is_hypothetical("create it but don't create it yet")
    assert not is_hypothetical("move SB-4 to done")
    assert without_hold("what would happen if I moved SB-4 to done?") == "moved SB-4 to done"
    assert is_confirmation("ok, go ahead") and is_confirmation("yes please do") and not is_confirmation("no")
    assert split_steps("find Harold's glucose and create a ticket with it") == [
        "find Harold's glucose",
        "create a ticket with it",
    ]
    assert split_steps("show bugs and stories in SB") == ["show bugs and stories in SB"]


class _Domain:
    """A skill that only knows its operations and calls its one tool."""

    def __init__(self, name: str, operations: tuple[Operation, ...], tool: str) -> None:
        self.name, self.operations, self.tool = name, operations, tool

    def score(self, turn: Turn) -> float:
        return 0.5 if turn.understanding and turn.understanding.score(self.name) > 0.3 else 0.0

    def step(self, turn: Turn) -> Step:
        if turn.outcomes:
            return Reply(f"{self.name} answered")
        return [Call(self.tool, {"words": turn.own_words})]

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return []


def _turn(text: str, history: list[Any] | None = None, outcomes: tuple[ToolOutcome, ...] = ()) -> Turn:
    tools = (_info("emr.allergies"), _info("jira.create_issue", "write"))
    return Turn(text, tools, outcomes, tuple(history or ()), datetime.now(UTC))


def test_two_equally_likely_systems_get_a_question_naming_both_and_the_answer_resumes() -> None:
    # Both systems list the same way of asking: the request fits them equally.
    shared = "handle the allergy ticket"
    emr = Operation("emr.allergies", "look up a patient's allergies", (*OPERATIONS[0].examples, shared))
    jira = Operation("jira.create", "create a Jira issue", (*OPERATIONS[2].examples, shared))
    skills = (_Domain("emr", (emr,), "emr__allergies"), _Domain("jira", (jira,), "jira__create_issue"))
    text = "handle the allergy ticket"
    question = conduct(skills, _turn(text))
    assert isinstance(question, Reply) and question.markdown.startswith(CLARIFY_OPENING)
    assert "look up a patient's allergies" in question.markdown and "create a Jira issue" in question.markdown
    history = [HumanMessage(text), AIMessage(question.markdown)]
    resumed = conduct(skills, _turn("the second one", history))
    assert isinstance(resumed, list) and resumed[0].tool == "jira__create_issue"


def test_a_hypothetical_write_is_explained_and_go_ahead_runs_it() -> None:
    skills = (_Domain("jira", OPERATIONS[2:3], "jira__create_issue"),)
    text = "what would happen if you filed a bug about the crash?"
    explained = conduct(skills, _turn(text))
    assert isinstance(explained, Reply) and "Nothing has been changed" in explained.markdown
    assert "create a Jira issue" in explained.markdown
    confirmed = conduct(skills, _turn("ok go ahead", [HumanMessage(text), AIMessage(explained.markdown)]))
    assert isinstance(confirmed, list) and confirmed[0].tool == "jira__create_issue"


def test_a_compound_request_runs_its_steps_in_order_each_with_its_own_results() -> None:
    skills = (
        _Domain("emr", OPERATIONS[:1], "emr__allergies"),
        _Domain("jira", OPERATIONS[2:3], "jira__create_issue"),
    )
    text = "check her drug allergies and then create a ticket about it"
    first = conduct(skills, _turn(text))
    assert isinstance(first, list) and first[0].tool == "emr__allergies" and first[0].step == 0
    done = _outcome("emr.allergies", "{}", "call_s0_abc")
    second = conduct(skills, _turn(text, outcomes=(done,)))
    assert isinstance(second, list) and second[0].tool == "jira__create_issue" and second[0].step == 1
    both = conduct(skills, _turn(text, outcomes=(done, _outcome("jira.create_issue", "{}", "call_s1_def"))))
    assert isinstance(both, Reply) and both.markdown == "emr answered\n\njira answered"

"""The offline model's EMR skill against both FHIR sandboxes over HTTP: patients grounded in the search
(titles, possessives, typos, nicknames, a given name alone), lay words, first sentences that answer the
question, corrections and follow-ups, and nothing read for a patient nobody found."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.agents.offline_chat import Conversation
from tests.tools.fhir.fhir_sandboxes import Sandboxes, running_sandboxes
from tools.base import ToolServices
from tools.fhir.connector import CONNECTOR


@pytest.fixture
async def sandboxes() -> AsyncIterator[Sandboxes]:
    async with running_sandboxes() as running:
        yield running


def _chat(sandboxes: Sandboxes) -> Conversation:
    tools = [t for ctx in sandboxes.contexts for t in CONNECTOR.build_tools(ctx, ToolServices())]
    return Conversation(tools)


def _read_ids(chat: Conversation, operation: str) -> set[str]:
    return {str(c["args"]["patient_id"]) for c in chat.called(f"__{operation}")}


@pytest.mark.parametrize(
    ("words", "operation", "ids", "facts"),
    [
        ("What's Mrs Quimby's blood pressure?", "vitals", {"eEQ1006"}, ["125/78", "elevated"]),
        ("Harlod Quimby's pulse please", "vitals", {"eHQ1001", "12740001"}, ["76 /min", "within the normal range"]),
        ("what's Marisol's temp", "vitals", {"eMV1002", "12740002"}, ["36.8"]),
        ("Edith Quimbey's medications", "medications", {"eEQ1006"}, ["Alendronate"]),
        ("I need Cornelius Abernathy Pike's hemoglobin", "labs", {"12740004"}, ["11.8 g/dL", "low"]),
        ("is Cornelius Abernathy-Pike's kidney function ok?", "labs", {"12740004"}, ["1.6 mg/dL", "high"]),
        ("when was Edith Quimby last seen?", "encounters", {"eEQ1006"}, ["2025-06-01"]),
        (
            "can u check if mr brackwell has any nut allergy",
            "allergies",
            {"eTB1003", "12740003"},
            ["**Yes**", "Peanut"],
        ),
    ],
)
async def test_grounded_patient_and_lay_words(
    sandboxes: Sandboxes, words: str, operation: str, ids: set[str], facts: list[str]
) -> None:
    chat = _chat(sandboxes)
    answer = await chat.say(words)
    assert _read_ids(chat, operation) <= ids and _read_ids(chat, operation)
    for fact in facts:
        assert fact in answer


async def test_yes_no_questions_are_answered_first(sandboxes: Sandboxes) -> None:
    assert (await _chat(sandboxes).say("Is Harold Quimby allergic to penicillin?")).startswith("**Yes** — ")
    assert (await _chat(sandboxes).say("Is Edith Quimby on warfarin?")).startswith("**No** — ")
    assert "Warfarin" in await _chat(sandboxes).say("is Cornelius Abernathy-Pike on a blood thinner?")
    answer = await _chat(sandboxes).say("any history of diabetes for harold quimby?")
    assert answer.startswith("**Yes** — ") and "Type 2 diabetes mellitus" in answer


async def test_trends_ranges_and_sources(sandboxes: Sandboxes) -> None:
    trend = await _chat(sandboxes).say("has harold quimby's a1c been going up?")
    assert "up overall" in trend and "7.4 → 7.5 → 7.3 → 7.6 %" in trend
    where = await _chat(sandboxes).say("Does Cerner have a record for Odalys Fenwick?")
    assert where.startswith("**No** for Cerner sandbox") and "Epic sandbox" in where
    admitted = await _chat(sandboxes).say("was Harold Quimby ever admitted to hospital?")
    assert admitted.startswith("**No** inpatient admissions")


async def test_unknown_and_ambiguous_names_are_asked_about(sandboxes: Sandboxes) -> None:
    chat = _chat(sandboxes)
    answer = await chat.say("Rosalind Featherstonehaugh's allergies")
    assert "couldn't find" in answer and not chat.called("__allergies")
    chat = _chat(sandboxes)
    answer = await chat.say("what is Quimby taking?")
    assert "which one do you mean" in answer and not chat.called("__medications")
    assert all(name in answer for name in ("Edith Quimby", "Harold Quimby", "Walter Quimby"))


async def test_follow_ups_and_corrections(sandboxes: Sandboxes) -> None:
    chat = _chat(sandboxes)
    await chat.say("show Harold Quimby's medications")
    answer = await chat.say("no, I meant in Cerner only")
    assert [c["name"] for c in chat.called("__medications")][-1] == "cerner_sandbox__medications"
    assert "Atorvastatin" in answer
    chat = _chat(sandboxes)
    await chat.say("find patients named Quimby")
    assert "Codeine" in await chat.say("allergies for the one born in 1960")
    assert "Osteoporosis" in await chat.say("and her conditions?")


async def test_two_patients_in_one_request(sandboxes: Sandboxes) -> None:
    chat = _chat(sandboxes)
    answer = await chat.say("allergies for Edith Quimby and Theodore Brackwell, please")
    assert _read_ids(chat, "allergies") == {"eEQ1006", "eTB1003"}
    assert "Codeine" in answer and "Peanut" in answer

"""The offline model's HL7 skill: build requests and store questions read from plain language, and
answers built only from the real tools' results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.offline.model import OfflineChatModel
from agents.offline.skills.hl7_intents import RECENT_INTENT, build_arguments, recent_arguments
from tools.base import ToolServices
from tools.hl7.tools import shared_tools


async def _turn(text: str) -> tuple[AIMessage, str]:
    """One user message: the model's tool call, then its answer from the real tool's result."""
    tools = {t.name: t for t in shared_tools([], ToolServices())}
    model = OfflineChatModel().bind_tools(list(tools.values()))
    first = await model.ainvoke([HumanMessage(text)])
    assert isinstance(first, AIMessage)
    if not first.tool_calls:
        return first, str(first.content)
    call = first.tool_calls[0]
    result = await tools[call["name"]].ainvoke(call["args"])
    answer = await model.ainvoke(
        [HumanMessage(text), first, ToolMessage(str(result), tool_call_id=str(call["id"]), name=call["name"])]
    )
    return first, str(answer.content)


async def test_build_an_adt_from_a_sentence() -> None:
    first, answer = await _turn("build an ADT A04 for Mary Ann Jones born 1990-05-06 female MRN A12")
    assert first.tool_calls[0]["name"] == "hl7_build"
    assert first.tool_calls[0]["args"] == {
        "message_type": "ADT^A04",
        "patient": {
            "mrn": "A12",
            "family_name": "Jones",
            "given_name": "Mary",
            "middle_name": "Ann",
            "birth_date": "1990-05-06",
            "sex": "F",
        },
    }
    assert "**ADT^A04**" in answer and "PID|1||A12^^^^MR||Jones^Mary^Ann||19900506|F" in answer
    assert "validates cleanly" in answer and "Nothing has been sent" in answer


async def test_build_an_oru_with_a_result_value() -> None:
    first, answer = await _turn("create an ORU for John Smith MRN 12345 glucose 2345-7 value 105 mg/dL")
    args = first.tool_calls[0]["args"]
    assert args["order"] == {"service_code": "2345-7"}
    assert args["observations"] == [{"code": "2345-7", "value_type": "NM", "value": "105", "units": "mg/dL"}]
    assert "OBX|1|NM|2345-7^^LN|1|105|mg/dL" in answer


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("build an ADT A01 for John Smith", "name and MRN"),
        ("build an ORU for John Smith MRN 1", "LOINC code"),
        ("build an SIU for John Smith MRN 1", "I can build ADT^A01"),
    ],
)
async def test_incomplete_build_requests_ask_instead_of_guessing(text: str, words: str) -> None:
    first, answer = await _turn(text)
    assert not first.tool_calls and words in answer


def test_store_questions_become_filters() -> None:
    now = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    assert recent_arguments("any adt for patient 12345 today?", now) == {
        "message_type": "ADT",
        "patient_id": "12345",
        "since_hours": 15.5,
    }
    assert recent_arguments("show recent hl7 messages", now) == {}
    assert recent_arguments("oru^r01 received in the last 3 days", now) == {
        "message_type": "ORU^R01",
        "since_hours": 72,
        "direction": "inbound",
    }


def test_destination_names_are_matched_from_the_text() -> None:
    args = build_arguments("build an ADT A08 for Jo Bloggs MRN 9 to Lab LIS", ["Lab LIS", "Radiology"])
    assert isinstance(args, dict) and args["destination"] == "Lab LIS"


def test_only_hl7_questions_go_to_the_message_store() -> None:
    for text in ("any adt for patient 12345 today?", "show recent hl7 messages", "latest oru received"):
        assert RECENT_INTENT.search(text), text
    for text in ("show my recent messages", "any labs for patient 12345 today?", "list open tickets"):
        assert not RECENT_INTENT.search(text), text

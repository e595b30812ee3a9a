"""How the offline model's EMR skill reads a request: names, birth dates, topics and what is asked,
typos, titles, possessives, politeness and lay words included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agents.offline.skill import ToolInfo, Turn
from agents.offline.skills.fhir_request import EmrRequest, read_request, with_earlier

_EMRS = (("Epic sandbox", "epic_sandbox"), ("Cerner sandbox", "cerner_sandbox"))
_OPS = ("find_patient", "vitals", "labs", "medications", "allergies", "conditions", "encounters", "patient_summary")
TOOLS = tuple(ToolInfo(f"{slug}__{op}", f"emr.{op}", name, "emr", "read", {}) for name, slug in _EMRS for op in _OPS)


def _request(text: str, history: tuple[str, ...] = ()) -> EmrRequest:
    messages = tuple(m for h in history for m in (HumanMessage(h), AIMessage("ok")))
    turn = Turn(text=text, tools=TOOLS, outcomes=(), history=messages, now=datetime.now(UTC))
    return with_earlier(turn, read_request(turn))


@pytest.mark.parametrize(
    ("text", "name", "birthdate", "topic"),
    [
        ("show vitals for Harold Quimby", "Harold Quimby", None, "vitals"),
        ("show vitals for harold quimby please", "Harold Quimby", None, "vitals"),
        ("Harold Quimby vitlas", "Harold Quimby", None, "vitals"),
        ("find pateint Marisol Vantongeren born 1984-11-02", "Marisol Vantongeren", "1984-11-02", "find"),
        ("what meds is Priya Lindqvist taking?", "Priya Lindqvist", None, "medications"),
        ("labz for edith quimby 08/09/1960", "Edith Quimby", "1960-08-09", "labs"),
        ("merge Harold Quimby across EMRs", "Harold Quimby", None, "aggregate"),
        ("What are the alergies of Cornelius Abernathy-Pike?", "Cornelius Abernathy-Pike", None, "allergies"),
        ("and his allergies?", None, None, "allergies"),
        ("her problem list", None, None, "conditions"),
        ("blood pressure for Walter Quimby", "Walter Quimby", None, "vitals"),
        ("Pull up Marisol Vantongeren's allergies", "Marisol Vantongeren", None, "allergies"),
        ("show me harold quimby's conditions", "Harold Quimby", None, "conditions"),
        # titles, possessives, politeness and the clause after the name are not part of it
        ("What's Mrs Quimby's blood pressure?", "Quimby", None, "vitals"),
        ("Dr. Fenwick's meds please, thanks", "Fenwick", None, "medications"),
        ("pt walter quimby vitals thx", "Walter Quimby", None, "vitals"),
        ("sugar levels for priya lindqvist and then her a1c", "Priya Lindqvist", None, "labs"),
        # lay words for the topics
        ("how's harold quimby's kidney function", "Harold Quimby", None, "labs"),
        ("is edith quimby on any blood thinners", "Edith Quimby", None, "medications"),
        ("when was Edith Quimby last seen?", "Edith Quimby", None, "encounters"),
        ("any hospital stays for cornelius abernathy-pike", "Cornelius Abernathy-Pike", None, "encounters"),
        ("what diagnoses does odalys fenwick have", "Odalys Fenwick", None, "conditions"),
        ("does harold quimby react to anything", "Harold Quimby", None, "allergies"),
        ("Harold Quimby's oxygen sats", "Harold Quimby", None, "vitals"),
        ("Does Cerner have a record for Odalys Fenwick?", "Odalys Fenwick", None, "presence"),
    ],
)
def test_reads_name_birthdate_and_topic(text: str, name: str | None, birthdate: str | None, topic: str) -> None:
    request = _request(text)
    assert request.names.best == name
    assert request.birthdate == birthdate
    assert request.topics[0] == topic


def test_a_title_narrows_by_sex() -> None:
    assert _request("Mrs Quimby's allergies").names.sex == "female"
    assert _request("what is Mr. Quimby taking").names.sex == "male"


def test_yes_no_terms_trend_and_range_are_read() -> None:
    allergy = _request("Is Harold Quimby allergic to penicillin?")
    assert allergy.yes_no and [t.said for t in allergy.terms] == ["penicillin"]
    assert allergy.names.best == "Harold Quimby"
    drug = _request("is harold on metformin")
    assert drug.topics == ("medications",) and drug.terms[0].needles == ("metformin",)
    assert drug.names.best == "Harold"
    condition = _request("does harold quimby have high blood pressure?")
    assert condition.topics[0] == "conditions" and "hypertension" in condition.terms[0].needles
    trend = _request("has harold quimby's a1c been going up?")
    assert trend.trend and [m.key for m in trend.measures] == ["a1c"] and trend.names.best == "Harold Quimby"
    assert _request("is his potassium too high").ranged


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("Harold Quimby's meds in Cerner", ("Cerner sandbox",)),
        ("harold quimby on epic", ("Epic sandbox",)),
        ("harold quimby meds, not from epic", ("Cerner sandbox",)),
        ("harold quimby meds in both emrs", None),
        ("harold quimby meds in cernr", ("Cerner sandbox",)),
    ],
)
def test_which_emr(text: str, scope: tuple[str, ...] | None) -> None:
    assert _request(text).emrs == scope


def test_a_correction_keeps_the_earlier_request() -> None:
    corrected = _request("no, I meant in Cerner only", ("show Harold Quimby's medications",))
    assert corrected.topics == ("medications",) and corrected.emrs == ("Cerner sandbox",)
    assert corrected.pronoun and not corrected.names.spans
    other = _request("what about Edith Quimby?", ("blood pressure for Harold Quimby",))
    assert other.topics == ("vitals",) and other.names.best == "Edith Quimby"


def test_references_into_a_list() -> None:
    assert _request("allergies for the one born in 1960").birth_year == "1960"
    assert _request("the second one's meds").ordinal == 1
    assert _request("labs for the woman").sex == "female"
    assert _request("vitals for the older one").age_pick == "older"

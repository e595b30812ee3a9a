"""The reply to an EMR read: the sentence that answers the question first, then the tables per source."""

from __future__ import annotations

from typing import Any

from agents.offline.skill import ToolOutcome
from agents.offline.skills.fhir_answers import (
    ALLERGY_KIND,
    CONDITION_KIND,
    MEDICATION_KIND,
    any_answer,
    encounters_lead,
    observation_lead,
    out_of_range,
    presence_answer,
)
from agents.offline.skills.fhir_history import PatientRef
from agents.offline.skills.fhir_render import summary_section, topic_section
from agents.offline.skills.fhir_request import EmrRequest

_OPERATION_TOPICS = {
    "emr.vitals": "vitals",
    "emr.labs": "labs",
    "emr.medications": "medications",
    "emr.allergies": "allergies",
    "emr.conditions": "conditions",
    "emr.encounters": "encounters",
    "emr.patient_summary": "summary",
}
_ITEM_KEYS = {"vitals": "observations", "labs": "observations"}
_NAME_KEYS = {"medications": "medication", "allergies": "substance", "conditions": "condition"}
_NOUNS = {"medications": "medications", "allergies": "allergies", "conditions": "conditions"}
_KINDS = {"medications": MEDICATION_KIND, "allergies": ALLERGY_KIND, "conditions": CONDITION_KIND}


def _source(outcome: ToolOutcome) -> str:
    return outcome.tool.integration_name if outcome.tool and outcome.tool.integration_name else outcome.tool_name


def topic_reply(request: EmrRequest, topics: list[str], fetched: list[ToolOutcome], refs: list[PatientRef]) -> str:
    names = {(r.integration, r.patient_id): r.name for r in refs}
    sex = next((r.gender for r in refs if r.gender), None)
    who = next((r.name for r in refs if r.name), None)
    leads: list[str] = []
    sections: list[str] = []
    for topic in topics:
        outcomes = [o for o in fetched if _OPERATION_TOPICS.get(o.operation or "") == topic]
        items: list[dict[str, Any]] = []
        readable: list[str] = []
        for outcome in outcomes:
            source = _source(outcome)
            person = (
                names.get((source, str(outcome.args.get("patient_id"))))
                or who
                or (f"Patient {outcome.args.get('patient_id')}")
            )
            data = outcome.data
            if not outcome.ok or not isinstance(data, dict):
                sections.append(f"**{source}** could not be read: {outcome.content}")
                continue
            readable.append(source)
            if topic == "summary":
                sections.append(summary_section(data))
                continue
            found = list(data.get(_ITEM_KEYS.get(topic, topic)) or [])
            for item in found:
                item.setdefault("source", source)
            items += found
            sections.append(topic_section(topic, found, person, source))
        label = who or "this patient"
        if not readable or topic == "summary":
            continue
        leads += _lead(request, topic, items, label, readable, sex)
    return "\n\n".join([" ".join(leads), *sections] if leads else sections)


def _lead(
    request: EmrRequest, topic: str, items: list[dict[str, Any]], who: str, sources: list[str], sex: str | None
) -> list[str]:
    if topic in ("vitals", "labs"):
        measures = [m for m in request.measures if m.topic == topic]
        if measures:
            return observation_lead(measures, items, who, sex, trend=request.trend, ranged=request.ranged)
        if request.ranged:
            flagged = out_of_range(items, topic, sex)
            if flagged:
                rest = " Everything else is within the typical adult ranges."
                return [f"Outside the typical adult ranges for **{who}**: " + "; ".join(flagged) + "." + rest]
            return [f"All of **{who}**'s latest {topic} are within the typical adult ranges."] if items else []
        return []
    if topic == "encounters":
        return [encounters_lead(items, who, request.words)]
    key = _NAME_KEYS.get(topic)
    if key is None:
        return []
    terms = [t for t in request.terms if t.needles and t.topic == topic]
    if terms:
        return [presence_answer(t, items, key, who, _KINDS[topic]) for t in terms]
    if request.yes_no:
        return [any_answer(items, key, who, _NOUNS[topic], sources)]
    return []

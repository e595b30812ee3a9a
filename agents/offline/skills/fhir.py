"""EMR requests: find a patient, show their vitals, labs, medications, allergies, conditions or a
summary, or merge them across EMRs. Follow-ups ("and his allergies?") reuse the patient found earlier.

Answers come only from tool results: an unknown patient is reported as not found, never invented.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from agents.offline.render import failure
from agents.offline.skill import Call, Reply, Step, ToolInfo, ToolOutcome, Turn, normalize
from agents.offline.skills.fhir_render import (
    aggregate_section,
    patients_table,
    summary_section,
    topic_section,
)

_TOPIC_WORDS: list[tuple[str, str]] = [
    ("aggregate", r"across|aggregat\w*|merge\w*|combined?|everywhere|all (the )?(emrs?|systems|sources)|"
     r"both (emrs?|systems)"),
    ("summary", r"summary|summari[sz]e|overview|chart|record|everything"),
    ("vitals", r"vitals?|vital signs?|blood pressure|bp|heart rate|pulse|temperature|temp|weight|spo2|oxygen|"
     r"respiratory"),
    ("labs", r"labs?|laborator\w*|lab results?|results|glucose|a1c|hba1c|creatinine|potassium|hemoglobin|haemoglobin"),
    ("medications", r"medications?|medicines?|drugs?|prescriptions?|rx|taking"),
    ("allergies", r"allerg\w*|intoleran\w*"),
    ("conditions", r"conditions?|problems?|problem list|diagnos[ie]s|diseases?"),
    ("find", r"find|search|look ?up|lookup|who is|patients? named|is there a patient"),
]  # fmt: skip
_TOPICS = [(topic, re.compile(rf"\b({words})\b")) for topic, words in _TOPIC_WORDS]
_PATIENTISH = re.compile(r"\b(patient|mrn|born|dob|emr|fhir|epic|cerner|chart)\b")
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b|\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_NAME_CUE = re.compile(
    r"\b(?:for|of|patient|named|called|find|about|search(?: for)?|look ?up|lookup|is|merge|aggregate|combine|"
    r"show|get|pull up|display|list|does|did|has)\s+",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_MRN = re.compile(r"\b(?:mrn|medical record number|identifier)\s*(?:is|of|:|#)?\s*([A-Za-z]{0,3}\d[\w-]{1,30})\b", re.I)
_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z'\-]+(?:\s+[A-Z][A-Za-z'\-]+)+")
_NOT_NAMES = {
    "the", "a", "an", "his", "her", "their", "this", "that", "patient", "patients", "vitals", "labs", "me", "all",
    "and", "with", "born", "dob", "in", "on", "at", "from", "across", "both", "emr", "emrs", "epic", "cerner", "same",
    "him", "them", "medications", "allergies", "conditions", "summary", "record", "there", "named", "called", "to",
    "any", "latest", "recent", "show", "get", "list", "what", "whats", "vital", "signs", "lab", "results", "sandbox",
    "please", "thanks", "now", "today", "give", "tell", "pull", "up", "records", "history", "current", "are", "does",
    "for", "of", "about", "by", "my", "display", "find", "search", "look", "lookup", "is", "merge", "aggregate",
    "combine", "who", "whose", "have", "has", "had", "did", "do", "he", "she", "they", "it",
}  # fmt: skip
_TOPIC_OPERATIONS = {
    "vitals": "emr.vitals",
    "labs": "emr.labs",
    "medications": "emr.medications",
    "allergies": "emr.allergies",
    "conditions": "emr.conditions",
    "summary": "emr.patient_summary",
}


@dataclass(frozen=True)
class PatientRef:
    """A patient in one EMR integration, as an earlier tool result named them."""

    integration: str
    patient_id: str
    name: str | None


def topics_of(text: str) -> list[str]:
    return [topic for topic, pattern in _TOPICS if pattern.search(text)]


def birthdate_of(text: str) -> str | None:
    match = _DATE.search(text)
    if not match:
        return None
    if match.group(1):
        return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
    return f"{match.group(6)}-{int(match.group(4)):02d}-{int(match.group(5)):02d}"  # US month/day/year


def _name_word(word: str) -> bool:
    folded = normalize(word).strip("'")
    return folded not in _NOT_NAMES and not topics_of(folded) and not _PATIENTISH.fullmatch(folded)


def _name_after(text: str) -> str | None:
    words: list[str] = []
    for raw in _WORD.findall(text)[:6]:
        word = re.sub(r"'s?$", "", raw)  # "Quimby's vitals"
        if _name_word(word):
            words.append(word)
            if len(words) == 3:
                break
        elif words:
            break
    return " ".join(w.capitalize() if w.islower() else w for w in words) or None


def name_of(text: str) -> str | None:
    """The person's name the user typed, if any ("vitals for harold quimby" -> "Harold Quimby")."""
    plain = _DATE.sub(" ", text)
    for cue in _NAME_CUE.finditer(plain):
        name = _name_after(plain[cue.end() :])
        if name:
            return name
    for run in _CAPITALISED_RUN.finditer(plain):  # "Harold Quimby vitals please"
        name = _name_after(run.group(0))
        if name and " " in name:
            return name
    words = [re.sub(r"'s?$", "", w) for w in _WORD.findall(plain)]
    start = next((i for i, w in enumerate(words) if normalize(w) not in _NOT_NAMES), len(words))
    leading = list(itertools.takewhile(_name_word, words[start : start + 3]))
    rest = [normalize(w) for w in words[start + len(leading) :]]
    if len(leading) >= 2 and rest and all(topics_of(w) or w in _NOT_NAMES for w in rest):
        return _name_after(" ".join(leading))
    folded = normalize(plain)
    return name_of(folded) if folded != " ".join(plain.lower().split()) else None


def _patients(outcome: ToolOutcome) -> list[dict[str, Any]]:
    data = outcome.data
    return list(data.get("patients", [])) if outcome.ok and isinstance(data, dict) else []


def refs_from_history(turn: Turn) -> list[PatientRef]:
    """The patient of the conversation so far: one per EMR, from the latest EMR results backwards."""
    refs: dict[str, PatientRef] = {}
    names: dict[str, str] = {}  # "<integration>/<patient id>" -> name, from any earlier search
    seen_search = False
    settled = False  # refs are complete once we pass the search that introduced the patient
    for outcome in reversed(turn.earlier_outcomes):
        operation = outcome.operation or ""
        integration = outcome.tool.integration_name if outcome.tool else None
        if not operation.startswith("emr.") or not outcome.ok:
            continue
        if operation == "emr.find_patient" and integration:
            found = _patients(outcome)
            for patient in found:
                names.setdefault(f"{integration}/{patient['id']}", patient["name"])
            if not settled and len(found) == 1 and integration not in refs:
                refs[integration] = PatientRef(integration, found[0]["id"], found[0]["name"])
            seen_search = True
            continue
        settled = settled or (seen_search and bool(refs))
        if settled:
            continue
        if operation == "emr.aggregate":
            data = outcome.data if isinstance(outcome.data, dict) else {}
            name = " / ".join(str(n["value"]) for n in (data.get("patient") or {}).get("name", []))
            for source in data.get("sources", []):
                refs.setdefault(source["source"], PatientRef(source["source"], source["patient_id"], name or None))
            settled = bool(refs)
            continue
        pid = outcome.args.get("patient_id")
        if integration and pid and integration not in refs:
            refs[integration] = PatientRef(integration, str(pid), None)
    return [
        PatientRef(r.integration, r.patient_id, r.name or names.get(f"{r.integration}/{r.patient_id}"))
        for r in refs.values()
    ]


class FhirSkill:
    name = "fhir"

    def score(self, turn: Turn) -> float:
        if not turn.has_operation("emr."):
            return 0.0
        text = turn.normalized
        topics = topics_of(text)
        if not topics and not _PATIENTISH.search(re.sub(r"\b(epic|cerner)\b", " ", text)):
            return 0.0  # a vendor's name alone ("Epic Systems' stock price") is not about a patient
        if name_of(turn.text) or birthdate_of(text) or _PATIENTISH.search(text):
            return 0.85
        # A follow-up about the patient already on screen ("and his allergies?").
        return 0.8 if topics and refs_from_history(turn) else 0.0

    def step(self, turn: Turn) -> Step:
        text = turn.normalized
        topics = topics_of(text)
        topic = next((t for t in topics if t != "find"), "find")
        name, birthdate = name_of(turn.text), birthdate_of(text)
        mrn = _MRN.search(turn.text)
        identifier = mrn.group(1) if mrn else None
        if identifier:
            name = None  # "the patient with MRN E1004": the words around the id are not a name
        if topic == "aggregate":
            return self._aggregate(turn, name, birthdate)
        if name or birthdate or identifier:
            searches = [o for o in turn.outcomes if o.operation == "emr.find_patient"]
            if not searches:
                given = (("name", name), ("birthdate", birthdate), ("identifier", identifier))
                args = {k: v for k, v in given if v}
                return [Call(t.name, args) for t in turn.tools_for("emr.find_patient")]
            asked = " ".join(x for x in (name, birthdate, identifier) if x)
            return self._after_search(turn, topic, searches, asked)
        refs = refs_from_history(turn)
        if not refs:
            return Reply("Which patient? Tell me a name (and a birth date if you have it), e.g. *vitals for Jane Doe*.")
        if topic == "find":
            topic = "summary"
        return self._fetch_or_answer(turn, topic, refs)

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        emrs = sorted({t.integration_name for t in tools if t.operation == "emr.find_patient" and t.integration_name})
        if not emrs:
            return []
        lines = [f"Look up patients in {', '.join(emrs)}: vitals, labs, medications, allergies, conditions"]
        if any(t.operation == "emr.aggregate" for t in tools):
            lines.append("Merge one patient's record across your EMRs, with conflicts shown")
        return lines

    # ----------------------------------------------------------------- flows

    def _aggregate(self, turn: Turn, name: str | None, birthdate: str | None) -> Step:
        done = [o for o in turn.outcomes if o.operation == "emr.aggregate"]
        if done:
            outcome = done[-1]
            if not outcome.ok or not isinstance(outcome.data, dict):
                return Reply(failure(outcome.content, "merge the records", "the EMR"))
            return Reply(aggregate_section(outcome.data))
        tools = turn.tools_for("emr.aggregate")
        if not tools:
            return Reply("I need at least one EMR integration to merge records from.")
        if name or birthdate:
            args = {k: v for k, v in (("name", name), ("birthdate", birthdate)) if v}
            return [Call(tools[0].name, args)]
        by_name = {t.integration_name: t for t in turn.tools if t.operation == "emr.find_patient"}
        refs = refs_from_history(turn)
        if refs and all(r.integration in by_name for r in refs):
            known = [r for r in refs if r.name]
            if known:
                return [Call(tools[0].name, {"name": known[0].name})]
        return Reply("Whose record should I merge? Give me a name and birth date, e.g. *merge Jane Doe 1970-01-31*.")

    def _after_search(self, turn: Turn, topic: str, searches: list[ToolOutcome], asked: str) -> Step:
        found: list[dict[str, Any]] = [p for o in searches for p in _patients(o)]
        failed = [o for o in searches if not o.ok]
        failure_note = "".join(
            f"\n\n{o.tool.integration_name if o.tool else o.tool_name} could not be searched: {o.content}"
            for o in failed
        )
        if not found:
            where = ", ".join(o.tool.integration_name or "" for o in searches if o.tool and o.ok)
            return Reply(
                f"I found no patient matching **{asked}**" + (f" in {where}" if where else "") + "." + failure_note
            )
        per_source: dict[str, list[dict[str, Any]]] = {}
        for patient in found:
            per_source.setdefault(str(patient.get("source")), []).append(patient)
        if topic == "find":
            return Reply(f"Patients matching **{asked}**:\n\n" + patients_table(found) + failure_note)
        if any(len(p) > 1 for p in per_source.values()):
            return Reply(
                f"More than one patient matches **{asked}** — which one do you mean? Add the full name or the "
                "birth date.\n\n" + patients_table(found) + failure_note
            )
        refs = [PatientRef(source, p[0]["id"], p[0]["name"]) for source, p in per_source.items()]
        step = self._fetch_or_answer(turn, topic, refs)
        if isinstance(step, Reply) and failure_note:
            return Reply(step.markdown + failure_note)
        return step

    def _fetch_or_answer(self, turn: Turn, topic: str, refs: list[PatientRef]) -> Step:
        operation = _TOPIC_OPERATIONS[topic]
        tools = {t.integration_name: t for t in turn.tools_for(operation)}
        fetched = [o for o in turn.outcomes if o.operation == operation]
        if not fetched:
            calls = [
                Call(tools[r.integration].name, {"patient_id": r.patient_id}) for r in refs if r.integration in tools
            ]
            return calls or Reply("I can't read that from the EMRs you have connected.")
        names = {(r.integration, r.patient_id): r.name for r in refs}
        parts = []
        for outcome in fetched:
            source = (
                outcome.tool.integration_name if outcome.tool and outcome.tool.integration_name else outcome.tool_name
            )
            who = (
                names.get((source, str(outcome.args.get("patient_id")))) or f"Patient {outcome.args.get('patient_id')}"
            )
            data = outcome.data
            if not outcome.ok or not isinstance(data, dict):
                parts.append(f"**{source}** could not be read: {outcome.content}")
            elif topic == "summary":
                parts.append(summary_section(data))
            else:
                key = "observations" if topic in ("vitals", "labs") else topic
                parts.append(topic_section(topic, list(data.get(key) or []), who, source))
        return Reply("\n\n".join(parts))


SKILL = FhirSkill()

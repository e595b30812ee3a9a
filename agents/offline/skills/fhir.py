"""EMR requests: find a patient, read their vitals, labs, medications, allergies, conditions, encounters or
a summary, say which EMRs hold a record, or merge the record across EMRs.

The patient is grounded in the EMR search (`fhir_names`): the name span the user typed is searched, then
its words, then their prefixes, and a result counts only when it matches what was typed (allowing a
typo, a nickname, a given name alone when that is unique). Answers come only from tool results and
lead with the answer to the question (`fhir_answers`); an unknown patient is reported, never invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.offline.render import failure
from agents.offline.skill import Call, Reply, Step, ToolInfo, ToolOutcome, Turn
from agents.offline.skills.fhir_examples import OPERATIONS
from agents.offline.skills.fhir_history import PatientRef, last_listed, refs_from_history
from agents.offline.skills.fhir_names import NICKNAMES, Person, fold, group_people, name_matches
from agents.offline.skills.fhir_render import aggregate_section, persons_table
from agents.offline.skills.fhir_reply import topic_reply
from agents.offline.skills.fhir_request import READ_TOPICS, EmrRequest, read_request, user_words, with_earlier
from agents.offline.skills.fhir_vocab import topics_of

TOPIC_OPERATIONS = {
    "vitals": "emr.vitals",
    "labs": "emr.labs",
    "medications": "emr.medications",
    "allergies": "emr.allergies",
    "conditions": "emr.conditions",
    "encounters": "emr.encounters",
    "summary": "emr.patient_summary",
}
_OTHER_ACTION = re.compile(r"^(please |can you |could you )?(e-?mail|text|fax|call|phone|page|notify|remind|message)\b")
_PATIENT_WORDS = ("patient", "mrn", "born", "dob", "emr", "fhir", "chart", "ehr", "pt")


@dataclass(frozen=True)
class SearchPlan:
    """The searches to ground a patient, in rounds: the span, then its words, then prefixes/nicknames."""

    rounds: tuple[tuple[dict[str, str], ...], ...]
    typed: str | None  # what a result must match (None for MRN / birth-date searches)


def _plan(request: EmrRequest) -> SearchPlan:
    if request.identifier:
        return SearchPlan((({"identifier": request.identifier},),), None)
    span = request.names.best
    extra = {"birthdate": request.birthdate} if request.birthdate else {}
    if not span:
        return SearchPlan((({"birthdate": request.birthdate},),) if request.birthdate else (), None)
    words = span.split()
    first = ({"name": span, **extra},)
    # Then the outer words alone (a typo or an extra word in one of them no longer hides the patient), and
    # a nickname's formal name; each round runs only when the one before found nobody (a call per EMR).
    outer = list(dict.fromkeys([words[-1], words[0]])) if len(words) > 1 else []
    second = tuple({"name": w, **extra} for w in outer if len(w) >= 2)
    if not second and request.names.spans[1:2]:
        second = ({"name": request.names.spans[1], **extra},)
    third: list[dict[str, str]] = []
    for word in words:
        for formal in NICKNAMES.get(word.lower(), ())[:1]:
            third.append({"name": " ".join([formal.capitalize(), *[w for w in words if w != word]]), **extra})
    return SearchPlan(tuple(r for r in (first, second, tuple(third[:1])) if r), span)


def _patients(outcome: ToolOutcome) -> list[dict[str, Any]]:
    data = outcome.data
    return list(data.get("patients", [])) if outcome.ok and isinstance(data, dict) else []


class FhirSkill:
    name = "fhir"
    operations = OPERATIONS

    def score(self, turn: Turn) -> float:
        if not turn.has_operation("emr."):
            return 0.0
        request = read_request(turn)
        words = request.words
        if _OTHER_ACTION.match(words):
            return 0.0  # "email Dr. Okafor the summary": an action no EMR tool does (general says so)
        if request.topics == ("presence",) and not (request.has_patient or request.pronoun):
            return 0.0  # "which systems am I connected to?" is about integrations, not a patient
        patientish = any(w in words.split() for w in _PATIENT_WORDS)
        typed_as_name = re.search(r"\b[A-Z][a-z'\-]+ [A-Z][a-z'\-]+", user_words(turn))
        bare_name = bool(typed_as_name) and len((request.names.best or "").split()) >= 2 and len(words.split()) <= 5
        if not request.topics and not patientish and bare_name:
            return 0.6  # a bare full name ("Odalys Fenwick"): look them up, unless another skill knows better
        if not request.topics and not patientish:
            if request.correction and request.emrs is not None and self._was_emr(turn):
                return 0.86  # "no, I meant Cerner"
            if request.correction and request.names.spans and self._was_emr(turn) and len(words.split()) <= 6:
                return 0.84  # "what about Edith?"
            return 0.0
        if request.topics == ("find",) and not (request.has_patient or patientish):
            return 0.0
        if request.identifier or request.birthdate or patientish:
            return 0.86
        if request.has_patient:
            return 0.85
        if refs_from_history(turn) or last_listed(turn):
            return 0.8
        return 0.55 if set(request.topics) & set(READ_TOPICS) else 0.0

    @staticmethod
    def _was_emr(turn: Turn) -> bool:
        last = turn.earlier_outcomes[-1] if turn.earlier_outcomes else None
        return bool(last and (last.operation or "").startswith("emr."))

    def step(self, turn: Turn) -> Step:
        request = with_earlier(turn, read_request(turn))
        emrs = [t.integration_name for t in turn.tools_for("emr.find_patient") if t.integration_name]
        if request.topics == ("aggregate",):
            return self._aggregate(turn, request)
        if len(_several(request)) > 1 and set(request.topics) & set(TOPIC_OPERATIONS):
            return self._several(turn, request, emrs)
        if request.has_patient:
            return self._search_then(turn, request, emrs)
        if request.picks_from_list and (listed := last_listed(turn)):
            picked = _pick(listed, request)
            if len(picked) == 1:
                return self._read(turn, request, _refs_of(picked[0], request))
            return Reply(_which_of(picked or listed, "Which of these patients do you mean?"))
        refs = refs_from_history(turn)
        if not refs:
            if not topics_of(request.words) and not request.topics:
                return Reply(
                    "Which patient? Tell me a name (and a birth date if you have it), e.g. *vitals for Jane Doe*."
                )
            return Reply("Which patient do you mean? Tell me their name (and birth date or MRN if you have them).")
        if request.emrs is not None:
            scoped = [r for r in refs if r.integration in request.emrs]
            if not scoped:
                return self._search_then(turn, _as_named(request, refs), emrs)
            refs = scoped
        return self._read(turn, request, refs)

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        emrs = sorted({t.integration_name for t in tools if t.operation == "emr.find_patient" and t.integration_name})
        if not emrs:
            return []
        lines = [f"Look up patients in {', '.join(emrs)}: vitals, labs, medications, allergies, conditions, visits"]
        if any(t.operation == "emr.aggregate" for t in tools):
            lines.append("Merge one patient's record across your EMRs, with conflicts shown")
        return lines

    # ----------------------------------------------------------------- flows

    def _search_then(self, turn: Turn, request: EmrRequest, emrs: list[str]) -> Step:
        plan = _plan(request)
        presence = request.topics == ("presence",)
        scope = emrs if presence or request.emrs is None else [e for e in emrs if e in request.emrs]
        tools = {t.integration_name: t for t in turn.tools_for("emr.find_patient") if t.integration_name in scope}
        searches = [o for o in turn.outcomes if o.operation == "emr.find_patient"]
        done = {(o.tool.integration_name if o.tool else "", _key(o.args)) for o in searches}
        found = self._grounded(searches, plan, request)
        for index, round_args in enumerate(plan.rounds):
            pending = [(name, args) for args in round_args for name in tools if (name, _key(args)) not in done]
            ran_all = not pending
            if not ran_all:
                if index == 0 or not found:
                    return [Call(tools[name].name, args) for name, args in pending]
                break
        people = group_people(found)
        asked = plan.typed or request.identifier or request.birthdate or "that patient"
        failed = [o for o in searches if not o.ok]
        note = "".join(f"\n\n{_source(o)} could not be searched: {o.content}" for o in failed)
        if not people:
            where = " or ".join(str(n) for n in tools) or "your EMRs"
            return Reply(
                f"I couldn't find a patient matching **{asked}** in {where} — no patient found, so I read nothing. "
                "Check the spelling, or give me the birth date or MRN." + note
            )
        if request.picks_from_list and len(people) > 1:
            people = _pick(people, request) or people
        if presence:
            return Reply(_presence(people, list(tools)) + note)
        if request.topics in ((), ("find",)):
            return Reply(_found(people, asked) + note)
        if len(people) > 1:
            return Reply(
                _which_of(people, f"More than one patient matches **{asked}** — which one do you mean?") + note
            )
        step = self._read(turn, request, _refs_of(people[0], request))
        if isinstance(step, Reply) and note:
            return Reply(step.markdown + note)
        return step

    def _several(self, turn: Turn, request: EmrRequest, emrs: list[str]) -> Step:
        """ "Allergies for Edith Quimby and Theodore Brackwell": each full name searched, each one read."""
        names = _several(request)
        scope = emrs if request.emrs is None else [e for e in emrs if e in request.emrs]
        tools = {t.integration_name: t for t in turn.tools_for("emr.find_patient") if t.integration_name in scope}
        searches = [o for o in turn.outcomes if o.operation == "emr.find_patient"]
        done = {(_source(o), _key(o.args)) for o in searches}
        pending = [(n, {"name": name}) for name in names for n in tools if (n, _key({"name": name})) not in done]
        if pending:
            return [Call(tools[n].name, args) for n, args in pending]
        people: list[tuple[str, list[Person]]] = []
        for name in names:
            mine = [o for o in searches if fold(str(o.args.get("name", ""))) == fold(name)]
            people.append((name, group_people(self._grounded(mine, SearchPlan((), name), request))))
        refs = [r for _, found in people if len(found) == 1 for r in _refs_of(found[0], request)]
        step = self._read(turn, request, refs) if refs else None
        if isinstance(step, list):
            return step
        topics = [t for t in request.topics if t in TOPIC_OPERATIONS]
        operations = {TOPIC_OPERATIONS[t] for t in topics}
        parts: list[str] = []
        for name, found in people:
            if not found:
                parts.append(f"I couldn't find a patient matching **{name}** — nothing read for them.")
            elif len(found) > 1:
                parts.append(_which_of(found, f"More than one patient matches **{name}** — which one do you mean?"))
            else:
                mine_refs = _refs_of(found[0], request)
                ids = {(r.integration, r.patient_id) for r in mine_refs}
                fetched = [
                    o
                    for o in turn.outcomes
                    if o.operation in operations and (_source(o), str(o.args.get("patient_id"))) in ids
                ]
                parts.append(topic_reply(request, topics, fetched, mine_refs))
        return Reply("\n\n---\n\n".join(parts))

    def _grounded(self, searches: list[ToolOutcome], plan: SearchPlan, request: EmrRequest) -> list[dict[str, Any]]:
        """Search results that match what the user typed (typo, nickname, unique given name), deduplicated."""
        seen: set[tuple[str, str]] = set()
        matched: list[dict[str, Any]] = []
        for outcome in searches:
            for patient in _patients(outcome):
                key = (str(patient.get("source")), str(patient.get("id")))
                if key in seen:
                    continue
                if plan.typed and not name_matches(plan.typed, patient):
                    continue
                if request.birthdate and patient.get("birth_date") != request.birthdate:
                    continue
                seen.add(key)
                matched.append(patient)
        sex = request.names.sex
        if sex and any(p.get("gender") == sex for p in matched):
            matched = [p for p in matched if p.get("gender") == sex]
        return matched

    def _read(self, turn: Turn, request: EmrRequest, refs: list[PatientRef]) -> Step:
        topics = [t for t in request.topics if t in TOPIC_OPERATIONS] or ["summary"]
        calls: list[Call] = []
        for topic in topics:
            operation = TOPIC_OPERATIONS[topic]
            tools = {t.integration_name: t for t in turn.tools_for(operation)}
            if any(o.operation == operation for o in turn.outcomes):
                continue
            for ref in refs:
                if ref.integration in tools:
                    args: dict[str, Any] = {"patient_id": ref.patient_id}
                    if request.trend and topic in ("vitals", "labs"):
                        args["latest_only"] = False
                    calls.append(Call(tools[ref.integration].name, args))
        if calls:
            return calls
        fetched = [o for o in turn.outcomes if o.operation in {TOPIC_OPERATIONS[t] for t in topics}]
        if not fetched:
            return Reply("I can't read that from the EMRs you have connected.")
        return Reply(topic_reply(request, topics, fetched, refs))

    def _aggregate(self, turn: Turn, request: EmrRequest) -> Step:
        done = [o for o in turn.outcomes if o.operation == "emr.aggregate"]
        if done:
            outcome = done[-1]
            if not outcome.ok or not isinstance(outcome.data, dict):
                return Reply(failure(outcome.content, "merge the records", "the EMR"))
            return Reply(aggregate_section(outcome.data))
        tools = turn.tools_for("emr.aggregate")
        if not tools:
            return Reply("I need at least one EMR integration to merge records from.")
        name = request.names.best
        if name or request.birthdate:
            args = {k: v for k, v in (("name", name), ("birthdate", request.birthdate)) if v}
            return [Call(tools[0].name, args)]
        known = [r for r in refs_from_history(turn) if r.name]
        if known:
            return [Call(tools[0].name, {"name": known[0].name})]
        return Reply("Whose record should I merge? Give me a name and birth date, e.g. *merge Jane Doe 1970-01-31*.")


def _several(request: EmrRequest) -> list[str]:
    """Two or more full names asked about together ("X and Y"), else []."""
    full = [s for s in request.names.spans if len(s.split()) >= 2]
    joined = re.search(r"\b(and|&|both|each|vs|versus)\b|,", request.words)
    return full if len(full) > 1 and joined else []


def _key(args: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), fold(str(v))) for k, v in args.items()))


def _source(outcome: ToolOutcome) -> str:
    return outcome.tool.integration_name if outcome.tool and outcome.tool.integration_name else outcome.tool_name


def _refs_of(person: Person, request: EmrRequest) -> list[PatientRef]:
    records = [r for r in person.records if request.emrs is None or r.get("source") in request.emrs]
    return [
        PatientRef(str(r.get("source")), str(r.get("id")), str(r.get("name")), r.get("gender"))
        for r in records or person.records
    ]


def _as_named(request: EmrRequest, refs: list[PatientRef]) -> EmrRequest:
    """ "No, I meant Cerner" about a patient found only elsewhere: search Cerner for the same name."""
    from dataclasses import replace

    from agents.offline.skills.fhir_names import NameQuery

    name = next((r.name for r in refs if r.name), None)
    return replace(request, names=NameQuery((name,) if name else ()))


def _pick(people: list[Person], request: EmrRequest) -> list[Person]:
    """ "the second one", "the one born in 1960", "the woman", "the older one" among listed patients."""
    chosen = list(people)
    if request.birth_year:
        chosen = [p for p in chosen if str(p.birth_date or "").startswith(request.birth_year)]
    if request.sex:
        chosen = [p for p in chosen if p.gender == request.sex]
    if request.age_pick and chosen:
        ordered = sorted(chosen, key=lambda p: str(p.birth_date or ""))
        chosen = [ordered[0] if request.age_pick in ("older", "oldest", "elder", "eldest") else ordered[-1]]
    if request.ordinal is not None and chosen:
        index = request.ordinal
        chosen = [chosen[index]] if -len(chosen) <= index < len(chosen) else []
    return chosen


def _which_of(people: list[Person], question: str) -> str:
    return (
        f"{question} Tell me the full name, the birth date, or *the first one* / *the second one*.\n\n"
        + persons_table(people)
    )


def _found(people: list[Person], asked: str) -> str:
    if len(people) == 1:
        person = people[0]
        where = ", ".join(f"{r.get('source')} (`{r.get('id')}`)" for r in person.records)
        return (
            f"Found **{person.names()}** (born {person.birth_date or '?'}, {person.gender or '?'}) in {where}.\n\n"
            + persons_table(people)
        )
    return f"{len(people)} patients match **{asked}**:\n\n" + persons_table(people)


def _presence(people: list[Person], searched: list[str]) -> str:
    lines = []
    for person in people:
        have = person.sources()
        missing = [s for s in searched if s not in have]
        text = f"**{person.names()}** (born {person.birth_date or '?'}) has a record in **{', '.join(have)}**"
        if missing:
            text += f" — none in {', '.join(missing)}"
        lines.append(text + ".")
    lead = lines[0] if len(lines) == 1 else "Several patients match:\n- " + "\n- ".join(lines)
    if len(people) == 1 and len(people[0].sources()) < len(searched):
        lead = "**No** for " + ", ".join(s for s in searched if s not in people[0].sources()) + ": " + lead
    return lead + "\n\n" + persons_table(people)


SKILL = FhirSkill()

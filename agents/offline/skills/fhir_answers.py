"""First sentences that answer the EMR question asked: yes or no, high or low against the range, rising or
falling across the values, which EMRs hold a record. Every fact comes from a tool result; the tables
that follow (fhir_render) show the evidence."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agents.offline.skills.fhir_vocab import MEASURES, Measure, Term

YES_NO = re.compile(
    r"^(so |and |but |ok |okay |also |quick question,? )*(is|are|does|do|has|have|was|were|did|any|can you (tell me|"
    r"check) (if|whether)|check (if|whether)|tell me (if|whether)|i need to know (if|whether)|whether)\b"
    r"|\ballergic to\b|\b(yes or no|y/n)\b|\bany\b[^?]*\?\s*$"
)
TREND = re.compile(
    r"\b(trend\w*|over time|going (up|down)|gone (up|down)|went (up|down)|rising|risen|rose|falling|fallen|fell|"
    r"increas\w*|decreas\w*|climb\w*|dropp\w*|improv\w*|wors\w*|better|changed?|changing|history of|series|"
    r"previous|prior|past (values|readings|results)|all (the )?(values|readings|results)|each (visit|draw)|"
    r"compared?|comparison|since (last|the)|up or down)\b"
)
RANGE_QUESTION = re.compile(
    r"\b(high|low|normal|abnormal|elevated|raised|okay|ok|fine|good|bad|concerning|worrying|in range|out of range|"
    r"within (the )?(normal )?range|too (high|low)|range|flag\w*|critical)\b"
)


@dataclass(frozen=True, slots=True)
class Reading:
    measure: Measure
    value: str
    unit: str
    when: str
    source: str


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def readings(measure: Measure, items: Sequence[dict[str, Any]]) -> list[Reading]:
    """This measure's values, newest first (one code family; BP as systolic/diastolic)."""
    found = [
        Reading(
            measure,
            str(i.get("value")),
            str(i.get("unit") or ""),
            str(i.get("effective") or ""),
            str(i.get("source") or ""),
        )
        for i in items
        if str(i.get("code") or "") in measure.codes and i.get("value") not in (None, "")
    ]
    if measure.key == "bp":  # the panel carries both; single systolic/diastolic codes only when no panel
        panel = [r for r in found if "/" in r.value]
        found = panel or found
    return sorted(found, key=lambda r: r.when, reverse=True)


def _range_for(measure: Measure, sex: str | None) -> tuple[float, float] | None:
    for who, low, high in measure.by_sex:
        if who == sex:
            return low, high
    if measure.low is None or measure.high is None:
        return None
    return measure.low, measure.high


def _fmt(number: float) -> str:
    return f"{number:g}"


def range_verdict(reading: Reading, sex: str | None) -> str | None:
    """ "high (typical adult range 70-99 mg/dL)" or None when there is no range to compare with."""
    if reading.measure.key == "bp":
        parts = [_number(p) for p in reading.value.split("/")]
        if len(parts) != 2 or None in parts:
            return None
        systolic, diastolic = parts[0] or 0.0, parts[1] or 0.0
        if systolic < 90 or diastolic < 60:
            verdict = "low"
        elif systolic < 120 and diastolic < 80:
            verdict = "normal"
        elif systolic < 130 and diastolic < 80:
            verdict = "elevated"
        else:
            verdict = "high"
        return f"{verdict} (normal is below 120/80 mm[Hg]; 130/80 or more counts as high blood pressure)"
    value = _number(reading.value)
    limits = _range_for(reading.measure, sex)
    if value is None or limits is None:
        return None
    low, high = limits
    verdict = "low" if value < low else "high" if value > high else "within the normal range"
    return f"{verdict} (typical adult range {_fmt(low)}-{_fmt(high)} {reading.unit})"


def _day(value: str) -> str:
    return value[:10]


def trend_sentence(series: list[Reading]) -> str | None:
    """ "rising: 7.4 → 7.5 → 7.3 → 7.6 % (2024-12-03 to 2025-05-25)" from one source's values."""
    points = sorted(series, key=lambda r: r.when)
    numbers = [_number(r.value.split("/")[0]) for r in points]
    if len(points) < 2 or None in numbers:
        return None
    values = [n or 0.0 for n in numbers]
    first, last = values[0], values[-1]
    change = last - first
    steady = all(b >= a for a, b in itertools.pairwise(values)) or all(b <= a for a, b in itertools.pairwise(values))
    if abs(change) <= max(abs(first) * 0.02, 1e-9):
        direction = "about stable"
    elif change > 0:
        direction = "up" + ("" if steady else " overall, though not steadily")
    else:
        direction = "down" + ("" if steady else " overall, though not steadily")
    sequence = " → ".join(r.value for r in points)
    unit = f" {points[-1].unit}" if points[-1].unit else ""
    return (
        f"{direction}: {sequence}{unit} ({_day(points[0].when)} to {_day(points[-1].when)}, "
        f"{len(points)} values in {points[-1].source})"
    )


def observation_lead(
    measures: list[Measure], items: list[dict[str, Any]], who: str, sex: str | None, *, trend: bool, ranged: bool
) -> list[str]:
    """One sentence per measure asked about: the latest value per source, its range verdict, the trend."""
    lines: list[str] = []
    for measure in measures:
        found = readings(measure, items)
        if not found:
            lines.append(f"No {measure.label} is recorded for **{who}**.")
            continue
        latest_by_source: dict[str, Reading] = {}
        for reading in found:
            latest_by_source.setdefault(reading.source, reading)
        latest = list(latest_by_source.values())
        values = {r.value for r in latest}
        if len(values) == 1:
            r = latest[0]
            where = " and ".join(x.source for x in latest)
            sentence = (
                f"**{who}**'s latest {measure.label} is **{r.value} {r.unit}**".rstrip() + f" ({_day(r.when)}, {where})"
            )
        else:
            each = "; ".join(f"**{r.value} {r.unit}** in {r.source} ({_day(r.when)})" for r in latest)
            sentence = f"The EMRs disagree on **{who}**'s latest {measure.label}: {each}"
        verdict = range_verdict(latest[0], sex)
        if verdict and (ranged or measure.key != "weight"):
            sentence += f" — {verdict}"
        lines.append(sentence + ".")
        if trend:
            by_source: dict[str, list[Reading]] = {}
            for reading in found:
                by_source.setdefault(reading.source, []).append(reading)
            longest = max(by_source.values(), key=len)
            described = trend_sentence(longest)
            lines.append(
                f"Over time it is {described}."
                if described
                else f"Only one {measure.label} value is on file, so there is no trend yet."
            )
    return lines


def out_of_range(items: list[dict[str, Any]], topic: str, sex: str | None) -> list[str]:
    """For "are his vitals/labs normal?": each latest value outside its range, or that none are."""
    flagged: list[str] = []
    for measure in (m for m in MEASURES if m.topic == topic):
        found = readings(measure, items)
        if not found:
            continue
        verdict = range_verdict(found[0], sex)
        if verdict and not verdict.startswith(("normal", "within")):
            flagged.append(f"{measure.label} {found[0].value} {found[0].unit} is {verdict}".replace("  ", " "))
    return flagged


def _hits(needles: Sequence[str], texts: Sequence[str]) -> list[str]:
    return [t for t in texts if any(n in t.lower() for n in needles)]


def presence_answer(term: Term, items: list[dict[str, Any]], key: str, who: str, kind: dict[str, str]) -> str:
    """ "Yes — … is allergic to Penicillin G (Hives)" or "No — no … recorded" for one asked-about term."""
    names = [str(i.get(key) or "") for i in items]
    hits = _hits(term.needles, names) or _hits((term.said.lower(),), names)
    sources = sorted({str(i.get("source")) for i in items if str(i.get(key) or "") in hits})
    if hits:
        detail = "; ".join(dict.fromkeys(_describe(i, key) for i in items if str(i.get(key) or "") in hits))
        return f"**Yes** — {who} {kind['yes']} {detail} (in {', '.join(sources)})."
    return f"**No** — no {term.said} {kind['no']} for {who}."


def _describe(item: dict[str, Any], key: str) -> str:
    text = str(item.get(key))
    extra = [", ".join(item.get("reactions") or [])] if item.get("reactions") else []
    if item.get("criticality"):
        extra.append(f"{item['criticality']} criticality")
    if item.get("dosage"):
        extra.append(str(item["dosage"]))
    if item.get("clinical_status") and key == "condition":
        extra.append(str(item["clinical_status"]))
    return text + (f" ({', '.join(e for e in extra if e)})" if extra else "")


ALLERGY_KIND = {"yes": "is allergic to", "no": "allergy is recorded"}
MEDICATION_KIND = {"yes": "is on", "no": "medication is recorded"}
CONDITION_KIND = {"yes": "has", "no": "is recorded among the conditions"}


def any_answer(items: list[dict[str, Any]], key: str, who: str, noun: str, sources: list[str]) -> str:
    """ "Yes — 2 allergies recorded: …" / "No — no allergies recorded … in Epic sandbox"."""
    where = " or ".join(sources)
    if not items:
        return f"**No** — no {noun} recorded for {who} in {where}."
    names = list(dict.fromkeys(_describe(i, key) for i in items))
    counted = noun if len(names) != 1 else noun.removesuffix("ies") + "y" if noun.endswith("ies") else noun.rstrip("s")
    return f"**Yes** — {who} has {len(names)} {counted} on record: {'; '.join(names)}."


def _per_source(items: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[str(item.get("source"))] = counts.get(str(item.get("source")), 0) + 1
    return ", ".join(f"{n} encounter{'s' if n != 1 else ''} in {source}" for source, n in counts.items())


def encounters_lead(items: list[dict[str, Any]], who: str, words: str) -> str:
    if not items:
        return f"No visits or admissions are recorded for **{who}**."
    ordered = sorted(items, key=lambda e: str(e.get("start") or ""), reverse=True)
    latest = ordered[0]
    classes = {str(e.get("encounter_class") or "").lower() for e in items}
    what = latest.get("type") or latest.get("encounter_class") or "encounter"
    sentence = (
        f"**{who}** was last seen on **{_day(str(latest.get('start') or '?'))}** ({what}, {latest.get('status')}, "
        f"{latest.get('source')}); on record: {_per_source(items)}."
    )
    if re.search(r"\b(admi\w*|hospitali[sz]\w*|inpatient|stays?)\b", words):
        inpatient = [e for e in items if str(e.get("encounter_class") or "").lower() in ("inpatient", "imp", "acute")]
        if not inpatient:
            kinds = ", ".join(sorted(c for c in classes if c)) or "other"
            sentence = (
                f"**No** inpatient admissions are recorded for **{who}** — the encounters on file are {kinds}. "
                + sentence
            )
    return sentence

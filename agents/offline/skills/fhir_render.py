"""Markdown for EMR answers: every value with its unit and date, every table naming its source."""

from __future__ import annotations

from typing import Any

from agents.offline.render import bullets, table

TOPIC_TITLES = {
    "vitals": "latest vital signs",
    "labs": "latest lab results",
    "medications": "medications",
    "allergies": "allergies",
    "conditions": "conditions",
    "encounters": "encounters (visits and admissions)",
}


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _when(value: Any) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ") if len(text) > 10 else text


def patients_table(patients: list[dict[str, Any]]) -> str:
    rows = [
        {
            "name": p.get("name"),
            "born": p.get("birth_date"),
            "gender": p.get("gender"),
            "mrn": next((i["value"] for i in p.get("identifiers", []) if i.get("type") == "MRN"), ""),
            "id": f"`{p.get('id')}`",
            "source": p.get("source"),
        }
        for p in patients
    ]
    columns = [("name", "Name"), ("born", "Born"), ("gender", "Gender"), ("mrn", "MRN"), ("id", "Patient id")]
    return table(rows, [*columns, ("source", "Source")])


def observations_table(items: list[dict[str, Any]], *, with_source: bool = False) -> str:
    rows = [
        {
            "what": o.get("display"),
            "value": o.get("value", ""),
            "unit": o.get("unit", ""),
            "when": _when(o.get("effective")),
            "source": o.get("source"),
        }
        for o in items
    ]
    columns = [("what", "Measurement"), ("value", "Value"), ("unit", "Unit"), ("when", "Date (UTC)")]
    return table(rows, columns + ([("source", "Source")] if with_source else []))


def medications_table(items: list[dict[str, Any]], *, with_source: bool = False) -> str:
    rows = [
        {
            "name": m.get("medication"),
            "dosage": m.get("dosage", ""),
            "status": m.get("status", ""),
            "since": _day(m.get("authored_on")),
            "source": m.get("source"),
        }
        for m in items
    ]
    columns = [("name", "Medication"), ("dosage", "Dosage"), ("status", "Status"), ("since", "Ordered")]
    return table(rows, columns + ([("source", "Source")] if with_source else []))


def allergies_table(items: list[dict[str, Any]], *, with_source: bool = False) -> str:
    rows = [
        {
            "substance": a.get("substance"),
            "reaction": ", ".join(a.get("reactions", [])),
            "criticality": a.get("criticality", ""),
            "status": a.get("clinical_status", ""),
            "recorded": _day(a.get("recorded")),
            "source": a.get("source"),
        }
        for a in items
    ]
    columns = [("substance", "Substance"), ("reaction", "Reaction"), ("criticality", "Criticality")]
    columns += [("status", "Status"), ("recorded", "Recorded")]
    return table(rows, columns + ([("source", "Source")] if with_source else []))


def conditions_table(items: list[dict[str, Any]], *, with_source: bool = False) -> str:
    rows = [
        {
            "condition": c.get("condition"),
            "status": c.get("clinical_status", ""),
            "onset": _day(c.get("onset")),
            "source": c.get("source"),
        }
        for c in items
    ]
    columns = [("condition", "Condition"), ("status", "Status"), ("onset", "Onset")]
    return table(rows, columns + ([("source", "Source")] if with_source else []))


def encounters_table(items: list[dict[str, Any]], *, with_source: bool = False) -> str:
    rows = [
        {
            "start": _when(e.get("start")),
            "end": _when(e.get("end")),
            "kind": e.get("type") or "",
            "class": e.get("encounter_class") or "",
            "status": e.get("status") or "",
            "reason": e.get("reason") or "",
            "source": e.get("source"),
        }
        for e in sorted(items, key=lambda e: str(e.get("start") or ""), reverse=True)
    ]
    columns = [("start", "Start (UTC)"), ("end", "End"), ("kind", "Type"), ("class", "Class"), ("status", "Status")]
    columns.append(("reason", "Reason"))
    return table(rows, columns + ([("source", "Source")] if with_source else []))


def persons_table(people: list[Any]) -> str:
    """One row per person, every EMR record they have (source, patient id, MRN)."""
    rows = []
    for index, person in enumerate(people, 1):
        records = "; ".join(
            f"{r.get('source')}: `{r.get('id')}`"
            + "".join(f", MRN {i['value']}" for i in r.get("identifiers", []) if i.get("type") == "MRN")
            for r in person.records
        )
        rows.append(
            {
                "n": index,
                "name": person.names(),
                "born": person.birth_date,
                "gender": person.gender,
                "records": records,
            }
        )
    columns = [("n", "#"), ("name", "Name"), ("born", "Born"), ("gender", "Gender"), ("records", "Records")]
    return table(rows, columns)


RENDERERS = {
    "vitals": observations_table,
    "labs": observations_table,
    "medications": medications_table,
    "allergies": allergies_table,
    "conditions": conditions_table,
    "encounters": encounters_table,
}


def topic_section(topic: str, items: list[dict[str, Any]], who: str, source: str) -> str:
    title = TOPIC_TITLES[topic]
    if not items:
        return f"**{who}** — no {title} recorded in **{source}**."
    return f"**{who}** — {title} from **{source}**:\n\n" + RENDERERS[topic](items)


def summary_section(data: dict[str, Any]) -> str:
    patient = data.get("patient") or {}
    source = data.get("source")
    mrn = next((i["value"] for i in patient.get("identifiers", []) if i.get("type") == "MRN"), None)
    head = (
        f"**{patient.get('name')}** (born {patient.get('birth_date', '?')}, {patient.get('gender', '?')}"
        + (f", MRN {mrn}" if mrn else "")
        + f") in **{source}**:"
    )
    parts = [head]
    for key, topic, title in (
        ("conditions", "conditions", "Conditions"),
        ("allergies", "allergies", "Allergies"),
        ("medications", "medications", "Medications"),
        ("latest_vitals", "vitals", "Latest vital signs"),
    ):
        items = data.get(key) or []
        parts.append(f"*{title}*\n\n" + (RENDERERS[topic](items) if items else "None recorded."))
    return "\n\n".join(parts)


def aggregate_section(data: dict[str, Any]) -> str:
    status = data.get("status")
    message = str(data.get("message", ""))
    if status == "ambiguous":
        return message + "\n\n" + patients_table(data.get("candidates") or [])
    if status != "merged":
        return message
    patient = data.get("patient") or {}
    names = " / ".join(str(n["value"]) for n in patient.get("name", []))
    born = " / ".join(str(n["value"]) for n in patient.get("birth_date", []))
    parts = [f"**{names}** (born {born}) — merged record. {message}"]
    matches = [
        {
            "source": m["source"],
            "patient": f"{m['name']} (`{m['patient_id']}`)",
            "method": m["method"],
            "confidence": f"{float(m['confidence']):.0%}",
            "merged": "yes" if m["merged"] else "no — offered, check it",
        }
        for m in data.get("matches", [])
    ]
    match_columns = [("source", "Source"), ("patient", "Patient"), ("method", "Matched by")]
    parts.append(table(matches, [*match_columns, ("confidence", "Confidence"), ("merged", "Merged")]))
    for key, title, render in (
        ("allergies", "Allergies", allergies_table),
        ("medications", "Medications", medications_table),
        ("conditions", "Conditions", conditions_table),
        ("observations", "Latest observations", observations_table),
    ):
        items = data.get(key) or []
        parts.append(f"*{title}*\n\n" + (render(items, with_source=True) if items else "None recorded."))
    conflicts = data.get("conflicts") or []
    if conflicts:
        lines = [
            f"{c['detail']} " + "; ".join(f"{v['source']}: {v['value']}" for v in c.get("values", []))
            for c in conflicts
        ]
        parts.append(
            "**Conflicts between sources** (not resolved — check with the patient's care team):\n" + bullets(lines)
        )
    failed = data.get("failed_sources") or []
    if failed:
        parts.append("**Could not read:** " + ", ".join(f"{f['source']} ({f['error']})" for f in failed))
    return "\n\n".join(parts)

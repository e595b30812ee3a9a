"""Reading HL7 build and message-store requests out of plain language, and answering from the results.

"build an ADT A01 for John Smith born 1980-02-03 MRN 12345" → hl7_build arguments;
"any ADT for patient 12345 today?" → hl7_recent_messages arguments. Answers quote tool results only.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agents.offline.render import bullets, table

_KIND = re.compile(r"\b(adt|oru|orm|siu|vxu)\b(?:\s*[\^ _-]?\s*([aorsv]\d{2}))?")
_DEFAULT_TRIGGER = {"adt": "A01", "oru": "R01", "orm": "O01"}
BUILDABLE = {"ADT^A01", "ADT^A04", "ADT^A08", "ORU^R01", "ORM^O01"}
BUILD_INTENT = re.compile(r"\b(build|create|generate|make|compose|draft)\b")
# "messages" alone is not enough (chat messages, Jira comments): an HL7 word must be there too.
RECENT_INTENT = re.compile(
    r"\b(recent|latest|last|any|show|list|received|sent|today|yesterday)\b.*\b(hl7|adt|oru|orm|siu|vxu)\b"
    r"|\b(hl7|adt|oru|orm|siu|vxu)\b.*\b(messages?|today|received|sent|for patient)\b"
)
_NAME = re.compile(
    r"\bfor (?:patient )?([A-Za-z][A-Za-z'\-]+(?: [A-Za-z][A-Za-z'\-]+){1,3}?)(?=\s*(?:,|\bborn\b|\bdob\b|\bmrn\b"
    r"|\bid\b|\bsex\b|\bmale\b|\bfemale\b|\bwith\b|\bto\b|$))",
    re.IGNORECASE,
)
_BIRTH = re.compile(r"\b(?:born|dob|birth ?date)\s*:?\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_MRN = re.compile(r"\b(?:mrn|patient id|patient)\s*[:#]?\s*([A-Za-z]*\d[A-Za-z0-9-]{0,40})\b", re.IGNORECASE)
_SEX = {"female": "F", "woman": "F", "male": "M", "man": "M"}
_LOINC = re.compile(r"\b(\d{3,5}-\d)\b")
_VALUE = re.compile(r"\b(?:value|result|=|of)\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z/%][A-Za-z0-9/%.]*)?")
_HOURS = re.compile(r"\blast (\d{1,4}) ?(hours?|h|days?|d)\b")


# Plain words for the events, used only when the text also says it is about a message.
_LAY_KINDS = (
    (re.compile(r"\b(admission|admit|admitting|inpatient stay)\b"), "ADT^A01"),
    (re.compile(r"\b(registration|register|registering|outpatient visit)\b"), "ADT^A04"),
    (re.compile(r"\b(update|updated|demographics?|change of address|patient info\w*)\b"), "ADT^A08"),
    (re.compile(r"\b(discharge|discharged|discharging)\b"), "ADT^A03"),
    (re.compile(r"\b(lab results?|results? message|observation|result)\b"), "ORU^R01"),
    (re.compile(r"\b(order|orders)\b"), "ORM^O01"),
)
_MESSAGE_WORD = re.compile(r"\b(hl7|message|msg|feed|v2)\b")


def message_kind(text: str) -> str | None:
    """`"adt a04"` → `"ADT^A04"`; a bare type gets its usual trigger; "an admission message" → ADT^A01."""
    match = _KIND.search(text.lower())
    if not match:
        if _MESSAGE_WORD.search(text.lower()):
            return next((kind for pattern, kind in _LAY_KINDS if pattern.search(text.lower())), None)
        return None
    kind, trigger = match.group(1), match.group(2)
    if trigger:
        return f"{kind.upper()}^{trigger.upper()}"
    return f"{kind.upper()}^{_DEFAULT_TRIGGER[kind]}" if kind in _DEFAULT_TRIGGER else kind.upper()


def build_arguments(text: str, destinations: list[str]) -> dict[str, Any] | str:
    """hl7_build arguments, or a sentence saying what is missing."""
    kind = message_kind(text)
    if kind not in BUILDABLE:
        return "I can build ADT^A01, ADT^A04, ADT^A08, ORU^R01 and ORM^O01 messages. Which one do you need?"
    name = _NAME.search(text)
    mrn = _MRN.search(text)
    if not name or not mrn:
        return (
            f"To build the {kind} I need the patient's name and MRN, e.g. "
            f'"build an {kind.replace("^", " ")} for John Smith born 1980-02-03 MRN 12345".'
        )
    words = [w.title() if w.islower() else w for w in name.group(1).split()]  # "maria garcia" → Maria Garcia
    patient: dict[str, Any] = {"mrn": mrn.group(1), "family_name": words[-1], "given_name": words[0]}
    if len(words) > 2:
        patient["middle_name"] = " ".join(words[1:-1])
    if birth := _BIRTH.search(text):
        patient["birth_date"] = birth.group(1)
    sex = next((code for word, code in _SEX.items() if re.search(rf"\b{word}\b", text.lower())), None)
    if sex:
        patient["sex"] = sex
    arguments: dict[str, Any] = {"message_type": kind, "patient": patient}
    lowered = text.lower()
    destination = next((d for d in destinations if d.lower() in lowered), None)
    if destination:
        arguments["destination"] = destination
    if kind in ("ORU^R01", "ORM^O01"):
        code = _LOINC.search(text)
        if not code:
            return f"For an {kind} I also need the test's LOINC code, e.g. 2345-7 (glucose)."
        arguments["order"] = {"service_code": code.group(1)}
        if kind == "ORU^R01":
            value = _VALUE.search(text[code.end() :]) or _VALUE.search(text)
            if not value:
                return "For an ORU^R01 I also need the result value, e.g. 'glucose 2345-7 value 105 mg/dL'."
            observation = {"code": code.group(1), "value_type": "NM", "value": value.group(1)}
            if value.group(2):
                observation["units"] = value.group(2)
            arguments["observations"] = [observation]
    return arguments


def recent_arguments(text: str, now: datetime) -> dict[str, Any]:
    """hl7_recent_messages filters from the question; "today" means since midnight of `now`."""
    arguments: dict[str, Any] = {}
    match = _KIND.search(text)
    if match:
        arguments["message_type"] = match.group(1).upper() + (f"^{match.group(2).upper()}" if match.group(2) else "")
    if patient := _MRN.search(text):
        arguments["patient_id"] = patient.group(1)
    if "today" in text:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        arguments["since_hours"] = max(round((now - midnight).total_seconds() / 3600, 3), 0.001)
    elif re.search(r"\b(this|past|last) week\b", text):
        arguments["since_hours"] = 168
    elif re.search(r"\b(this|past|last) month\b", text):
        arguments["since_hours"] = 720
    elif "yesterday" in text:
        arguments["since_hours"] = 48
    elif hours := _HOURS.search(text):
        amount = int(hours.group(1))
        arguments["since_hours"] = amount * 24 if hours.group(2).startswith("d") else amount
    if re.search(r"\b(inbound|received|incoming)\b", text):
        arguments["direction"] = "inbound"
    elif re.search(r"\b(outbound|sent|outgoing)\b", text):
        arguments["direction"] = "outbound"
    return arguments


def build_reply(data: dict[str, Any]) -> str:
    problems = data.get("problems") or []
    header = (
        f"Here is the **{data.get('message_type')}** (HL7 {data.get('version')}, control id "
        f"`{data.get('control_id')}`) for patient `{data.get('patient_id')}`"
        + (f", addressed to **{data['destination']}**" if data.get("destination") else "")
        + ":"
    )
    parts = [header, "```\n" + str(data.get("message", "")) + "\n```"]
    if problems:
        parts.append(
            "Validation notes:\n" + bullets(f"**{p['location']}** ({p['severity']}): {p['message']}" for p in problems)
        )
    else:
        parts.append("It validates cleanly.")
    parts.append("Nothing has been sent. Ask me to send it to one of your HL7 integrations when you're ready.")
    return "\n\n".join(parts)


def _destinations(message: dict[str, Any]) -> str:
    return ", ".join(f"{d['system']}: {d.get('ack_code') or d['status']}" for d in message.get("destinations", []))


def recent_reply(data: dict[str, Any]) -> str:
    filters = data.get("filters") or {}
    kind = f"{filters['message_type']} " if filters.get("message_type") else "HL7 "
    scope = f" for patient `{filters['patient_id']}`" if filters.get("patient_id") else ""
    messages = data.get("messages") or []
    if not messages:
        period = " for that period" if filters.get("since_hours") else ""
        return f"No {kind}messages{scope} in the message store{period}."
    noun = kind + ("message" if len(messages) == 1 else "messages")
    rows = [
        {
            "when": str(m.get("received_at", ""))[:19].replace("T", " "),
            "direction": m.get("direction"),
            "type": m.get("type"),
            "control_id": m.get("control_id"),
            "patient": m.get("patient_id"),
            "status": m.get("status"),
            "ack": m.get("ack_code") or _destinations(m),
        }
        for m in messages
    ]
    opening = f"Yes: {len(messages)} {noun}{scope}" if filters.get("patient_id") else f"{len(messages)} {noun}"
    columns = [
        ("when", "Received (UTC)"),
        ("direction", "Direction"),
        ("type", "Type"),
        ("control_id", "Control id"),
        ("patient", "Patient"),
        ("status", "Status"),
        ("ack", "ACK"),
    ]
    return f"{opening}, newest first:\n\n" + table(rows, columns)

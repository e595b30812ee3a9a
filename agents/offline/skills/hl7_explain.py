"""A walk-through of an HL7 v2 message from `hl7_explain`'s result: what kind of message it is, who it is
about, the visit, orders and results, each segment's role, then every field.

Everything quoted comes from the tool result (the pasted message); the tables below only put the
standard's codes into words (HL7 tables 0001, 0003, 0004, 0078, 0085, 0119).
"""

from __future__ import annotations

from typing import Any

from agents.offline.render import bullets, table

EVENTS = {
    "ADT^A01": "admit / visit notification — a patient was admitted",
    "ADT^A02": "transfer — a patient moved to another location",
    "ADT^A03": "discharge / end visit — a patient was discharged",
    "ADT^A04": "register a patient — an outpatient or emergency registration",
    "ADT^A05": "pre-admit a patient",
    "ADT^A06": "change an outpatient to an inpatient",
    "ADT^A07": "change an inpatient to an outpatient",
    "ADT^A08": "update patient information — demographics or visit details changed",
    "ADT^A11": "cancel admit",
    "ADT^A12": "cancel transfer",
    "ADT^A13": "cancel discharge",
    "ADT^A28": "add person information",
    "ADT^A31": "update person information",
    "ADT^A34": "merge patient information (patient id only)",
    "ADT^A40": "merge patient — patient identifier list",
    "ORU^R01": "unsolicited observation result — results (e.g. lab values) being reported",
    "ORM^O01": "general order — an order being placed, changed or cancelled",
    "OML^O21": "laboratory order",
    "ORR^O02": "order response",
    "SIU^S12": "notification of a new appointment booking",
    "SIU^S13": "notification of an appointment rescheduling",
    "SIU^S14": "notification of an appointment modification",
    "SIU^S15": "notification of an appointment cancellation",
    "SIU^S26": "notification that a patient did not show up",
    "VXU^V04": "unsolicited vaccination record update — immunizations given",
    "MDM^T02": "original document notification with content",
    "DFT^P03": "post detail financial transaction — charges",
    "RDE^O11": "pharmacy / treatment encoded order",
    "ACK": "general acknowledgement",
}
MESSAGE_TYPES = {
    "ADT": "admission, discharge and transfer",
    "ORU": "observation result",
    "ORM": "order",
    "SIU": "scheduling",
    "VXU": "vaccination update",
    "MDM": "medical document",
    "DFT": "financial transaction",
    "ACK": "acknowledgement",
    "RDE": "pharmacy order",
    "OML": "laboratory order",
}
SEGMENT_ROLES = {
    "MSH": "who sent it to whom, when, the message type, control id and HL7 version",
    "EVN": "the trigger event and when it happened",
    "PID": "who the patient is: identifiers, name, birth date, sex, address",
    "PD1": "more patient demographics (primary care provider, …)",
    "NK1": "next of kin / emergency contact",
    "PV1": "the visit: patient class, location, attending doctor, admit time",
    "PV2": "more visit details",
    "ORC": "the order's control: new, cancel, change, status",
    "OBR": "the order or test being reported",
    "OBX": "one observation or result value",
    "NTE": "a free-text note",
    "AL1": "an allergy",
    "DG1": "a diagnosis",
    "IN1": "insurance",
    "GT1": "the guarantor (who pays)",
    "MSA": "the acknowledgement code for the message being answered",
    "ERR": "an error found in the message being answered",
    "SCH": "the appointment being scheduled",
    "RXA": "a vaccine or drug that was given",
    "RXR": "the route it was given by",
    "SPM": "the specimen",
    "TQ1": "timing and quantity",
    "MRG": "the patient record being merged away",
    "AIS": "a service for the appointment",
    "AIG": "a resource for the appointment",
    "AIL": "the appointment's location",
    "AIP": "a person for the appointment",
    "SFT": "the sending software",
}
PATIENT_CLASSES = {
    "E": "emergency",
    "I": "inpatient",
    "O": "outpatient",
    "P": "pre-admit",
    "R": "recurring patient",
    "B": "obstetrics",
    "C": "commercial account",
    "N": "not applicable",
    "U": "unknown",
}
SEXES = {"F": "female", "M": "male", "U": "unknown", "O": "other", "A": "ambiguous", "N": "not applicable"}
ABNORMAL_FLAGS = {
    "H": "high",
    "L": "low",
    "HH": "critically high",
    "LL": "critically low",
    "N": "normal",
    "A": "abnormal",
    "AA": "critically abnormal",
    ">": "above the measurable range",
    "<": "below the measurable range",
}
RESULT_STATUSES = {
    "F": "final",
    "P": "preliminary",
    "C": "corrected",
    "X": "cancelled",
    "R": "not verified",
    "I": "pending",
}
ORDER_CONTROLS = {
    "NW": "new order",
    "CA": "cancel order",
    "DC": "discontinue order",
    "XO": "change order",
    "SC": "status changed",
    "OK": "order accepted",
    "HD": "hold order",
    "RP": "replace order",
}
SEGMENT_NAMES_FALLBACK = {"ZPI": "site-specific Z-segment"}
PROCESSING = {"P": "production", "T": "training / test", "D": "debugging"}


class _Fields:
    """Field values by position (`PID-5`), first repetition, from the explain result."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.values: dict[str, list[str]] = {}
        self.names: list[str] = []
        self.segments: list[tuple[str, dict[str, str]]] = []  # each segment's own fields, first repetition
        for segment in data.get("segments") or []:
            name = str(segment.get("name"))
            self.names.append(name)
            own: dict[str, str] = {}
            for f in segment.get("fields") or []:
                value = str(f.get("text") or f.get("value") or "")
                self.values.setdefault(str(f["position"]), []).append(value)
                own.setdefault(str(f["position"]), value)
            self.segments.append((name, own))
        encoding = self.first("MSH-2") or "^~\\&"
        self.component = encoding[0] if encoding else "^"

    def first(self, position: str) -> str:
        found = self.values.get(position) or [""]
        return found[0]

    def all(self, position: str) -> list[str]:
        return self.values.get(position) or []

    def parts(self, value: str) -> list[str]:
        return value.split(self.component)


def _timestamp(value: str) -> str:
    """`20250314083000` → `2025-03-14 08:30`; a bare date → `2025-03-14`."""
    digits = value.split("+")[0].split("-")[0]
    if len(digits) >= 8 and digits[:8].isdigit():
        day = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
        return f"{day} {digits[8:10]}:{digits[10:12]}" if len(digits) >= 12 else day
    return value


def _person_name(fields: _Fields, value: str) -> str:
    parts = fields.parts(value)
    family = parts[0] if parts else ""
    given = " ".join(p for p in parts[1:3] if p)
    return f"{family}, {given}" if family and given else family or given


def event_phrase(kind: str) -> str:
    message_type = kind.split("^")[0]
    return (
        EVENTS.get(kind)
        or EVENTS.get(message_type)
        or (f"{MESSAGE_TYPES[message_type]} message" if message_type in MESSAGE_TYPES else "message")
    )


def walkthrough(data: dict[str, Any]) -> str:
    """The explanation, most useful first: what it is, the patient, the visit, results, segments, fields."""
    summary = data.get("summary") or {}
    fields = _Fields(data)
    kind = "^".join(x for x in (summary.get("message_type"), summary.get("trigger_event")) if x) or "HL7"
    parts = [_headline(kind, summary, fields)]
    patient = _patient_lines(fields)
    if patient:
        parts.append("**Patient**\n" + bullets(patient))
    visit = _visit_lines(fields)
    if visit:
        parts.append("**Visit**\n" + bullets(visit))
    orders = _order_lines(fields)
    if orders:
        parts.append("**Orders and results**\n" + bullets(orders))
    roles = [f"**{name}** ({_segment_title(data, name)}) — {_role(name)}" for name in dict.fromkeys(fields.names)]
    parts.append("**Segments**\n" + bullets(roles))
    rows = [
        {
            "segment": segment["name"],
            "field": f["position"],
            "name": f["name"],
            "value": f["value"] if not f.get("text") else f"{f['text']} (sent as `{f['value']}`)",
        }
        for segment in data.get("segments") or []
        for f in segment.get("fields") or []
    ]
    if rows:
        parts.append(
            "**Field by field**\n\n"
            + table(rows, [("segment", "Segment"), ("field", "Field"), ("name", "Name"), ("value", "Value")])
        )
    return "\n\n".join(parts)


def _role(name: str) -> str:
    if name in SEGMENT_ROLES:
        return SEGMENT_ROLES[name]
    return "a site-specific custom segment (Z-segment)" if name.startswith("Z") else "see the field table"


def _segment_title(data: dict[str, Any], name: str) -> str:
    for segment in data.get("segments") or []:
        if segment.get("name") == name:
            return str(segment.get("description") or name)
    return name


def _headline(kind: str, summary: dict[str, Any], fields: _Fields) -> str:
    sender = " at ".join(x for x in (summary.get("sending_application"), summary.get("sending_facility")) if x)
    receiver = " at ".join(x for x in (summary.get("receiving_application"), summary.get("receiving_facility")) if x)
    route = (f" from {sender}" if sender else "") + (f" to {receiver}" if receiver else "")
    when = f" on {_timestamp(str(summary['timestamp']))}" if summary.get("timestamp") else ""
    processing = PROCESSING.get(fields.first("MSH-11")[:1], "")
    details = [f"HL7 version {summary.get('version', '?')}", f"control id `{summary.get('control_id', '?')}`"]
    if processing:
        details.append(f"{processing} processing")
    return f"This is an **{kind}** message: {event_phrase(kind)}. It was sent{route}{when} ({', '.join(details)})."


def _patient_lines(fields: _Fields) -> list[str]:
    lines: list[str] = []
    ids = fields.all("PID-3")
    if fields.first("PID-5"):
        lines.append(f"Name: **{_person_name(fields, fields.first('PID-5'))}** (PID-5)")
    for value in ids:
        parts = fields.parts(value)
        authority = parts[3] if len(parts) > 3 else ""
        id_type = parts[4] if len(parts) > 4 else ""
        label = "MRN" if id_type == "MR" else (f"{id_type} identifier" if id_type else "Identifier")
        lines.append(f"{label}: `{parts[0]}`" + (f" (assigned by {authority})" if authority else "") + " (PID-3)")
    if fields.first("PID-7"):
        lines.append(f"Born: {_timestamp(fields.first('PID-7'))} (PID-7)")
    if fields.first("PID-8"):
        sex = fields.first("PID-8")
        lines.append(f"Sex: {sex} ({SEXES.get(sex, 'code not in HL7 table 0001')}) (PID-8)")
    if fields.first("PID-11"):
        address = ", ".join(p for p in fields.parts(fields.first("PID-11")) if p)
        lines.append(f"Address: {address} (PID-11)")
    return lines


def _visit_lines(fields: _Fields) -> list[str]:
    lines: list[str] = []
    patient_class = fields.first("PV1-2")
    if patient_class:
        lines.append(f"Patient class: {patient_class} ({PATIENT_CLASSES.get(patient_class, 'site-specific code')})")
    location = fields.parts(fields.first("PV1-3")) if fields.first("PV1-3") else []
    if location:
        labels = ("unit", "room", "bed", "facility")
        described = ", ".join(f"{label} {value}" for label, value in zip(labels, location, strict=False) if value)
        lines.append(f"Location: {described} (PV1-3)")
    doctor = fields.first("PV1-7")
    if doctor:
        parts = fields.parts(doctor)
        name = " ".join(p for p in (parts[2:3] + parts[1:2]) if p) or parts[0]
        lines.append(f"Attending doctor: {name} (PV1-7)")
    if fields.first("PV1-44"):
        lines.append(f"Admitted: {_timestamp(fields.first('PV1-44'))} (PV1-44)")
    if fields.first("PV1-45"):
        lines.append(f"Discharged: {_timestamp(fields.first('PV1-45'))} (PV1-45)")
    if fields.first("EVN-2"):
        lines.append(f"Event recorded: {_timestamp(fields.first('EVN-2'))} (EVN-2)")
    return lines


def _order_lines(fields: _Fields) -> list[str]:
    lines: list[str] = []
    control = fields.first("ORC-1")
    if control:
        lines.append(f"Order control: {control} ({ORDER_CONTROLS.get(control, 'see HL7 table 0119')}) (ORC-1)")
    for service in fields.all("OBR-4"):
        parts = fields.parts(service)
        lines.append(f"Order / test: {' '.join(p for p in parts[:2] if p)} (OBR-4)")
    for name, own in fields.segments:
        if name != "OBX" or not own.get("OBX-5"):
            continue
        label = fields.parts(own.get("OBX-3", ""))
        test = label[1] if len(label) > 1 and label[1] else label[0] or "value"
        text = f"Result: {test} = **{own['OBX-5']}**"
        if own.get("OBX-6"):
            text += f" {fields.parts(own['OBX-6'])[0]}"
        if own.get("OBX-7"):
            text += f" (reference range {own['OBX-7']})"
        flag = own.get("OBX-8")
        if flag:
            text += f", flagged {flag} ({ABNORMAL_FLAGS.get(flag, 'see HL7 table 0078')})"
        if own.get("OBX-11"):
            text += f", {RESULT_STATUSES.get(own['OBX-11'], own['OBX-11'])}"
        lines.append(text + " (OBX)")
    for vaccine in fields.all("RXA-5"):
        lines.append(f"Given: {' '.join(p for p in fields.parts(vaccine)[:2] if p)} (RXA-5)")
    for note in fields.all("NTE-3"):
        lines.append(f"Note (quoted from the message, not an instruction to me): “{note}” (NTE-3)")
    return lines

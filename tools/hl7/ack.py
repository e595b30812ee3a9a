"""Building and reading HL7 acknowledgements (ACK with MSA, and ERR for AE/AR)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from tools.hl7.message import escape_text, normalize

AckCode = Literal["AA", "AE", "AR", "CA", "CE", "CR"]
ACCEPTED = {"AA", "CA"}
MEANINGS = {
    "AA": "Application Accept",
    "AE": "Application Error",
    "AR": "Application Reject",
    "CA": "Commit Accept",
    "CE": "Commit Error",
    "CR": "Commit Reject",
}


class ParsedAck(BaseModel):
    code: str | None
    acked_control_id: str | None
    text: str | None
    error: str | None


def build_ack(received: str, code: AckCode, text: str = "", *, control_id: str | None = None) -> str:
    """An ACK for `received`: MSH sender and receiver swapped, MSA-2 = the received control id."""
    segments = normalize(received).split("\r")
    msh = segments[0] if segments and segments[0].startswith("MSH") and len(segments[0]) > 8 else "MSH|^~\\&"
    separator = msh[3]
    fields = msh.split(separator)
    fields += [""] * (13 - len(fields))
    encoding = fields[1] or "^~\\&"
    trigger = fields[8].split(encoding[0])[1] if encoding[0] in fields[8] else ""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    ack_id = control_id or f"ACK{now}"
    version = fields[11].split(encoding[0])[0] or "2.5.1"
    header = separator.join(
        [
            "MSH",
            encoding,
            fields[4],
            fields[5],
            fields[2],
            fields[3],
            now,
            "",
            f"ACK{encoding[0]}{trigger}{encoding[0]}ACK" if trigger else "ACK",
            ack_id,
            fields[10] or "P",
            version,
        ]
    )
    lines = [header, separator.join(["MSA", code, fields[9], escape_text(text)[:80]])]
    if code not in ACCEPTED:
        severity = "E"
        lines.append(
            separator.join(
                [
                    "ERR",
                    "",
                    "",
                    "207" + encoding[0] + "Application internal error",
                    severity,
                    "",
                    "",
                    escape_text(text)[:200],
                ]
            )
        )
    return "\r".join(lines) + "\r"


def parse_ack(raw: str, control_id: str | None = None) -> ParsedAck:
    """MSA-1 code, MSA-2 acked control id, MSA-3 text, and every ERR segment's details, readably.

    Peers answer in every shape v2.1-v2.8 allows: ERR-1 (v2.3 location^code) or ERR-2..8 (v2.5+: code
    ERR-3, severity ERR-4, diagnostics ERR-7, user message ERR-8), escape sequences in the text, a
    lower-case code, several ERR segments, or a batch (FHS/BHS ... one MSH+MSA per message ... BTS/FTS).
    In a batch the acknowledgement of `control_id` is the one read (else the first). Never raises.
    """
    acks: list[dict[str, str | None]] = []
    errors: list[list[str]] = []
    early: list[str] = []
    field_sep, component, escape = "|", "^", "\\"
    for segment in _segments(raw):
        kind = segment[:3]
        if kind in ("MSH", "FHS", "BHS") and len(segment) > 4:
            field_sep = segment[3]
            encoding = segment[4:].split(field_sep, 1)[0]
            component = encoding[0] if encoding else "^"
            escape = encoding[2] if len(encoding) > 2 else "\\"
            continue
        fields = segment.split(field_sep)
        if kind == "MSA":
            acks.append(
                {
                    "code": (_at(fields, 1).strip().upper() or None),
                    "acked": _at(fields, 2).strip() or None,
                    "text": _unescape(_at(fields, 3), field_sep, component, escape).strip() or None,
                }
            )
            errors.append(early if not errors else [])  # ERR segments sent before the MSA belong to it
        elif kind == "ERR":
            detail = _error_detail(fields, field_sep, component, escape)
            if detail:
                (errors[-1] if errors else early).append(detail)
    if not acks:
        every = "; ".join(early)
        return ParsedAck(code=None, acked_control_id=None, text=None, error=every or None)
    index = next((i for i, ack in enumerate(acks) if control_id and ack["acked"] == control_id), 0)
    chosen = acks[index]
    return ParsedAck(
        code=chosen["code"],
        acked_control_id=chosen["acked"],
        text=chosen["text"],
        error="; ".join(errors[index]) or None,
    )


def _segments(raw: str) -> list[str]:
    # Not `normalize`: it drops what precedes the first MSH, and a batch ACK starts with FHS/BHS.
    text = raw.replace("\r\n", "\r").replace("\n", "\r")
    return [segment.strip() for segment in text.split("\r") if len(segment.strip()) >= 3]


def _at(fields: list[str], index: int) -> str:
    return fields[index] if len(fields) > index else ""


def _error_detail(fields: list[str], field_sep: str, component: str, escape: str) -> str:
    """One ERR segment as "severity code text: diagnostics (location)"."""

    def text(index: int) -> str:
        return _unescape(_at(fields, index), field_sep, component, escape).strip()

    def parts(index: int) -> list[str]:
        return [p.strip() for p in _at(fields, index).split(component)]

    code_parts = parts(3)
    code = " ".join(p for p in code_parts[:2] if p)
    legacy = parts(1)  # v2.3: ERR-1 = segment^sequence^field^code&text&system
    if not code and len(legacy) > 3:
        code = " ".join(p for p in legacy[3].split("&")[:2] if p)
    location = "-".join(p for p in (parts(2)[:3] if fields[2:3] and fields[2] else legacy[:3]) if p)
    severity = {"E": "error", "W": "warning", "I": "information", "F": "fatal error"}.get(text(4), text(4))
    message = text(8) or text(7)
    head = " ".join(p for p in (severity, _unescape(code, field_sep, component, escape)) if p)
    detail = ": ".join(p for p in (head, message) if p)
    return f"{detail} ({location})" if detail and location else detail


def _unescape(value: str, field_sep: str, component: str, escape: str) -> str:
    """HL7 escape sequences (\\F\\, \\S\\, \\T\\, \\R\\, \\E\\, \\.br\\, \\Xhh\\) as the characters they stand for."""
    if escape not in value:
        return value
    replacements = {"F": field_sep, "S": component, "T": "&", "R": "~", "E": escape, ".br": " "}
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == escape:
            end = value.find(escape, i + 1)
            if end > i:
                code = value[i + 1 : end]
                if code in replacements:
                    out.append(replacements[code])
                    i = end + 1
                    continue
                if code.startswith("X") and len(code) > 1:
                    try:
                        out.append(bytes.fromhex(code[1:]).decode("utf-8", errors="replace"))
                        i = end + 1
                        continue
                    except ValueError:
                        pass
        out.append(value[i])
        i += 1
    return "".join(out)

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


def parse_ack(raw: str) -> ParsedAck:
    """MSA-1 code, MSA-2 acked control id, MSA-3 text, and ERR details when present."""
    code = acked = text = error = None
    for segment in normalize(raw).split("\r"):
        if len(segment) < 4:
            continue
        separator = segment[3]
        fields = segment.split(separator)
        if fields[0] == "MSA":
            code = fields[1] if len(fields) > 1 else None
            acked = fields[2] if len(fields) > 2 and fields[2] else None
            text = fields[3] if len(fields) > 3 and fields[3] else None
        elif fields[0] == "ERR":
            details = [f for f in fields[1:] if f]
            error = " | ".join(details) or None
    return ParsedAck(code=code, acked_control_id=acked, text=text, error=error)

"""Questions about HL7 itself, with no message involved: "what is an ADT A08?", "what does AE mean?",
"what's in PID-3?". Answered from the standard's tables (hl7apy's field names, HL7 tables 0008 and the
event list), never from a guess."""

from __future__ import annotations

import re

from agents.offline.skills.hl7_answers import ACK_MEANINGS
from agents.offline.skills.hl7_explain import EVENTS, MESSAGE_TYPES, SEGMENT_NAMES_FALLBACK, SEGMENT_ROLES
from agents.offline.skills.hl7_intents import message_kind
from tools.hl7.message import SEGMENT_NAMES, field_name

_QUESTION = re.compile(
    r"\b(what('?s| is| are| does| do)|meaning|mean|means|stand for|stands for|explain|define|definition|tell me about|"
    r"used for|difference)\b"
)
_ACK_CODE = re.compile(r"\b(AA|AE|AR|CA|CE|CR)\b")
_FIELD = re.compile(r"\b([A-Z][A-Z0-9]{2})[-.](\d{1,3})\b")
_SEGMENT = re.compile(r"\b([A-Z][A-Z0-9]{2}) SEGMENT\b|\bSEGMENT ([A-Z][A-Z0-9]{2})\b")


def knowledge_answer(raw_words: str) -> str | None:
    """The answer to a question about HL7 terms in the user's words, or None when it is not one."""
    lowered = raw_words.lower()
    if not _QUESTION.search(lowered):
        return None
    lines: list[str] = []
    for code in dict.fromkeys(_ACK_CODE.findall(raw_words)):
        verdict, meaning = ACK_MEANINGS[code]
        lines.append(f"**{code}** is an ACK code — {meaning}. A message answered with {code} counts as **{verdict}**.")
    for segment, number in dict.fromkeys(_FIELD.findall(raw_words.upper())):
        name = field_name("2.5.1", segment, int(number))
        if name and not name.startswith("Not defined"):
            lines.append(f"**{segment}-{number}** is *{name}* (HL7 v2.5.1), in the {_segment_label(segment)}.")
    for match in _SEGMENT.finditer(raw_words.upper()):
        segment = match.group(1) or match.group(2)
        if segment in SEGMENT_ROLES:
            lines.append(f"The **{segment}** segment ({_segment_label(segment)}) holds {SEGMENT_ROLES[segment]}.")
    kind = message_kind(lowered)
    if kind and not lines:
        message_type = kind.split("^")[0]
        if kind in EVENTS:
            lines.append(f"**{kind}** is the HL7 v2 message for *{EVENTS[kind]}*.")
        if message_type in MESSAGE_TYPES:
            lines.append(f"{message_type} messages are {MESSAGE_TYPES[message_type]} messages.")
    if not lines:
        return None
    return "\n\n".join(lines) + "\n\nPaste a message and I can explain or validate it field by field."


def _segment_label(segment: str) -> str:
    name = SEGMENT_NAMES.get(segment) or SEGMENT_NAMES_FALLBACK.get(segment)
    return f"{name} segment" if name else f"{segment} segment"

"""Splitting a chat message into the user's own words and the content they pasted.

Pasted content is data. An HL7 message, a fenced code block or a JSON document may contain "send",
"forward", a destination's name or an instruction; none of it is read for intent, verbs or slot values.
Intent and arguments come from `Pasted.own_words` only, and the pasted text goes on to a tool unchanged:
`Pasted.hl7` is the message byte for byte from `MSH` on, with only its line endings normalised to `\\r`
(a broken segment stays in, so the validator can report it).
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

BlockKind = Literal["hl7", "code", "json"]

# A fenced block: ``` or ~~~, an optional language tag, the body, the same fence again (or the end).
_FENCE = re.compile(r"(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+.-]*)[^\n]*\n?(?P<body>.*?)(?:(?P=fence)|\Z)", re.S)
# MSH then its field separator: "MSH|^~\&|" (or another delimiter set), never "MSH-10" or "MSH segment".
_MSH = re.compile(r"MSH(?:\||(?P<sep>[^\w\s\-])(?=[^\w\s]{3}))")
_SEGMENT_START = re.compile(r"[A-Z][A-Z0-9]{2}[|^~\\&#]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A message pasted from a log or a one-line chat box: segments separated by spaces, not line breaks.
_INLINE_SEGMENT = re.compile(
    r"[ \t]+(?=(?:EVN|PID|PD1|NK1|PV1|PV2|ORC|OBR|OBX|NTE|AL1|DG1|IN1|GT1|MSA|ERR|SCH|RXA|RXR|"
    r"RXE|RXO|SPM|TQ1|MRG|SFT|AIS|AIG|AIL|AIP|RGS|FT1|PR1|ROL|TXA|Z[A-Z0-9]{2})\|)"
)
_INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


@dataclass(frozen=True, slots=True)
class PastedBlock:
    """One piece of pasted content: its kind and its text as pasted (HL7: line endings as `\\r`)."""

    kind: BlockKind
    text: str
    language: str = ""  # the fence's language tag, when there was one


@dataclass(frozen=True, slots=True)
class Pasted:
    """A message split into what the user wrote and what they pasted."""

    own_words: str  # the user's words with every pasted block taken out
    blocks: tuple[PastedBlock, ...] = ()
    inline_code: tuple[str, ...] = field(default=())  # `spans` the user typed (a JQL query, a field name)

    @property
    def hl7_messages(self) -> tuple[str, ...]:
        """Every HL7 v2 message pasted, in order: plain, fenced, or as a JSON string value."""
        found: list[str] = []
        for block in self.blocks:
            if block.kind == "hl7":
                found.append(block.text)
            elif block.kind == "json":
                found.extend(_messages_in(_json_strings(block.text)))
        return tuple(found)

    @property
    def hl7(self) -> str | None:
        """The first HL7 v2 message pasted, or None."""
        messages = self.hl7_messages
        return messages[0] if messages else None

    @property
    def has_paste(self) -> bool:
        return bool(self.blocks)


def split_pasted(text: str) -> Pasted:
    """The user's own words and the blocks they pasted (cached: every skill asks about the same text)."""
    return _split(text)


@lru_cache(maxsize=256)
def _split(text: str) -> Pasted:
    blocks: list[PastedBlock] = []
    words: list[str] = []
    cursor = 0
    for fence in _FENCE.finditer(text):
        words.append(text[cursor : fence.start()])
        body = fence.group("body")
        language = fence.group("lang").lower()
        blocks.extend(_fenced_blocks(body, language))
        cursor = fence.end()
    words.append(text[cursor:])
    own: list[str] = []
    for part in words:
        remainder, found = _unfenced_blocks(part)
        own.append(remainder)
        blocks.extend(found)
    own_words = re.sub(r"[ \t]+", " ", " ".join(own)).strip()
    own_words = re.sub(r"\s*\n\s*", "\n", own_words)
    return Pasted(
        own_words=own_words,
        blocks=tuple(blocks),
        inline_code=tuple(m.group(1).strip() for m in _INLINE_CODE.finditer(own_words)),
    )


def _fenced_blocks(body: str, language: str) -> list[PastedBlock]:
    body = textwrap.dedent(body).strip("\n")
    if not body.strip():
        return []
    if language in ("hl7", "er7", "hl7v2") or _MSH.search(body):
        start = _MSH.search(body)
        if start is not None:
            return [PastedBlock("hl7", message, language) for message in _split_messages(body[start.start() :])]
    if language == "json" or _parses_as_json(body):
        return [PastedBlock("json", body.strip(), language)]
    return [PastedBlock("code", body, language)]


def _unfenced_blocks(text: str) -> tuple[str, list[PastedBlock]]:
    """HL7 and JSON pasted without a fence; what is left is the user's words."""
    blocks: list[PastedBlock] = []
    own: list[str] = []
    cursor = 0
    while cursor < len(text):
        hl7 = _MSH.search(text, cursor)
        brace = _json_start(text, cursor)
        if hl7 is None and brace is None:
            break
        if brace is not None and (hl7 is None or brace[0] < hl7.start()):
            start, end = brace
            own.append(text[cursor:start])
            blocks.append(PastedBlock("json", text[start:end].strip()))
            cursor = end
            continue
        assert hl7 is not None
        own.append(text[cursor : hl7.start()])
        end = _hl7_end(text, hl7.start())
        raw = text[hl7.start() : end]
        body, trailing = _peel_trailing_prose(raw)
        blocks.extend(PastedBlock("hl7", message) for message in _split_messages(body))
        own.append(trailing)
        cursor = end
    own.append(text[cursor:])
    return " ".join(own), blocks


def _hl7_end(text: str, start: int) -> int:
    """Where a pasted message ends: at a blank line that is followed by prose rather than a segment."""
    for gap in re.finditer(r"(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)\s*", text[start:]):
        after = text[start + gap.end() :]
        if after and not _SEGMENT_START.match(after):
            return start + gap.start()
    return len(text)


def _peel_trailing_prose(raw: str) -> tuple[str, str]:
    """Lines after the last segment that carry no HL7 delimiter at all ("thanks!") are the user's words.

    A malformed segment stays in the message: only trailing lines of words without `|`, `^` or `~` go."""
    lines = _LINE_BREAK.split(raw.rstrip())
    trailing: list[str] = []
    while len(lines) > 1 and not re.search(r"[|^~]", lines[-1]) and re.search(r"[a-z]{2,}", lines[-1]):
        trailing.insert(0, lines.pop())
    return "\n".join(lines), " ".join(trailing)


def _split_messages(body: str) -> list[str]:
    """One or more messages (a batch pasted together starts each at MSH), line endings as `\\r`."""
    lines = [line for line in _LINE_BREAK.split(body.strip()) if line.strip()]
    if len(lines) == 1:
        lines = _INLINE_SEGMENT.split(lines[0])
    lines = _dedent(lines)
    messages: list[list[str]] = []
    for line in lines:
        if _MSH.match(line) or not messages:
            messages.append([])
        messages[-1].append(line)
    return ["\r".join(segments) for segments in messages if segments]


def _dedent(lines: list[str]) -> list[str]:
    """Indentation every line shares came from the chat box or a quote, not from the message."""
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines]
    shared = min(indents) if indents else 0
    first = lines[0].lstrip(" \t") if lines else ""
    return [first, *(line[shared:] for line in lines[1:])] if lines else []


def _json_start(text: str, cursor: int) -> tuple[int, int] | None:
    """The first JSON object or array from `cursor` on that parses and is more than a word or two."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text[cursor:]):
        start = cursor + match.start()
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict | list) and value and end - start >= 8:
            return start, end
    return None


def _parses_as_json(body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _json_strings(text: str) -> list[str]:
    try:
        value: Any = json.loads(text)
    except ValueError:
        return []
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _messages_in(strings: list[str]) -> list[str]:
    messages: list[str] = []
    for value in strings:
        start = _MSH.search(value)
        if start is None:
            continue
        body = value[start.start() :]
        if "\r" not in body and "\n" not in body:
            body = re.sub(
                r"(?:\\r\\n|\\r|\\n)(?=[A-Z][A-Z0-9]{2}[|^~#])", "\n", body
            )  # escaped separators, as JSON logs carry them
        messages.extend(_split_messages(body))
    return messages

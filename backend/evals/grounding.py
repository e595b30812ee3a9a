"""Is the answer right and grounded? Required facts, forbidden facts, and hallucinated identifiers.

A hallucination is an answer naming an identifier — a Jira issue key, a patient id or MRN, a patient
the EMR sandboxes know — that nothing in the conversation gave it: no tool result of this session and
no user message. (A patient the sandbox does not know at all can only come from invention; the cases'
`must_not_contain` lists catch the invented names a model is likely to produce.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .dataset import Fact

# PROJ-123. HL7 field positions (PID-5, MSH-10) and standards (ISO-8601) share the shape: skipped.
_ISSUE_KEY = re.compile(r"\b([A-Z][A-Z0-9]{1,9})-(\d{1,6})\b")
_NOT_PROJECTS = {
    "ISO", "UTF", "SHA", "RFC", "ICD", "HTTP", "TLS", "SSL", "HL", "HL7", "FHIR", "R4", "CPT", "ADT", "ORU",
    "ORM", "SIU", "VXU", "ACK", "QRY", "MDM", "DFT", "BAR", "RDE", "MFN", "LOINC", "COVID", "SARS", "E",
}  # fmt: skip
_HL7_SEGMENT = re.compile(
    r"^(MSH|EVN|PID|PD1|NK1|PV1|PV2|OBR|OBX|ORC|NTE|AL1|DG1|IN1|IN2|GT1|MSA|ERR|SCH|RXA|RXR|RXE|RXO|QRD|QRF|SPM|"
    r"TQ1|ROL|PR1|AIS|AIG|AIL|AIP|FT1|TXA|MRG|Z[A-Z0-9]{2})$"
)


@dataclass(frozen=True)
class Vocabulary:
    """Identifiers the sandboxes hold, so an answer naming one without a source can be caught."""

    patient_names: tuple[str, ...] = ()
    patient_ids: tuple[str, ...] = ()  # ids and MRNs
    id_pattern: re.Pattern[str] | None = None  # the shape of the sandboxes' MRNs / ids


def fold(text: str) -> str:
    return " ".join(text.lower().split())


def contains(answer: str, fact: str) -> bool:
    """Case-insensitive containment where a number at either end must be whole: `OPS-1` is not in `OPS-12`
    and `6` is not in `16`, while a phrase still matches a longer word (`approv` in `approval`)."""
    needle = fold(fact)
    if not needle:
        return False
    pattern = (
        (r"(?<!\d)" if needle[0].isdigit() else "") + re.escape(needle) + (r"(?!\d)" if needle[-1].isdigit() else "")
    )
    return re.search(pattern, fold(answer)) is not None


def fact_present(fact: Fact, answer: str) -> bool:
    """A fact (or, for a list, any one of its alternatives) appears in the answer, case-insensitively."""
    options = fact if isinstance(fact, list) else [fact]
    return any(contains(answer, option) for option in options)


def missing_facts(facts: Sequence[Fact], answer: str) -> list[str]:
    return [f if isinstance(f, str) else " | ".join(f) for f in facts if not fact_present(f, answer)]


def forbidden_present(forbidden: Sequence[str], answer: str) -> list[str]:
    return [f for f in forbidden if contains(answer, f)]


def issue_keys(text: str) -> set[str]:
    found = set()
    for match in _ISSUE_KEY.finditer(text):
        project = match.group(1)
        if project in _NOT_PROJECTS or _HL7_SEGMENT.match(project):
            continue
        found.add(match.group(0))
    return found


def named_identifiers(answer: str, vocabulary: Vocabulary) -> set[str]:
    """Issue keys, patient ids/MRNs and known patient names the answer mentions."""
    names = issue_keys(answer)
    folded = fold(answer)
    names.update(n for n in vocabulary.patient_names if fold(n) in folded)
    names.update(i for i in vocabulary.patient_ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", answer))
    if vocabulary.id_pattern is not None:
        names.update(m.group(0) for m in vocabulary.id_pattern.finditer(answer))
    return names


def ungrounded(answer: str, sources: Iterable[str], vocabulary: Vocabulary) -> list[str]:
    """Identifiers in the answer that no source (tool result or user message) contains."""
    corpus = fold("\n".join(sources))
    words = set(re.findall(r"\w+", corpus))

    def grounded(name: str) -> bool:
        if contains(corpus, name):
            return True
        # A person's name may come back as {"family": "Smith", "given": ["Jane"]}: every word counts.
        parts = re.findall(r"\w+", fold(name))
        return " " in name.strip() and all(part in words for part in parts)

    return sorted(name for name in named_identifiers(answer, vocabulary) if not grounded(name))

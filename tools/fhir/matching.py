"""Is this the same person? Deterministic on shared identifiers, otherwise a demographic score.

Pure functions. The score weighs birth date 0.35, family name 0.25, given name 0.20 (0.05 for the
same initial only), gender 0.10, and postal code or phone 0.10. At or above `MERGE_THRESHOLD` two
records are merged; between `OFFER_THRESHOLD` and it the match is offered to the person, never merged.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel

from tools.fhir.models import Identifier, PatientSummary

MERGE_THRESHOLD = 0.9
OFFER_THRESHOLD = 0.5
MatchMethod = Literal["anchor", "identifier", "demographics", "requested"]


class PatientMatch(BaseModel):
    """How one source's patient relates to the anchor patient."""

    source: str
    integration_id: str
    patient_id: str
    name: str
    birth_date: str | None = None
    method: MatchMethod
    confidence: float
    merged: bool
    reasons: list[str] = []


def _folded(text: str | None) -> str:
    if not text:
        return ""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


def shared_identifiers(a: PatientSummary, b: PatientSummary) -> list[Identifier]:
    """Identifiers (same system and value) both records carry; a system is required to count."""
    theirs = {(i.system, i.value) for i in b.identifiers if i.system}
    return [i for i in a.identifiers if i.system and (i.system, i.value) in theirs]


def demographic_score(a: PatientSummary, b: PatientSummary) -> tuple[float, list[str]]:
    """A 0..1 likeness of two patient records and the reasons behind it."""
    score = 0.0
    reasons: list[str] = []
    if a.birth_date and a.birth_date == b.birth_date:
        score += 0.35
        reasons.append("same birth date")
    elif a.birth_date and b.birth_date:
        reasons.append("different birth date")
    if _folded(a.family) and _folded(a.family) == _folded(b.family):
        score += 0.25
        reasons.append("same family name")
    given_a, given_b = _folded(a.given[0] if a.given else ""), _folded(b.given[0] if b.given else "")
    if given_a and given_a == given_b:
        score += 0.20
        reasons.append("same given name")
    elif given_a and given_b and given_a[0] == given_b[0]:
        score += 0.05
        reasons.append("given names differ but share the initial")
    if a.gender and a.gender == b.gender:
        score += 0.10
        reasons.append("same gender")
    if (a.postal_code and a.postal_code == b.postal_code) or (a.phone and a.phone == b.phone):
        score += 0.10
        reasons.append("same postal code or phone")
    return round(score, 2), reasons


def match(anchor: PatientSummary, candidate: PatientSummary, integration_id: str) -> PatientMatch:
    """Classify `candidate` against `anchor`."""
    shared = shared_identifiers(anchor, candidate)
    base = {
        "source": candidate.source or "",
        "integration_id": integration_id,
        "patient_id": candidate.id,
        "name": candidate.name,
        "birth_date": candidate.birth_date,
    }
    if shared:
        reasons = [f"shared identifier {i.type or i.system}: {i.value}" for i in shared]
        return PatientMatch(**base, method="identifier", confidence=1.0, merged=True, reasons=reasons)
    score, reasons = demographic_score(anchor, candidate)
    return PatientMatch(
        **base, method="demographics", confidence=score, merged=score >= MERGE_THRESHOLD, reasons=reasons
    )

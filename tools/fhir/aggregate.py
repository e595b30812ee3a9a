"""One patient across several EMR integrations, fetched concurrently and merged.

Used by the `emr_aggregate` tool and by `POST /api/v1/patients/aggregate`. Sources are read in
parallel (total latency ≈ the slowest source); a source that fails is named in `failed_sources` and
the rest still answer. Matching rules live in `matching.py`, merging rules in `merge.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.base import AuditSink, IntegrationContext
from tools.errors import ConnectorBadRequest, ConnectorError
from tools.fhir.matching import OFFER_THRESHOLD, PatientMatch, match
from tools.fhir.merge import SourceRecord, merge_records
from tools.fhir.models import PatientSummary
from tools.fhir.reader import EmrReader, ObservationQuery, PatientCriteria, SequentialAudit


class FailedSource(BaseModel):
    integration_id: str
    source: str
    code: str
    error: str


class AggregateResult(BaseModel):
    status: Literal["merged", "ambiguous", "not_found"]
    message: str
    patient: dict[str, Any] = Field(default_factory=dict)
    matches: list[PatientMatch] = []
    observations: list[dict[str, Any]] = []
    medications: list[dict[str, Any]] = []
    allergies: list[dict[str, Any]] = []
    conditions: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    candidates: list[PatientSummary] = []
    failed_sources: list[FailedSource] = []
    sources: list[dict[str, str]] = []
    elapsed_ms: float = 0.0


def _failure(ctx: IntegrationContext, exc: ConnectorError) -> FailedSource:
    return FailedSource(integration_id=ctx.id, source=ctx.name, code=exc.code, error=exc.message)


async def fetch_record(reader: EmrReader, patient: PatientSummary) -> SourceRecord:
    """Everything one source holds about `patient`, its reads run concurrently."""
    latest = ObservationQuery(latest_only=True)
    observations, medications, allergies, conditions = await asyncio.gather(
        reader.observations(patient.id, latest),
        reader.medications(patient.id),
        reader.allergies(patient.id),
        reader.conditions(patient.id),
    )
    return SourceRecord(
        integration_id=reader.ctx.id,
        source=reader.ctx.name,
        patient=patient,
        observations=observations,
        medications=medications,
        allergies=allergies,
        conditions=conditions,
    )


async def _guarded(ctx: IntegrationContext, coro: Any, failed: list[FailedSource]) -> Any:
    try:
        return await coro
    except ConnectorError as exc:
        failed.append(_failure(ctx, exc))
        return None


async def aggregate_patient(
    contexts: Sequence[IntegrationContext],
    *,
    patient_identifiers: dict[str, str] | None = None,
    search: PatientCriteria | None = None,
    audit: AuditSink | None = None,
) -> AggregateResult:
    """Merge one patient across `contexts`, by explicit ids per integration or by a search."""
    trail = SequentialAudit(audit)
    try:
        return await _aggregate(contexts, patient_identifiers, search, trail)
    finally:
        await trail.flush()


async def _aggregate(
    contexts: Sequence[IntegrationContext],
    patient_identifiers: dict[str, str] | None,
    search: PatientCriteria | None,
    audit: AuditSink,
) -> AggregateResult:
    started = time.perf_counter()
    readers = {ctx.id: EmrReader(ctx, audit) for ctx in contexts}
    failed: list[FailedSource] = []
    if patient_identifiers:
        unknown = [i for i in patient_identifiers if i not in readers]
        if unknown:
            raise ConnectorBadRequest(f"Not an EMR integration you can use: {', '.join(unknown)}.")
        chosen = [(readers[i], pid) for i, pid in patient_identifiers.items()]
        patients = await asyncio.gather(*(_guarded(r.ctx, r.patient(pid), failed) for r, pid in chosen))
        found = [(r, p) for (r, _), p in zip(chosen, patients, strict=True) if p is not None]
        if not found:
            return _finish(
                AggregateResult(status="not_found", message="None of the patients could be read."), failed, started
            )
        anchor_reader, anchor = found[0]
        matches = [_anchor_match(anchor_reader, anchor)]
        for reader, patient in found[1:]:
            compared = match(anchor, patient, reader.ctx.id)
            # The caller named these records: merge them, but keep the evidence (or its absence) visible.
            matches.append(compared.model_copy(update={"method": "requested", "merged": True}))
    else:
        if search is None or not search.params():
            raise ConnectorBadRequest("Give patient identifiers per integration, or search criteria.")
        results = await asyncio.gather(
            *(_guarded(r.ctx, r.search_patients(search, 10), failed) for r in readers.values())
        )
        hits = [(r, list(found)) for r, found in zip(readers.values(), results, strict=True) if found]
        if not hits:
            message = "No patient matches those criteria in any reachable EMR."
            return _finish(AggregateResult(status="not_found", message=message), failed, started)
        ambiguous = [(r, c) for r, c in hits if len(c) > 1]
        if ambiguous:
            candidates = [p for _, c in hits for p in c]
            message = "Several patients match; narrow the search (full name and birth date) or pick one by id."
            return _finish(AggregateResult(status="ambiguous", message=message, candidates=candidates), failed, started)
        anchor_reader, anchor = hits[0][0], hits[0][1][0]
        candidates_by_source = {r.ctx.id: c for r, c in hits[1:]}
        missed = [r for r in readers.values() if r is not anchor_reader and r.ctx.id not in candidates_by_source]
        missed = [r for r in missed if r.ctx.id not in {f.integration_id for f in failed}]
        if missed and anchor.family and anchor.birth_date:
            # The name as typed may differ between systems ("Ted" / "Theodore"): look the anchor's
            # family name and birth date up there too, and let the score decide.
            wider = PatientCriteria(family=anchor.family, birthdate=anchor.birth_date)
            more = await asyncio.gather(*(_guarded(r.ctx, r.search_patients(wider, 10), failed) for r in missed))
            candidates_by_source.update({r.ctx.id: list(c) for r, c in zip(missed, more, strict=True) if c})
        matches = [_anchor_match(anchor_reader, anchor)]
        best = [
            max((match(anchor, c, i) for c in cands), key=lambda m: m.confidence)
            for i, cands in candidates_by_source.items()
        ]
        matches += [m for m in best if m.merged or m.confidence >= OFFER_THRESHOLD]
        by_id = {(i, p.id): p for i, cands in candidates_by_source.items() for p in cands}
        found = [(anchor_reader, anchor)] + [
            (readers[m.integration_id], by_id[(m.integration_id, m.patient_id)]) for m in matches[1:] if m.merged
        ]
    records = await asyncio.gather(*(_guarded(r.ctx, fetch_record(r, p), failed) for r, p in found))
    usable = [r for r in records if r is not None]
    merged_ids = {r.integration_id for r in usable}
    matches = [
        m if m.integration_id in merged_ids or not m.merged else m.model_copy(update={"merged": False}) for m in matches
    ]
    offered = [m for m in matches if not m.merged]
    message = f"Merged from {len(usable)} source(s)."
    if offered:
        message += (
            " Possible matches not merged: "
            + "; ".join(f"{m.name} in {m.source} ({m.confidence:.0%})" for m in offered)
            + "."
        )
    result = (
        AggregateResult(status="merged", message=message, matches=matches, **merge_records(usable))
        if usable
        else AggregateResult(status="not_found", message="The matched records could not be read.", matches=matches)
    )
    result.sources = [
        {"integration_id": r.integration_id, "source": r.source, "patient_id": r.patient.id} for r in usable
    ]
    return _finish(result, failed, started)


def _anchor_match(reader: EmrReader, patient: PatientSummary) -> PatientMatch:
    return PatientMatch(
        source=reader.ctx.name,
        integration_id=reader.ctx.id,
        patient_id=patient.id,
        name=patient.name,
        birth_date=patient.birth_date,
        method="anchor",
        confidence=1.0,
        merged=True,
        reasons=["the record the others are compared with"],
    )


def _finish(result: AggregateResult, failed: list[FailedSource], started: float) -> AggregateResult:
    result.failed_sources = failed
    if failed:
        result.message += " Could not read: " + ", ".join(f"{f.source} ({f.code})" for f in failed) + "."
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return result

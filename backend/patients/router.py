"""`/api/v1/integrations/{id}/patients/...` (one EMR) and `/api/v1/patients/aggregate` (all of them)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query

from backend.deps import ContextDep, CurrentUser, SessionDep
from backend.errors import NotFound
from backend.pagination import Page, PageDep, PageParams
from tools.fhir.aggregate import AggregateResult, aggregate_patient
from tools.fhir.models import (
    AllergyItem,
    ConditionItem,
    EncounterItem,
    MedicationItem,
    ObservationItem,
    PatientSummary,
)
from tools.fhir.reader import Category, ObservationQuery, PatientCriteria

from .schemas import AggregateRequest, PatientOut, PatientSearch
from .service import AuditTrail, all_emr_contexts, audited, emr_context, reader_for

router = APIRouter(tags=["patients"])
T = TypeVar("T")
PatientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9\-\.]{1,64}$", description="FHIR Patient id")]
DateParam = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]
SEARCH_LIMIT = 100


def _page(items: list[T], params: PageParams) -> Page[T]:
    return Page[T].build(items[params.offset : params.offset + params.size], len(items), params)


@router.post("/integrations/{integration_id}/patients/search", response_model=Page[PatientOut])
async def search_patients(
    integration_id: uuid.UUID,
    body: PatientSearch,
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    params: PageDep,
) -> Any:
    """Patients matching the criteria in one EMR (at most 100 are fetched, then paged)."""
    emr = await emr_context(session, ctx, user, integration_id)
    trail = AuditTrail(ctx, user)
    found = await audited(trail, reader_for(emr, trail).search_patients(body.criteria, SEARCH_LIMIT))
    items = [PatientOut(**p.model_dump(), integration_id=integration_id) for p in found]
    return _page(items, params)


@router.get("/integrations/{integration_id}/patients/{patient_id}", response_model=PatientOut)
async def read_patient(
    integration_id: uuid.UUID, patient_id: PatientId, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> Any:
    emr = await emr_context(session, ctx, user, integration_id)
    trail = AuditTrail(ctx, user)
    patient: PatientSummary = await audited(trail, reader_for(emr, trail).patient(patient_id))
    return PatientOut(**patient.model_dump(), integration_id=integration_id)


@router.get("/integrations/{integration_id}/patients/{patient_id}/observations", response_model=Page[ObservationItem])
async def patient_observations(
    integration_id: uuid.UUID,
    patient_id: PatientId,
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    params: PageDep,
    category: Category | None = None,
    code: Annotated[str | None, Query(max_length=200, description="LOINC code(s), comma-separated")] = None,
    since: DateParam = None,
    until: DateParam = None,
    latest: bool = False,
) -> Any:
    """Observations, newest first (`latest=true`: the most recent per code)."""
    emr = await emr_context(session, ctx, user, integration_id)
    trail = AuditTrail(ctx, user)
    query = ObservationQuery(category=category, code=code, since=since, until=until, latest_only=latest)
    return _page(await audited(trail, reader_for(emr, trail).observations(patient_id, query)), params)


# Each clinical list: its item model, the fields `?since=` filters on (YYYY-MM-DD compares as text with
# ISO dates, first present field wins), and what the endpoint returns.
_LISTINGS: list[tuple[str, type[Any], tuple[str, ...], str]] = [
    ("medications", MedicationItem, ("authored_on",), "Medications of the patient"),
    ("allergies", AllergyItem, ("recorded",), "Allergies of the patient"),
    ("conditions", ConditionItem, ("onset", "recorded"), "Conditions of the patient"),
    ("encounters", EncounterItem, ("start",), "Encounters (visits, admissions) of the patient"),
]


def _listing_route(kind: str, item_model: type[Any], dated_by: tuple[str, ...], summary: str) -> None:
    """Register `GET .../patients/{pid}/<kind>`: the reader's list, audited, filtered, paged."""

    async def endpoint(
        integration_id: uuid.UUID,
        patient_id: PatientId,
        user: CurrentUser,
        session: SessionDep,
        ctx: ContextDep,
        params: PageDep,
        since: DateParam = None,
    ) -> Any:
        emr = await emr_context(session, ctx, user, integration_id)
        trail = AuditTrail(ctx, user)
        items = await audited(trail, getattr(reader_for(emr, trail), kind)(patient_id))
        if since:
            dated = [(item, next((getattr(item, f) for f in dated_by if getattr(item, f)), None)) for item in items]
            items = [item for item, when in dated if when is not None and str(when)[:10] >= since]
        return _page(items, params)

    endpoint.__name__ = f"patient_{kind}"
    router.add_api_route(
        f"/integrations/{{integration_id}}/patients/{{patient_id}}/{kind}",
        endpoint,
        methods=["GET"],
        response_model=Page[item_model],  # type: ignore[valid-type]  # a runtime model, one per route
        summary=summary,
        description=f"{summary} (`since`: dated on or after that day).",
    )


for _kind, _model, _dated_by, _summary in _LISTINGS:
    _listing_route(_kind, _model, _dated_by, _summary)


@router.post("/patients/aggregate", response_model=AggregateResult)
async def aggregate(body: AggregateRequest, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Any:
    """One patient merged across the caller's EMR integrations (by ids per integration, or a search)."""
    trail = AuditTrail(ctx, user)
    if body.patient_identifiers:
        contexts = [await emr_context(session, ctx, user, iid) for iid in body.patient_identifiers]
        identifiers = {str(iid): pid for iid, pid in body.patient_identifiers.items()}
        return await audited(trail, aggregate_patient(contexts, patient_identifiers=identifiers, audit=trail))
    contexts = await all_emr_contexts(session, ctx, user)
    if not contexts:
        raise NotFound("You have no EMR integration to search", code="no_emr_integrations")
    assert body.search is not None
    criteria = PatientCriteria(name=body.search.name, birthdate=body.search.birthdate)
    return await audited(trail, aggregate_patient(contexts, search=criteria, audit=trail))

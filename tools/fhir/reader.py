"""EMR reads for one integration, each one audited: the operations the tools and the REST API share.

Every read records an `AuditRecord` (action `emr.<operation>`, integration, patient id, resource
types, outcome) through the sink the caller lends; the patient data itself is never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from tools.base import AuditRecord, AuditSink, IntegrationContext
from tools.errors import ConnectorBadRequest, ConnectorError
from tools.fhir.client import FhirClient
from tools.fhir.config import EmrConfig, EmrCredentials
from tools.fhir.models import (
    AllergyItem,
    ConditionItem,
    EncounterItem,
    MedicationItem,
    ObservationItem,
    PatientSummary,
    allergy_item,
    condition_item,
    encounter_item,
    medication_item,
    observation_item,
    parse_many,
    patient_summary,
)

T = TypeVar("T")
Category = Literal["vital-signs", "laboratory"]
PAGE_SIZE = "100"


class PatientCriteria(BaseModel):
    """Patient search criteria (at least one)."""

    name: str | None = Field(default=None, max_length=200, description="Any part of the name")
    family: str | None = Field(default=None, max_length=100)
    given: str | None = Field(default=None, max_length=100)
    birthdate: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$", description="YYYY-MM-DD")
    gender: Literal["male", "female", "other", "unknown"] | None = None
    identifier: str | None = Field(default=None, max_length=200, description="MRN or `system|value`")

    def params(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if v}


class ObservationQuery(BaseModel):
    category: Category | None = None
    code: str | None = Field(default=None, max_length=200, description="LOINC code(s), comma-separated")
    since: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}", description="Earliest date, YYYY-MM-DD")
    until: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}", description="Latest date, YYYY-MM-DD")
    latest_only: bool = Field(default=False, description="Only the most recent value per code")


def latest_per_code(items: list[ObservationItem]) -> list[ObservationItem]:
    """The most recent observation for each code, in first-seen code order."""
    best: dict[str, ObservationItem] = {}
    for item in items:
        key = item.code or item.display
        if key not in best or (item.effective or "") > (best[key].effective or ""):
            best[key] = item
    return list(best.values())


def latest_raw(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest raw Observation per first code, before validation (ISO instants sort as text)."""
    best: dict[str, dict[str, Any]] = {}
    for resource in resources:
        codings = (resource.get("code") or {}).get("coding") or [{}]
        key = str(codings[0].get("code") or resource.get("id"))
        when = str(resource.get("effectiveDateTime") or "")
        if key not in best or when > str(best[key].get("effectiveDateTime") or ""):
            best[key] = resource
    return list(best.values())


class SequentialAudit:
    """Buffers audit records of concurrent reads and writes them one after another on `flush`, so a
    database that serialises writers (SQLite) never sees them race."""

    def __init__(self, sink: AuditSink | None) -> None:
        self.sink = sink
        self.pending: list[AuditRecord] = []

    async def __call__(self, record: AuditRecord) -> None:
        self.pending.append(record)

    async def flush(self) -> None:
        records, self.pending = self.pending, []
        if self.sink is not None:
            for record in records:
                await self.sink(record)


class EmrReader:
    """Audited FHIR reads against one EMR integration."""

    def __init__(self, ctx: IntegrationContext, audit: AuditSink | None = None) -> None:
        assert isinstance(ctx.config, EmrConfig)
        self.ctx = ctx
        self.config: EmrConfig = ctx.config
        self.credentials = ctx.credentials if isinstance(ctx.credentials, EmrCredentials) else None
        self.audit = audit

    def client(self) -> FhirClient:
        return FhirClient(self.config, self.credentials, outbound=self.ctx.outbound)

    async def _audited(
        self,
        operation: str,
        patient_id: str | None,
        resource_types: tuple[str, ...],
        read: Callable[[FhirClient], Awaitable[T]],
        details: dict[str, Any] | None = None,
    ) -> T:
        outcome: Literal["success", "failure"] = "failure"
        extra = dict(details or {})
        try:
            async with self.client() as fhir:
                result = await read(fhir)
            outcome = "success"
            if isinstance(result, list):
                extra["count"] = len(result)
            return result
        except ConnectorError as exc:
            extra["error_code"] = exc.code
            raise
        finally:
            if self.audit is not None:
                await self.audit(
                    AuditRecord(
                        action=f"emr.{operation}",
                        outcome=outcome,
                        integration_id=self.ctx.id,
                        patient_id=patient_id,
                        resource_types=resource_types,
                        details=extra,
                    )
                )

    async def search_patients(self, criteria: PatientCriteria, limit: int = 50) -> list[PatientSummary]:
        params = criteria.params()
        if not params:
            raise ConnectorBadRequest("Give at least one search criterion (name, birth date, identifier...).")

        async def run(fhir: FhirClient) -> list[PatientSummary]:
            found = await fhir.search("Patient", {**params, "_count": str(min(limit, 100))}, limit=limit)
            return parse_many(found, lambda r: patient_summary(r, self.ctx.name))

        # Which fields were searched is audited, never their values (they identify a person).
        return await self._audited("patient_search", None, ("Patient",), run, {"criteria": sorted(params)})

    async def patient(self, patient_id: str) -> PatientSummary:
        async def run(fhir: FhirClient) -> PatientSummary:
            return patient_summary(await fhir.read("Patient", patient_id), self.ctx.name)

        return await self._audited("patient_read", patient_id, ("Patient",), run)

    async def observations(self, patient_id: str, query: ObservationQuery) -> list[ObservationItem]:
        params: dict[str, str | list[str]] = {"patient": patient_id, "_count": PAGE_SIZE, "_sort": "-date"}
        if query.category:
            params["category"] = query.category
        if query.code:
            params["code"] = query.code
        dates = [f"ge{query.since[:10]}"] if query.since else []
        dates += [f"le{query.until[:10]}"] if query.until else []
        if dates:
            params["date"] = dates

        async def run(fhir: FhirClient) -> list[ObservationItem]:
            found = await fhir.search("Observation", params, limit=500)
            if query.latest_only:
                found = latest_raw(found)  # validate only what we return: parsing is most of the CPU
            items = parse_many(found, lambda r: observation_item(r, self.ctx.name))
            items.sort(key=lambda o: o.effective or "", reverse=True)
            return latest_per_code(items) if query.latest_only else items

        return await self._audited(
            "observations", patient_id, ("Observation",), run, {"category": query.category, "code": query.code}
        )

    async def medications(self, patient_id: str) -> list[MedicationItem]:
        async def run(fhir: FhirClient) -> list[MedicationItem]:
            found = await fhir.search("MedicationRequest", {"patient": patient_id, "_count": PAGE_SIZE})
            return parse_many(found, lambda r: medication_item(r, self.ctx.name))

        return await self._audited("medications", patient_id, ("MedicationRequest",), run)

    async def allergies(self, patient_id: str) -> list[AllergyItem]:
        async def run(fhir: FhirClient) -> list[AllergyItem]:
            found = await fhir.search("AllergyIntolerance", {"patient": patient_id, "_count": PAGE_SIZE})
            return parse_many(found, lambda r: allergy_item(r, self.ctx.name))

        return await self._audited("allergies", patient_id, ("AllergyIntolerance",), run)

    async def conditions(self, patient_id: str) -> list[ConditionItem]:
        async def run(fhir: FhirClient) -> list[ConditionItem]:
            found = await fhir.search("Condition", {"patient": patient_id, "_count": PAGE_SIZE})
            return parse_many(found, lambda r: condition_item(r, self.ctx.name))

        return await self._audited("conditions", patient_id, ("Condition",), run)

    async def encounters(self, patient_id: str) -> list[EncounterItem]:
        async def run(fhir: FhirClient) -> list[EncounterItem]:
            found = await fhir.search("Encounter", {"patient": patient_id, "_count": PAGE_SIZE})
            return parse_many(found, lambda r: encounter_item(r, self.ctx.name))

        return await self._audited("encounters", patient_id, ("Encounter",), run)

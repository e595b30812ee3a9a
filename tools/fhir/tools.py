"""LangChain tools over the EMR reads: per integration, and one that aggregates across them all.

Identity never comes from the model: the integration and the audit sink are bound when the tools are
built. Results are compact (summaries, latest values first) so they fit the model's context.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.base import IntegrationContext, ToolServices
from tools.fhir.aggregate import AggregateResult, aggregate_patient
from tools.fhir.reader import Category, EmrReader, ObservationQuery, PatientCriteria, SequentialAudit
from tools.tooling import make_tool

# Every EMR tool reads patient data: an API key needs the scope that opens /patients over REST.
PATIENTS_READ = "patients:read"

_PID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-\.]+$", description="FHIR Patient id")


class PatientArgs(BaseModel):
    patient_id: str = _PID


class ObservationArgs(BaseModel):
    patient_id: str = _PID
    code: str | None = Field(default=None, max_length=200, description="LOINC code(s), comma-separated")
    since: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="Earliest date, YYYY-MM-DD")
    latest_only: bool = Field(default=True, description="Only the most recent value of each kind")


class AggregateArgs(BaseModel):
    name: str | None = Field(default=None, max_length=200, description="Patient name")
    birthdate: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    patient_identifiers: dict[str, str] | None = Field(
        default=None, description="Patient id per integration id, when already known"
    )


def build_emr_tools(ctx: IntegrationContext, services: ToolServices) -> list[BaseTool]:
    """The read tools for one EMR integration (all `phi=True`)."""
    reader = EmrReader(ctx, services.audit)

    async def find_patient(**criteria: Any) -> dict[str, Any]:
        patients = await reader.search_patients(PatientCriteria(**criteria), limit=20)
        return {"source": ctx.name, "count": len(patients), "patients": patients}

    async def patient_summary(patient_id: str) -> dict[str, Any]:
        trail = SequentialAudit(services.audit)
        summary_reader = EmrReader(ctx, trail)
        try:
            patient, record_conditions, allergies, medications, vitals = await asyncio.gather(
                summary_reader.patient(patient_id),
                summary_reader.conditions(patient_id),
                summary_reader.allergies(patient_id),
                summary_reader.medications(patient_id),
                summary_reader.observations(patient_id, ObservationQuery(category="vital-signs", latest_only=True)),
            )
        finally:
            await trail.flush()
        return {
            "source": ctx.name,
            "patient": patient,
            "conditions": record_conditions,
            "allergies": allergies,
            "medications": medications,
            "latest_vitals": vitals,
        }

    def observations_of(category: Category) -> Any:
        async def run(
            patient_id: str, code: str | None = None, since: str | None = None, latest_only: bool = True
        ) -> Any:
            query = ObservationQuery(category=category, code=code, since=since, latest_only=latest_only)
            items = await reader.observations(patient_id, query)
            return {"source": ctx.name, "patient_id": patient_id, "category": category, "observations": items}

        return run

    def listing(kind: str) -> Any:
        async def run(patient_id: str) -> Any:
            items = await getattr(reader, kind)(patient_id)
            return {"source": ctx.name, "patient_id": patient_id, kind: items}

        return run

    specs: list[tuple[Any, str, type[BaseModel], str]] = [
        (find_patient, "emr.find_patient", PatientCriteria, "Find patients by name, birth date (YYYY-MM-DD), "
         "gender or identifier/MRN. Returns ids to use with the other EMR tools."),
        (patient_summary, "emr.patient_summary", PatientArgs, "A patient's demographics, conditions, allergies, "
         "medications and latest vital signs."),
        (observations_of("vital-signs"), "emr.vitals", ObservationArgs, "A patient's vital signs (latest by default)."),
        (observations_of("laboratory"), "emr.labs", ObservationArgs, "A patient's laboratory results (latest by "
         "default; filter by LOINC code or date)."),
        (listing("medications"), "emr.medications", PatientArgs, "A patient's medication orders with dosage."),
        (listing("allergies"), "emr.allergies", PatientArgs, "A patient's allergies and intolerances."),
        (listing("conditions"), "emr.conditions", PatientArgs, "A patient's conditions / problem list."),
        (listing("encounters"), "emr.encounters", PatientArgs, "A patient's encounters (visits, admissions, "
         "telehealth) with dates, type, status and reason."),
    ]  # fmt: skip
    return [
        make_tool(
            func,
            operation=operation,
            description=description,
            args_schema=schema,
            access="read",
            scope=PATIENTS_READ,
            phi=True,
            integration_id=ctx.id,
            integration_name=ctx.name,
            integration_type="emr",
        )
        for func, operation, schema, description in specs
    ]


def build_aggregate_tool(contexts: Sequence[IntegrationContext], services: ToolServices) -> list[BaseTool]:
    """`emr_aggregate`: one patient merged across every EMR integration the user has."""
    if not contexts:
        return []

    async def aggregate(
        name: str | None = None, birthdate: str | None = None, patient_identifiers: dict[str, str] | None = None
    ) -> AggregateResult:
        search = PatientCriteria(name=name, birthdate=birthdate) if (name or birthdate) else None
        return await aggregate_patient(
            contexts, patient_identifiers=patient_identifiers, search=search, audit=services.audit
        )

    return [
        make_tool(
            aggregate,
            operation="emr.aggregate",
            name="emr_aggregate",
            args_schema=AggregateArgs,
            access="read",
            scope=PATIENTS_READ,
            phi=True,
            description="Merge one patient's record across all connected EMRs (by name and birth date, or ids "
            "per integration): demographics, latest observations, medications, allergies, conditions, each "
            "tagged with its source, with conflicts and sources that failed.",
        )
    ]

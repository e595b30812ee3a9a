"""Request and response bodies of the patient endpoints."""

from __future__ import annotations

import re
import uuid
from typing import Self

from pydantic import BaseModel, Field, model_validator

from tools.fhir.models import PatientSummary
from tools.fhir.reader import PatientCriteria

PATIENT_ID = re.compile(r"[A-Za-z0-9\-\.]{1,64}")


class PatientSearch(BaseModel):
    criteria: PatientCriteria

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.criteria.params():
            raise ValueError("give at least one criterion: name, family, given, birthdate, gender or identifier")
        return self


class PatientOut(PatientSummary):
    integration_id: uuid.UUID


class AggregateSearch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    birthdate: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class AggregateRequest(BaseModel):
    patient_identifiers: dict[uuid.UUID, str] | None = Field(
        default=None, description="Patient id per EMR integration id", max_length=20
    )
    search: AggregateSearch | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        if bool(self.patient_identifiers) == bool(self.search and (self.search.name or self.search.birthdate)):
            raise ValueError("give either patient_identifiers or search (name and/or birthdate), not both")
        for pid in (self.patient_identifiers or {}).values():
            if not PATIENT_ID.fullmatch(pid):
                raise ValueError(f"{pid!r} is not a FHIR id")
        return self

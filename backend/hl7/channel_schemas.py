"""Bodies of `/api/v1/hl7/channels`: a channel's filter, transform steps and delivery policy."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.hl7.paths import Operation, PathError

Source = Literal["api", "mllp"]
Ordering = Literal["fifo", "parallel"]
Validation = Literal["off", "warn", "reject"]
NegativeAck = Literal["retry", "fail"]

# ADT, ADT^A01, ADT^A0*, ORU^R01, *  (fnmatch patterns on "TYPE^TRIGGER")
_TYPE_PATTERN = re.compile(r"^(\*|[A-Za-z0-9*?]{1,3}(\^[A-Za-z0-9*?_]{1,7})?)$")
_NAME_PATTERN = re.compile(r"^[^\r\n|]{1,200}$")


def _clean(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    cleaned = [v.strip() for v in values]
    for value in cleaned:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not a valid {what}")
    return list(dict.fromkeys(cleaned))


class ChannelFilter(BaseModel):
    """Which messages the channel takes; every list is optional and an empty list means any."""

    model_config = ConfigDict(extra="forbid")

    message_types: list[str] = Field(default_factory=list, max_length=50, examples=[["ADT^A0*", "ORU^R01"]])
    sending_applications: list[str] = Field(default_factory=list, max_length=50, description="MSH-3 (patterns)")
    sending_facilities: list[str] = Field(default_factory=list, max_length=50, description="MSH-4 (patterns)")
    versions: list[str] = Field(default_factory=list, max_length=20, description="MSH-12, e.g. 2.5.1 or 2.5*")

    @field_validator("message_types")
    @classmethod
    def _types(cls, values: list[str]) -> list[str]:
        return [v.upper() for v in _clean(values, _TYPE_PATTERN, "message type pattern (ADT^A0*, ORU^R01, *)")]

    @field_validator("sending_applications", "sending_facilities", "versions")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        return _clean(values, _NAME_PATTERN, "MSH value")


class TransformStep(BaseModel):
    """`{"set": PATH, "value": TEXT}`, `{"copy": PATH, "to": PATH}` or `{"delete": PATH}`."""

    model_config = ConfigDict(extra="forbid")

    set: str | None = Field(default=None, max_length=40)
    value: str | None = Field(default=None, max_length=2000)
    copy_: str | None = Field(default=None, alias="copy", max_length=40)
    to: str | None = Field(default=None, max_length=40)
    delete: str | None = Field(default=None, max_length=40)

    def raw(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)

    def compile(self) -> Operation:
        return Operation.parse(self.raw())


def _check_steps(steps: list[TransformStep]) -> list[TransformStep]:
    for number, step in enumerate(steps, start=1):
        try:
            step.compile()
        except PathError as exc:
            raise ValueError(f"transform step {number}: {exc}") from None
    return steps


class ChannelIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "ADT to the demo receiver",
                    "sources": ["api", "mllp"],
                    "filter": {"message_types": ["ADT^*"]},
                    "destinations": ["Demo HL7 receiver"],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    sources: list[Source] = Field(min_length=1, max_length=2)
    filter: ChannelFilter = Field(default_factory=ChannelFilter)
    transform: list[TransformStep] = Field(default_factory=list, max_length=50)
    destinations: list[str] = Field(min_length=1, max_length=20, description="HL7 integration names or ids")
    ordering: Ordering = "fifo"
    validation: Validation = "off"
    on_negative_ack: NegativeAck = Field(default="retry", description="for AE; AR is always final")

    _steps = field_validator("transform")(_check_steps)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name must not be blank")
        return value.strip()

    @field_validator("sources")
    @classmethod
    def _sources(cls, values: list[Source]) -> list[Source]:
        return list(dict.fromkeys(values))


class ChannelPatch(BaseModel):
    """Any subset of a channel's fields; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool | None = None
    sources: list[Source] | None = Field(default=None, min_length=1, max_length=2)
    filter: ChannelFilter | None = None
    transform: list[TransformStep] | None = Field(default=None, max_length=50)
    destinations: list[str] | None = Field(default=None, min_length=1, max_length=20)
    ordering: Ordering | None = None
    validation: Validation | None = None
    on_negative_ack: NegativeAck | None = None

    @field_validator("transform")
    @classmethod
    def _steps(cls, steps: list[TransformStep] | None) -> list[TransformStep] | None:
        return None if steps is None else _check_steps(steps)


class ChannelDestinationOut(BaseModel):
    id: uuid.UUID
    name: str


class ChannelOut(BaseModel):
    id: uuid.UUID
    name: str
    enabled: bool
    sources: list[str]
    filter: ChannelFilter
    transform: list[dict[str, Any]]
    destinations: list[str]  # current names, so a GET body can be PUT back
    destination_details: list[ChannelDestinationOut]
    ordering: str
    validation: str
    on_negative_ack: str
    created_at: datetime
    updated_at: datetime

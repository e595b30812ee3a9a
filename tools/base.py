"""The contract every connector package fulfils.

A connector (one per integration type: `jira`, `emr`, `hl7`) declares its config and credentials
models (their JSON schemas drive the UI forms), tests a connection step by step, builds LangChain
tools for one integration (and optionally tools spanning all of a user's integrations of its type),
and may ship a demo sandbox. The backend owns persistence and passes everything in; nothing here
knows about databases or HTTP servers of ours.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.errors import ConnectorError
from tools.net import OutboundPolicy

ToolAccess = Literal["read", "write", "destructive"]


# --------------------------------------------------------------------------- connection tests


class TestStep(BaseModel):
    """One check a person would make, in order: resolve, connect, TLS, authenticate, call, permissions."""

    __test__ = False  # not a pytest class

    name: str
    ok: bool
    latency_ms: float = 0.0
    detail: str = ""
    remediation: str | None = None


class ConnectionTestResult(BaseModel):
    """What `POST /integrations/{id}/test` returns (the contract's shape)."""

    ok: bool
    latency_ms: float
    steps: list[TestStep] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None


class StepRecorder:
    """Collects test steps; `with rec.step("connect") as s:` times a step and records its outcome.

    A `ConnectorError` raised inside a step marks it failed (with the error's remediation) and is
    re-raised so the caller can stop; `rec.result()` then builds the final report.
    """

    def __init__(self) -> None:
        self.steps: list[TestStep] = []
        self.details: dict[str, Any] = {}
        self._started = time.perf_counter()
        self.error: ConnectorError | None = None

    @contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[TestStep]:
        current = TestStep(name=name, ok=True, detail=detail)
        begin = time.perf_counter()
        try:
            yield current
        except ConnectorError as exc:
            current.ok = False
            current.detail = exc.message
            current.remediation = exc.remediation
            self.error = exc
            raise
        finally:
            current.latency_ms = round((time.perf_counter() - begin) * 1000, 2)
            self.steps.append(current)

    def result(self) -> ConnectionTestResult:
        failed = self.error
        return ConnectionTestResult(
            ok=failed is None and all(s.ok for s in self.steps),
            latency_ms=round((time.perf_counter() - self._started) * 1000, 2),
            steps=self.steps,
            details=self.details,
            error=failed.message if failed else None,
            error_code=failed.code if failed else None,
        )


# --------------------------------------------------------------------------- runtime context


@dataclass(frozen=True)
class IntegrationContext:
    """One configured integration, decrypted and validated, as a connector sees it."""

    id: str
    name: str
    integration_type: str
    config: BaseModel
    credentials: BaseModel | None
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)


@dataclass(frozen=True)
class AuditRecord:
    """An event the backend persists in its audit log (e.g. every EMR read)."""

    action: str
    outcome: Literal["success", "failure"]
    integration_id: str | None = None
    patient_id: str | None = None
    resource_types: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


AuditSink = Callable[[AuditRecord], Awaitable[None]]


class Hl7MessageStore(Protocol):
    """What HL7 tools need from the backend's message store (implemented in backend/hl7/store.py).

    Both calls act for `user_id` (the run's user, from `ToolServices`): they see and send only what
    that user may, never what the model claims.
    """

    async def recent(
        self,
        *,
        user_id: str | None,
        patient_id: str | None = None,
        message_type: str | None = None,
        since_hours: float | None = None,
        direction: str | None = None,
        limit: int = 20,
        status: str | None = None,
        control_id: str | None = None,
    ) -> list[dict[str, Any]]: ...

    async def message_status(
        self, *, user_id: str | None, message_id: str | None = None, control_id: str | None = None
    ) -> dict[str, Any]:
        """One message (by id, or the newest with that MSH-10) and every destination's state and ACK."""
        ...

    async def queue_status(self, *, user_id: str | None, destination: str | None = None) -> list[dict[str, Any]]:
        """The FIFO queues of the destinations the user may see: depth, blocked or not, why, the head and its
        last ACK."""
        ...

    async def send(self, integration_id: str, message: str, *, user_id: str | None) -> dict[str, Any]:
        """Record an outbound message, deliver it, and return its status (ack code, latency...)."""
        ...


@dataclass(frozen=True)
class ToolServices:
    """Services the backend lends to tools for one user's run. Every field may be absent in tests."""

    user_id: str | None = None
    audit: AuditSink | None = None
    hl7_store: Hl7MessageStore | None = None

    async def record(self, event: AuditRecord) -> None:
        if self.audit is not None:
            await self.audit(event)


# --------------------------------------------------------------------------- demo sandboxes


@dataclass(frozen=True)
class DemoIntegration:
    """An integration record demo mode creates (shared) so a new install has something to talk to."""

    name: str
    integration_type: str
    config: dict[str, Any]
    credentials: dict[str, Any] | None
    description: str = ""


class DemoSandbox(Protocol):
    """A loopback server a connector ships for the demo and the tests."""

    async def start(self) -> list[DemoIntegration]: ...

    async def stop(self) -> None: ...


# --------------------------------------------------------------------------- the connector


class Connector(ABC):
    """An integration type: its models, its connection test, its tools."""

    type_name: ClassVar[str]
    description: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    credentials_model: ClassVar[type[BaseModel]]

    def validate(
        self, config: dict[str, Any], credentials: dict[str, Any] | None
    ) -> tuple[BaseModel, BaseModel | None]:
        """Parse config and credentials into the models; raise pydantic `ValidationError` or
        `ConnectorConfigError` when they do not fit together (e.g. Cloud without an API token)."""
        parsed_config = self.config_model.model_validate(config)
        parsed_credentials = self.credentials_model.model_validate(credentials) if credentials is not None else None
        return parsed_config, parsed_credentials

    def outbound_urls(self, config: BaseModel) -> list[str]:
        """URLs or `host:port` targets this integration will call, for the SSRF guard."""
        return []

    @abstractmethod
    async def test_connection(self, ctx: IntegrationContext) -> ConnectionTestResult:
        """Check the integration step by step; never raises for an unreachable system."""

    @abstractmethod
    def build_tools(self, ctx: IntegrationContext, services: ToolServices) -> list[BaseTool]:
        """Tools for one integration, named with `tool_name(ctx.name, op)`."""

    def build_shared_tools(self, contexts: Sequence[IntegrationContext], services: ToolServices) -> list[BaseTool]:
        """Tools that span all of a user's integrations of this type (may be called with none)."""
        return []

    def demo_sandbox(self) -> DemoSandbox | None:
        """The sandbox demo mode starts for this type, if any."""
        return None

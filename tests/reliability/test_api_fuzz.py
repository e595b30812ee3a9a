"""Schemathesis against `/openapi.json`, as a signed-in user and as an admin: no 5xx, every response
fits its documented schema, every status it answers is documented, and validation matches the
document (a schema-valid request is not refused as invalid, a schema-violating one is not accepted).
Bounded for CI (`FUZZ_EXAMPLES`, default 12 per operation); `make fuzz` runs the long version."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.config import Settings
from tests.conftest import TestUser, serving

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# Operations that end the fuzzing identity itself: logging out revokes the refresh token the run
# does not use, which is harmless, but these would log the admin out of its own role or account.
SKIPPED = {("PATCH", "/api/v1/admin/users/{user_id}")}


def _fuzz_operation(operation: Any, base_url: str, headers: dict[str, str]) -> list[str]:
    """Run bounded examples of one operation; return what failed, described."""
    failures: list[str] = []

    # Where the document says the body is validated beyond its schema, a schema-valid body may be refused.
    beyond = operation.definition.raw.get("x-validated-beyond-schema")
    checks = [check for check in CHECKS if not (beyond and check is positive_data_acceptance)]

    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)

    @given(case=strategies.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes)))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=15)
        try:
            case.validate_response(response, checks=checks)
        except BaseExceptionGroup as exc:  # schemathesis reports every failed check of the case at once
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {exc!s:.300}")

    run()
    return failures


async def _fuzz(base_url: str, headers: dict[str, str], only_admin: bool) -> list[str]:
    schema = await asyncio.to_thread(schemathesis.openapi.from_url, f"{base_url}/openapi.json")
    # Text with NUL (U+0000) is refused with 422 `invalid_value` (PostgreSQL cannot store it; the
    # document's info.description says so, and tests/security/test_hostile_text.py covers it).
    schema.config.generation.update(allow_x00=False)
    # A body over a field's maxLength can also be over the route's byte limit: 413 is a refusal too.
    refusal = schema.config.checks.negative_data_rejection
    refusal.expected_statuses = [*refusal.expected_statuses, "413"]
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        if only_admin != operation.path.startswith(("/api/v1/admin", "/api/v1/audit")):
            continue
        failures += await asyncio.to_thread(_fuzz_operation, operation, base_url, headers)
    return failures


@pytest.mark.slow
@pytest.mark.timeout(600)  # ~1 minute on an idle machine; the default 120 s is too tight for a busy CI box
async def test_api_fuzz_finds_no_server_errors_or_schema_violations(
    settings: Settings, admin: TestUser, alice: TestUser, client: httpx.AsyncClient
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    async with serving(app) as base_url:
        failures = await _fuzz(base_url, alice.headers, only_admin=False)
        failures += await _fuzz(base_url, admin.headers, only_admin=True)
    assert not failures, "\n".join(failures[:30])

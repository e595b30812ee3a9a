"""Integrations, patients and HL7 messages through the client against live sandboxes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from switchboard_client import AsyncSwitchboard, NotFoundError, ValidationError
from switchboard_client.models import HL7Message

from tests.conftest import TestUser
from tests.sdk.conftest import ADT, in_thread, sync_client
from tests.tools.fhir.fhir_sandboxes import running_sandboxes
from tools.hl7.mllp import MllpListener


async def test_types_crud_and_connection_test(
    alice_client: AsyncSwitchboard, receiver: tuple[MllpListener, list[str]], allow_loopback: None
) -> None:
    types = {t.name: t for t in await alice_client.integrations.types()}
    assert {"jira", "emr", "hl7"} <= set(types) and "properties" in types["hl7"].config_schema

    created = await alice_client.integrations.create(
        "Lab LIS", "hl7", {"host": "127.0.0.1", "port": receiver[0].port}, description="the lab"
    )
    assert created.visibility == "private" and created.has_credentials is False and created.description == "the lab"
    assert (await alice_client.integrations.get(created.id)).name == "Lab LIS"

    result = await alice_client.integrations.test(created.id)
    assert result.ok and result.steps and all(step.ok for step in result.steps)

    renamed = await alice_client.integrations.update(created.id, name="Lab LIS 2")
    assert renamed.name == "Lab LIS 2" and renamed.config["port"] == receiver[0].port
    listed = await alice_client.integrations.list(integration_type="hl7")
    assert created.id in {i.id for i in listed.items}
    assert created.id in {i.id async for i in alice_client.integrations.iter()}

    await alice_client.integrations.delete(created.id)
    with pytest.raises(NotFoundError):
        await alice_client.integrations.get(created.id)
    with pytest.raises(ValidationError) as bad_type:
        await alice_client.integrations.create("Nope", "telex", {})
    assert bad_type.value.code


async def test_unreachable_system_is_a_failed_test_not_an_error(
    live_server: str, alice: TestUser, allow_loopback: None
) -> None:
    def scenario() -> None:
        with sync_client(live_server, alice) as client:
            dead = client.integrations.create("Dead LIS", "hl7", {"host": "127.0.0.1", "port": 9})
            result = client.integrations.test(dead.id)
            assert result.ok is False and result.error and any(not step.ok for step in result.steps)

    await in_thread(scenario)


async def test_emr_patient_search_and_records(alice_client: AsyncSwitchboard, allow_loopback: None) -> None:
    async with running_sandboxes() as sandboxes:
        spec = sandboxes.epic_spec
        emr = await alice_client.integrations.create(spec.name, "emr", spec.config, spec.credentials)
        assert emr.has_credentials and "client_secret" not in str(emr.config)
        found = await alice_client.integrations.search_patients(emr.id, name="quimby")
        assert found.total == 2 and {p.name for p in found.items} == {"Harold Quimby", "Edith Quimby"}
        second = await alice_client.integrations.search_patients(emr.id, family="Quimby", size=1, page=2)
        assert len(second.items) == 1 and second.pages == 2
        patient = await alice_client.integrations.patient(emr.id, "eHQ1001")
        assert (patient.name, patient.birth_date) == ("Harold Quimby", "1958-03-14")
        meds = await alice_client.integrations.patient_records(emr.id, "eHQ1001", "medications")
        assert meds.total == 2
        a1c = await alice_client.integrations.patient_records(
            emr.id, "eHQ1001", "observations", code="4548-4", since="2025-03-01"
        )
        assert [o["value"] for o in a1c.items] == ["7.6", "7.3"]


async def _delivered(client: AsyncSwitchboard, message_id: Any) -> HL7Message:
    for _ in range(200):
        message = await client.messages.get(message_id)
        if message.status in ("delivered", "failed", "partially_delivered"):
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"message still {message.status}")


async def test_hl7_submit_get_list_replay(
    alice_client: AsyncSwitchboard, lab_lis: dict[str, Any], receiver: tuple[MllpListener, list[str]]
) -> None:
    accepted = await alice_client.messages.submit(ADT, ["Lab LIS"], source="emr-system")
    assert accepted.status == "accepted"
    message = await _delivered(alice_client, accepted.message_id)
    assert message.status == "delivered" and message.control_id == "MSG777"
    assert [(d.system, d.status, d.ack_code) for d in message.destinations] == [("Lab LIS", "delivered", "AA")]
    assert len(receiver[1]) == 1

    listed = await alice_client.messages.list(control_id="MSG777")
    assert [m.message_id for m in listed.items] == [accepted.message_id]
    assert accepted.message_id in {m.message_id async for m in alice_client.messages.iter(message_type="ADT")}

    replayed = await alice_client.messages.replay(accepted.message_id)
    assert replayed.message_id == accepted.message_id
    for _ in range(200):
        if len(receiver[1]) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(receiver[1]) == 2

    with pytest.raises(ValidationError) as invalid:
        await alice_client.messages.submit("this is not HL7 at all", ["Lab LIS"])
    assert invalid.value.status_code == 400 and invalid.value.code == "invalid_hl7"

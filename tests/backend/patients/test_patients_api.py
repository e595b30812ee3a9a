"""The patient REST API over real sandboxes: per-integration reads, aggregation, visibility, errors, audit."""

from __future__ import annotations

import logging

import httpx
import pytest

from backend.config import Settings
from tests.conftest import TestUser, asgi_client, running_app
from tests.tools.fhir.fhir_sandboxes import Sandboxes

EPIC, CERNER = "Epic sandbox", "Cerner sandbox"


async def test_search_read_and_clinical_lists(client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]) -> None:
    base = f"/api/v1/integrations/{emrs[EPIC]}/patients"
    page = await client.post(f"{base}/search", headers=alice.headers, json={"criteria": {"name": "quimby"}})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 2 and {p["name"] for p in body["items"]} == {"Harold Quimby", "Edith Quimby"}
    first = body["items"][0]
    assert set(first) >= {"id", "name", "birth_date", "gender", "identifiers", "source"}
    assert first["source"] == EPIC and first["integration_id"] == emrs[EPIC]
    paged = await client.post(
        f"{base}/search?size=1&page=2", headers=alice.headers, json={"criteria": {"family": "Quimby"}}
    )
    assert paged.json()["total"] == 2 and len(paged.json()["items"]) == 1 and paged.json()["pages"] == 2

    patient = (await client.get(f"{base}/eHQ1001", headers=alice.headers)).json()
    assert (patient["name"], patient["birth_date"]) == ("Harold Quimby", "1958-03-14")

    vitals = await client.get(f"{base}/eHQ1001/observations?category=vital-signs&latest=true", headers=alice.headers)
    rows = {o["display"]: (o["value"], o["unit"]) for o in vitals.json()["items"]}
    assert rows["Heart rate"] == ("76", "/min") and rows["Blood pressure panel"] == ("139/86", "mm[Hg]")
    a1c = await client.get(f"{base}/eHQ1001/observations?code=4548-4&since=2025-03-01", headers=alice.headers)
    assert [(o["value"], o["effective"][:10]) for o in a1c.json()["items"]] == [
        ("7.6", "2025-05-25"),
        ("7.3", "2025-04-02"),
    ]

    meds = (await client.get(f"{base}/eHQ1001/medications", headers=alice.headers)).json()
    assert meds["total"] == 2
    allergies = (await client.get(f"{base}/eHQ1001/allergies", headers=alice.headers)).json()
    assert [a["substance"] for a in allergies["items"]] == ["Penicillin G"]
    conditions = (await client.get(f"{base}/eHQ1001/conditions", headers=alice.headers)).json()
    assert {c["condition"] for c in conditions["items"]} == {"Essential hypertension", "Type 2 diabetes mellitus"}
    recent = (await client.get(f"{base}/eHQ1001/conditions?since=2015-01-01", headers=alice.headers)).json()
    assert [c["condition"] for c in recent["items"]] == ["Type 2 diabetes mellitus"]
    encounters = (await client.get(f"{base}/eHQ1001/encounters", headers=alice.headers)).json()
    assert encounters["total"] == 6
    assert {(e["type"], e["status"], e["source"]) for e in encounters["items"]} == {("Office visit", "finished", EPIC)}
    lately = (await client.get(f"{base}/eHQ1001/encounters?since=2025-05-01", headers=alice.headers)).json()
    assert sorted(e["start"][:10] for e in lately["items"]) == ["2025-05-02", "2025-06-01"]


async def test_aggregate_by_search_and_by_identifiers(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]
) -> None:
    merged = await client.post(
        "/api/v1/patients/aggregate",
        headers=alice.headers,
        json={"search": {"name": "Harold Quimby", "birthdate": "1958-03-14"}},
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["status"] == "merged" and body["failed_sources"] == []
    assert [m["confidence"] for m in body["matches"]] == [1.0, 1.0]
    assert all(
        item["source"] for key in ("observations", "medications", "allergies", "conditions") for item in body[key]
    )
    assert any(c["subject"] == "Latex" for c in body["conflicts"])

    by_ids = await client.post(
        "/api/v1/patients/aggregate",
        headers=alice.headers,
        json={"patient_identifiers": {emrs[EPIC]: "eMV1002", emrs[CERNER]: "12740002"}},
    )
    assert by_ids.status_code == 200 and by_ids.json()["matches"][1]["confidence"] == 1.0


async def test_one_source_down_is_named_and_a_dead_integration_is_a_502(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str], sandboxes: Sandboxes
) -> None:
    await sandboxes.demo._servers[1].stop()
    partial = await client.post(
        "/api/v1/patients/aggregate", headers=alice.headers, json={"search": {"name": "Harold Quimby"}}
    )
    assert partial.status_code == 200
    assert [(f["source"], f["code"]) for f in partial.json()["failed_sources"]] == [(CERNER, "integration_unreachable")]
    dead = await client.get(f"/api/v1/integrations/{emrs[CERNER]}/patients/12740001", headers=alice.headers)
    assert dead.status_code == 502 and dead.json()["code"] == "integration_unreachable"


async def test_visibility_validation_and_upstream_errors(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser, emrs: dict[str, str]
) -> None:
    epic = emrs[EPIC]
    for method, path, body in (
        ("POST", f"/api/v1/integrations/{epic}/patients/search", {"criteria": {"name": "quimby"}}),
        ("GET", f"/api/v1/integrations/{epic}/patients/eHQ1001", None),
        ("GET", f"/api/v1/integrations/{epic}/patients/eHQ1001/allergies", None),
        ("POST", "/api/v1/patients/aggregate", {"patient_identifiers": {epic: "eHQ1001"}}),
    ):
        response = await client.request(method, path, json=body, headers=bob.headers)
        assert response.status_code == 404 and response.json()["code"] == "not_found", (path, response.text)
    none_for_bob = await client.post("/api/v1/patients/aggregate", headers=bob.headers, json={"search": {"name": "x"}})
    assert none_for_bob.status_code == 404 and none_for_bob.json()["code"] == "no_emr_integrations"

    unknown = await client.get(f"/api/v1/integrations/{epic}/patients/nobody", headers=alice.headers)
    assert unknown.status_code == 404 and "Patient/nobody is not known" in unknown.json()["detail"]
    bad_gender = await client.post(
        f"/api/v1/integrations/{epic}/patients/search", headers=alice.headers, json={"criteria": {"gender": "robot"}}
    )
    assert bad_gender.status_code == 422 and bad_gender.json()["code"] == "validation_error"
    for response in (
        await client.post(f"/api/v1/integrations/{epic}/patients/search", headers=alice.headers, json={"criteria": {}}),
        await client.get(f"/api/v1/integrations/{epic}/patients/bad id!", headers=alice.headers),
        await client.get(
            f"/api/v1/integrations/{epic}/patients/eHQ1001/observations?since=yesterday", headers=alice.headers
        ),
        await client.post("/api/v1/patients/aggregate", headers=alice.headers, json={}),
        await client.post(
            "/api/v1/patients/aggregate", headers=alice.headers, json={"patient_identifiers": {epic: "a b"}}
        ),
    ):
        assert response.status_code == 422 and response.json()["code"] == "validation_error", response.text
    unauthenticated = await client.get(f"/api/v1/integrations/{epic}/patients/eHQ1001")
    assert unauthenticated.status_code == 401


async def test_every_read_is_audited_without_patient_data(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, emrs: dict[str, str]
) -> None:
    epic = emrs[EPIC]
    await client.get(f"/api/v1/integrations/{epic}/patients/eHQ1001/allergies", headers=alice.headers)
    await client.get(f"/api/v1/integrations/{epic}/patients/nobody", headers=alice.headers)
    await client.post(
        f"/api/v1/integrations/{epic}/patients/search", headers=alice.headers, json={"criteria": {"name": "Quimby"}}
    )
    rows = (
        await client.get(f"/api/v1/audit?action=emr.*&integration_id={epic}&actor=alice&size=50", headers=admin.headers)
    ).json()["items"]
    summary = {(r["action"], r["patient_id"], r["outcome"], tuple(r["resource_types"])) for r in rows}
    assert summary == {
        ("emr.allergies", "eHQ1001", "success", ("AllergyIntolerance",)),
        ("emr.patient_read", "nobody", "failure", ("Patient",)),
        ("emr.patient_search", None, "success", ("Patient",)),
    }
    assert "Quimby" not in str(rows)  # search values identify a person: only the field names are kept
    by_patient = (await client.get("/api/v1/audit?patient_id=eHQ1001", headers=admin.headers)).json()
    assert by_patient["total"] == 1 and by_patient["items"][0]["actor"] == "alice"
    forbidden = await client.get("/api/v1/audit", headers=alice.headers)
    assert forbidden.status_code == 403


async def test_connection_test_through_the_api(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]
) -> None:
    result = (await client.post(f"/api/v1/integrations/{emrs[EPIC]}/test", headers=alice.headers)).json()
    assert result["ok"] is True and result["details"]["fhir_version"] == "4.0.1"
    assert [s["name"] for s in result["steps"]][:3] == ["resolve", "SMART discovery", "authenticate"]
    listed = (await client.get(f"/api/v1/integrations/{emrs[EPIC]}", headers=alice.headers)).json()
    assert listed["has_credentials"] is True and "private_key_pem" not in str(listed)


async def test_demo_mode_ships_two_overlapping_emr_sandboxes(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"demo_mode": True})) as demo, asgi_client(demo) as http:
        for username in ("demo_admin", "demo_user"):
            await http.post(
                "/api/v1/auth/register",
                json={"email": f"{username}@example.com", "username": username, "password": "correct horse"},
            )
        login = await http.post("/api/v1/auth/login", json={"username": "demo_user", "password": "correct horse"})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        items = (await http.get("/api/v1/integrations?integration_type=emr", headers=headers)).json()["items"]
        assert {(i["name"], i["config"]["auth"], i["visibility"]) for i in items} == {
            ("Epic sandbox", "smart_backend", "shared"),
            ("Cerner sandbox", "none", "shared"),
        }
        epic = next(i for i in items if i["name"] == "Epic sandbox")
        tested = (await http.post(f"/api/v1/integrations/{epic['id']}/test", headers=headers)).json()
        assert tested["ok"] is True, tested
        merged = await http.post(
            "/api/v1/patients/aggregate", headers=headers, json={"search": {"name": "Marisol Vantongeren"}}
        )
        assert merged.json()["status"] == "merged" and len(merged.json()["sources"]) == 2


async def test_patient_ids_stay_out_of_the_access_log(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await client.get(f"/api/v1/integrations/{emrs[EPIC]}/patients/eHQ1001/observations", headers=alice.headers)
        await client.get(f"/api/v1/integrations/{emrs[EPIC]}/patients/eHQ1001", headers=alice.headers)
        await client.post(
            f"/api/v1/integrations/{emrs[EPIC]}/patients/search",
            headers=alice.headers,
            json={"criteria": {"name": "Harold"}},
        )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/patients/{patient} 200" in logged and "/patients/search 200" in logged
    assert "eHQ1001" not in logged and "Harold" not in logged


async def test_api_keys_need_the_patients_read_scope(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]
) -> None:
    keys = {}
    for scope in ("integrations:read", "patients:read"):
        created = await client.post("/api/v1/api-keys", headers=alice.headers, json={"name": scope, "scopes": [scope]})
        assert created.status_code == 201, created.text
        keys[scope] = created.json()["key"]
    path = f"/api/v1/integrations/{emrs[CERNER]}/patients/search"
    denied = await client.post(
        path, headers={"X-API-Key": keys["integrations:read"]}, json={"criteria": {"name": "Walter"}}
    )
    assert denied.status_code == 403 and denied.json()["code"] == "insufficient_scope"
    allowed = await client.post(
        path, headers={"X-API-Key": keys["patients:read"]}, json={"criteria": {"name": "Walter"}}
    )
    assert allowed.status_code == 200 and allowed.json()["items"][0]["id"] == "12740006"

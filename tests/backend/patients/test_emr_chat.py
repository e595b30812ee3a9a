"""The agent (offline model) answering EMR questions from the sandboxes' data, through the chat API."""

from __future__ import annotations

import httpx

from tests.conftest import TestUser


async def _ask(client: httpx.AsyncClient, user: TestUser, sid: str, message: str) -> str:
    response = await client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"message": message}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["content"])


async def _session(client: httpx.AsyncClient, user: TestUser) -> str:
    created = await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=user.headers)
    sid = str(created.json()["session_id"])
    await _ask(client, user, sid, "hello")
    return sid


async def test_vitals_then_a_follow_up_about_allergies(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, emrs: dict[str, str]
) -> None:
    sid = await _session(client, alice)
    vitals = await _ask(client, alice, sid, "show vitals for Harold Quimby")
    assert "**Harold Quimby** — latest vital signs from **Epic sandbox**" in vitals
    assert "| Heart rate | 76 | /min | 2025-06-01 09:30 |" in vitals
    assert "| Blood pressure panel | 139/86 | mm[Hg] | 2025-06-01 09:30 |" in vitals
    assert "from **Cerner sandbox**" in vitals and "| Body weight | 93.4 | kg |" in vitals

    allergies = await _ask(client, alice, sid, "and his alergies?")
    assert "| Penicillin G | Hives | high |" in allergies and "Latex" in allergies
    assert "Cerner sandbox" in allergies

    audit = (await client.get("/api/v1/audit?action=emr.allergies&actor=alice", headers=admin.headers)).json()
    assert {r["patient_id"] for r in audit["items"]} == {"eHQ1001", "12740001"}


async def test_unknown_patient_is_never_invented(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]
) -> None:
    sid = await _session(client, alice)
    answer = await _ask(client, alice, sid, "what meds is Zebulon Nobody taking?")
    assert "patient matching **Zebulon Nobody**" in answer and "|" not in answer, answer
    assert "no patient found" in answer.lower() or "found no patient" in answer.lower(), answer


async def test_merge_across_emrs_and_find_by_birth_date(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]
) -> None:
    sid = await _session(client, alice)
    merged = await _ask(client, alice, sid, "merge Priya Lindqvist across both EMRs")
    assert "merged record" in merged, merged
    assert "| anchor | 100% | yes |" in merged and "| identifier | 100% | yes |" in merged
    assert "Conflicts between sources" in merged and "2 puffs every 6 hours as needed" in merged

    found = await _ask(client, alice, sid, "find pateint born 07/22/2001")
    # One row per person: both EMRs' records of Priya, with each one's id and MRN.
    row = next(line for line in found.splitlines() if line.startswith("|") and "Priya Lindqvist" in line)
    assert "2001-07-22" in row and "female" in row, found
    assert all(part in row for part in ("Epic sandbox: `ePL1005`, MRN E1005", "Cerner sandbox: `12740005`, MRN C77005"))

"""The EMR LangChain tools: metadata, compact results, audit through ToolServices, errors as text."""

from __future__ import annotations

import json

from tests.tools.fhir.fhir_sandboxes import Sandboxes
from tools.base import AuditRecord, ToolServices
from tools.fhir.connector import CONNECTOR
from tools.registry import get_connector
from tools.tooling import tool_policy


async def test_tools_metadata_results_and_audit(sandboxes: Sandboxes) -> None:
    assert get_connector("emr") is CONNECTOR
    audits: list[AuditRecord] = []

    async def sink(record: AuditRecord) -> None:
        audits.append(record)

    services = ToolServices(user_id="u1", audit=sink)
    tools = {t.name: t for t in CONNECTOR.build_tools(sandboxes.context(1), services)}
    assert set(tools) == {
        f"cerner_sandbox__{op}"
        for op in (
            "find_patient",
            "patient_summary",
            "vitals",
            "labs",
            "medications",
            "allergies",
            "conditions",
            "encounters",
        )
    }
    policies = [tool_policy(t) for t in tools.values()]
    assert all(p.phi and p.access == "read" and p.integration_type == "emr" for p in policies)

    found = json.loads(
        await tools["cerner_sandbox__find_patient"].ainvoke({"name": "Cornelius", "birthdate": "1945-09-05"})
    )
    assert [p["id"] for p in found["patients"]] == ["12740004"] and found["source"] == "Cerner sandbox"

    vitals = json.loads(await tools["cerner_sandbox__vitals"].ainvoke({"patient_id": "12740004"}))
    heart = next(o for o in vitals["observations"] if o["code"] == "8867-4")
    assert (heart["value"], heart["unit"], heart["effective"]) == ("64", "/min", "2025-06-01T09:30:00Z")
    assert "interpretation" not in heart  # empty fields are dropped for the model

    summary = json.loads(await tools["cerner_sandbox__patient_summary"].ainvoke({"patient_id": "12740004"}))
    assert {c["condition"] for c in summary["conditions"]} == {"Atrial fibrillation", "Heart failure"}
    assert summary["allergies"][0]["substance"] == "Iodinated contrast media"

    visits = json.loads(await tools["cerner_sandbox__encounters"].ainvoke({"patient_id": "12740004"}))
    assert visits["encounters"] and all(e["type"] == "Office visit" for e in visits["encounters"])
    assert {a.resource_types for a in audits if a.action == "emr.encounters"} == {("Encounter",)}

    none = json.loads(await tools["cerner_sandbox__allergies"].ainvoke({"patient_id": "12740006"}))
    assert none == {"source": "Cerner sandbox", "patient_id": "12740006"}  # empty lists are dropped
    missing = await tools["cerner_sandbox__patient_summary"].ainvoke({"patient_id": "nobody"})
    assert missing.startswith("Error [not_found]") and "Patient/nobody is not known" in missing
    failed = [a for a in audits if a.outcome == "failure"]
    assert [(a.action, a.patient_id, a.details["error_code"]) for a in failed] == [
        ("emr.patient_read", "nobody", "not_found")
    ]
    assert {a.action for a in audits} >= {"emr.patient_search", "emr.observations", "emr.patient_read"}

    shared = CONNECTOR.build_shared_tools(sandboxes.contexts, services)
    assert [t.name for t in shared] == ["emr_aggregate"] and CONNECTOR.build_shared_tools([], services) == []
    merged = json.loads(await shared[0].ainvoke({"name": "Priya Lindqvist", "birthdate": "2001-07-22"}))
    assert merged["status"] == "merged" and len(merged["sources"]) == 2 and merged["conflicts"]

"""How the offline model's EMR skill reads a request: names, birth dates and topics, typos included."""

from __future__ import annotations

import pytest

from agents.offline.skill import normalize
from agents.offline.skills.fhir import birthdate_of, name_of, topics_of


@pytest.mark.parametrize(
    ("text", "name", "birthdate", "topic"),
    [
        ("show vitals for Harold Quimby", "Harold Quimby", None, "vitals"),
        ("show vitals for harold quimby please", "Harold Quimby", None, "vitals"),
        ("Harold Quimby vitlas", "Harold Quimby", None, "vitals"),
        ("find pateint Marisol Vantongeren born 1984-11-02", "Marisol Vantongeren", "1984-11-02", "find"),
        ("what meds is Priya Lindqvist taking?", "Priya Lindqvist", None, "medications"),
        ("labz for edith quimby 08/09/1960", "Edith Quimby", "1960-08-09", "labs"),
        ("merge Harold Quimby across EMRs", "Harold Quimby", None, "aggregate"),
        ("What are the alergies of Cornelius Abernathy-Pike?", "Cornelius Abernathy-Pike", None, "allergies"),
        ("and his allergies?", None, None, "allergies"),
        ("her problem list", None, None, "conditions"),
        ("blood pressure for Walter Quimby", "Walter Quimby", None, "vitals"),
        ("Pull up Marisol Vantongeren's allergies", "Marisol Vantongeren", None, "allergies"),
        ("show me harold quimby's conditions", "Harold Quimby", None, "conditions"),
    ],
)
def test_reads_name_birthdate_and_topic(text: str, name: str | None, birthdate: str | None, topic: str) -> None:
    normalized = normalize(text)
    assert name_of(text) == name
    assert birthdate_of(normalized) == birthdate
    assert topics_of(normalized)[0] == topic

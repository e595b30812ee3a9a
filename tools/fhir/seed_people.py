"""The synthetic people behind the FHIR sandboxes (documented in `tools.fhir.seed`): invented names,
demographics, per-EMR records and the per-visit tables the generated observations come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

Dataset = Literal["epic", "cerner"]
ENTERPRISE_SYSTEM = "urn:oid:2.16.840.1.113883.3.9999.1"
MRN_SYSTEMS = {"epic": "urn:oid:2.16.840.1.113883.3.9999.2", "cerner": "urn:oid:2.16.840.1.113883.3.9999.3"}
LOINC, SNOMED, RXNORM = "http://loinc.org", "http://snomed.info/sct", "http://www.nlm.nih.gov/research/umls/rxnorm"

VISITS = [datetime(2025, 6, 1, 9, 30, tzinfo=UTC) - timedelta(days=d) for d in (150, 120, 90, 60, 30, 0)]
LAB_DRAWS = [datetime(2025, 5, 25, 7, 15, tzinfo=UTC) - timedelta(days=d) for d in (173, 113, 53, 0)]

# code, display, unit, per-visit offsets
VITAL_SIGNS: list[tuple[str, str, str, list[float]]] = [
    ("8867-4", "Heart rate", "/min", [0, 2, -1, 3, 1, -2]),
    ("8310-5", "Body temperature", "Cel", [0, 0.1, -0.1, 0.2, 0, 0.1]),
    ("9279-1", "Respiratory rate", "/min", [0, 1, 0, -1, 1, 0]),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", [0, -1, 0, -1, 0, 0]),
    ("29463-7", "Body weight", "kg", [0, 0.3, 0.6, 0.4, 0.8, 1.0]),
]
BP_OFFSETS = ([0, 4, -2, 6, 2, -3], [0, 2, -1, 3, 1, -2])
LAB_TESTS: list[tuple[str, str, str, list[float]]] = [
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", [0, 6, -4, 2]),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", [0, 0.1, -0.1, 0.2]),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", [0, 0.1, 0, 0]),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", [0, -0.2, 0.1, 0.1]),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", [0, 0.2, -0.1, 0]),
]


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    dosage: str


@dataclass(frozen=True)
class Allergy:
    code: str
    system: str
    substance: str
    criticality: str
    reaction: str


@dataclass(frozen=True)
class Problem:
    code: str
    name: str
    onset: str


@dataclass(frozen=True)
class Record:
    """One person as one EMR knows them."""

    id: str
    mrn: str
    given: str
    family: str
    enterprise_id: str | None = None
    postal_code: str = "00000"
    phone: str = "555-0100"
    medications: tuple[Drug, ...] = ()
    allergies: tuple[Allergy, ...] = ()
    conditions: tuple[Problem, ...] = ()
    visits: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    labs: tuple[int, ...] = (0, 1, 2, 3)
    overrides: dict[tuple[str, int], float] = field(default_factory=dict)  # (LOINC, visit) -> value


@dataclass(frozen=True)
class Person:
    key: str
    birth_date: str
    gender: str
    vitals: tuple[float, ...]  # hr, temp, rr, spo2, weight, systolic, diastolic
    labs: tuple[float, ...]  # glucose, hba1c, creatinine, potassium, hemoglobin
    records: dict[str, Record]


LISINOPRIL = Drug("314076", "Lisinopril 10 MG Oral Tablet", "1 tablet by mouth daily")
METFORMIN = Drug("861007", "Metformin hydrochloride 500 MG Oral Tablet", "1 tablet by mouth twice daily")
PENICILLIN = Allergy("7980", RXNORM, "Penicillin G", "high", "Hives")
ASPIRIN_HIGH = Allergy("1191", RXNORM, "Aspirin", "high", "Wheezing")
HYPERTENSION = Problem("59621000", "Essential hypertension", "2012-05-10")
DIABETES = Problem("44054006", "Type 2 diabetes mellitus", "2016-09-21")
HYPOTHYROID = Problem("40930008", "Hypothyroidism", "2019-02-14")
ASTHMA = Problem("195967001", "Asthma", "2008-03-01")
LEVOTHYROXINE = Drug("966222", "Levothyroxine sodium 0.05 MG Oral Tablet", "1 tablet by mouth daily before breakfast")
SULFA = Allergy("387406002", SNOMED, "Sulfonamide", "low", "Rash")
TAIL_VISITS, TAIL_LABS = (3, 4, 5), (2, 3)  # what the Cerner copy of a shared person holds

PEOPLE: tuple[Person, ...] = (
    Person(
        "harold",
        "1958-03-14",
        "male",
        (78, 36.8, 16, 96, 92.0, 142, 88),
        (148, 7.4, 1.1, 4.3, 14.1),
        {
            "epic": Record(
                "eHQ1001",
                "E1001",
                "Harold",
                "Quimby",
                "900001",
                "02139",
                "555-0101",
                (LISINOPRIL, METFORMIN),
                (PENICILLIN,),
                (HYPERTENSION, DIABETES),
            ),
            "cerner": Record(
                "12740001",
                "C77001",
                "Harold",
                "Quimby",
                "900001",
                "02139",
                "555-0101",
                (LISINOPRIL, METFORMIN, Drug("617310", "Atorvastatin 20 MG Oral Tablet", "1 tablet at bedtime")),
                (PENICILLIN, Allergy("111088007", SNOMED, "Latex", "low", "Contact dermatitis")),
                (HYPERTENSION, DIABETES, Problem("55822004", "Hyperlipidemia", "2021-01-11")),
                overrides={("29463-7", 5): 93.4},
                visits=TAIL_VISITS,
                labs=TAIL_LABS,
            ),
        },
    ),
    Person(
        "marisol",
        "1984-11-02",
        "female",
        (68, 36.7, 14, 99, 61.0, 118, 76),
        (92, 5.3, 0.8, 4.0, 12.9),
        {
            "epic": Record(
                "eMV1002",
                "E1002",
                "Marisol",
                "Vantongeren",
                None,
                "60614",
                "555-0102",
                (LEVOTHYROXINE,),
                (SULFA,),
                (HYPOTHYROID,),
            ),
            "cerner": Record(
                "12740002",
                "C77002",
                "Marisol",
                "Vantongeren",
                None,
                "60614",
                "555-0102",
                (LEVOTHYROXINE,),
                (SULFA,),
                (HYPOTHYROID,),
                visits=TAIL_VISITS,
                labs=TAIL_LABS,
            ),
        },
    ),
    Person(
        "theodore",
        "1971-06-30",
        "male",
        (74, 36.9, 16, 97, 88.0, 136, 86),
        (101, 5.7, 1.0, 4.4, 15.0),
        {
            "epic": Record(
                "eTB1003",
                "E1003",
                "Theodore",
                "Brackwell",
                None,
                "94110",
                "555-0103",
                (Drug("197361", "Amlodipine 5 MG Oral Tablet", "1 tablet by mouth daily"),),
                (Allergy("256349002", SNOMED, "Peanut", "high", "Anaphylaxis"),),
                (HYPERTENSION,),
            ),
            "cerner": Record(
                "12740003",
                "C77003",
                "Ted",
                "Brackwell",
                None,
                "94016",
                "555-0199",
                visits=TAIL_VISITS,
                labs=TAIL_LABS,
            ),
        },
    ),
    Person(
        "odalys",
        "1992-01-19",
        "female",
        (72, 36.6, 14, 99, 57.5, 112, 70),
        (88, 5.1, 0.7, 3.9, 13.2),
        {
            "epic": Record(
                "eOF1004",
                "E1004",
                "Odalys",
                "Fenwick",
                None,
                "10027",
                "555-0104",
                (Drug("312940", "Sertraline 50 MG Oral Tablet", "1 tablet by mouth daily"),),
                (),
                (Problem("35489007", "Depressive disorder", "2020-10-05"),),
            ),
        },
    ),
    Person(
        "priya",
        "2001-07-22",
        "female",
        (84, 36.8, 18, 97, 54.0, 110, 68),
        (90, 5.2, 0.7, 4.1, 12.6),
        {
            "epic": Record(
                "ePL1005",
                "E1005",
                "Priya",
                "Lindqvist",
                "900005",
                "98103",
                "555-0105",
                (Drug("745679", "Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "2 puffs every 4 hours as needed"),),
                (ASPIRIN_HIGH,),
                (ASTHMA,),
            ),
            "cerner": Record(
                "12740005",
                "C77005",
                "Priya",
                "Lindqvist",
                "900005",
                "98103",
                "555-0105",
                (Drug("745679", "Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "2 puffs every 6 hours as needed"),),
                (Allergy("1191", RXNORM, "Aspirin", "low", "Wheezing"),),
                (ASTHMA,),
                visits=TAIL_VISITS,
                labs=TAIL_LABS,
            ),
        },
    ),
    Person(
        "edith",
        "1960-08-09",
        "female",
        (70, 36.5, 15, 97, 63.0, 128, 80),
        (99, 5.6, 0.9, 4.2, 12.4),
        {
            "epic": Record(
                "eEQ1006",
                "E1006",
                "Edith",
                "Quimby",
                None,
                "02139",
                "555-0106",
                (Drug("904419", "Alendronate 70 MG Oral Tablet", "1 tablet by mouth weekly"),),
                (Allergy("2670", RXNORM, "Codeine", "low", "Nausea"),),
                (Problem("64859006", "Osteoporosis", "2018-07-30"),),
            ),
        },
    ),
    Person(
        "cornelius",
        "1945-09-05",
        "male",
        (66, 36.4, 18, 94, 79.0, 124, 74),
        (110, 6.1, 1.6, 4.8, 11.8),
        {
            "cerner": Record(
                "12740004",
                "C77004",
                "Cornelius",
                "Abernathy-Pike",
                None,
                "33139",
                "555-0107",
                (
                    Drug("855332", "Warfarin sodium 5 MG Oral Tablet", "1 tablet by mouth daily"),
                    Drug("310429", "Furosemide 40 MG Oral Tablet", "1 tablet by mouth every morning"),
                ),
                (Allergy("293637006", SNOMED, "Iodinated contrast media", "high", "Urticaria"),),
                (
                    Problem("49436004", "Atrial fibrillation", "2015-11-02"),
                    Problem("84114007", "Heart failure", "2019-06-17"),
                ),
            ),
        },
    ),
    Person(
        "walter",
        "2015-04-27",
        "male",
        (92, 36.9, 20, 99, 31.0, 102, 62),
        (85, 5.0, 0.5, 4.2, 12.8),
        {
            "cerner": Record("12740006", "C77006", "Walter", "Quimby", None, "02139", "555-0108"),
        },
    ),
)

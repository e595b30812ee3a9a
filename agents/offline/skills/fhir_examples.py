"""What EMR requests sound like, per operation, for intent by meaning (clinical, lay, terse, dictated).

Names in them are placeholders of the shape people type; the router never copies them anywhere.
"""

from __future__ import annotations

from agents.offline.understanding import Operation

OPERATIONS: tuple[Operation, ...] = (
    Operation("emr.find", "look up a patient in the EMR", (
        "find the patient", "look up a patient by name", "search the emr for a patient", "pull up the patient",
        "is there a patient called", "find patients born on this date", "look up the patient with this mrn",
        "who is this patient", "open the chart of the patient", "bring up mrs smith", "search for patients named",
    )),
    Operation("emr.vitals", "show a patient's vital signs", (
        "show the vitals", "what's his blood pressure", "latest bp and pulse", "her heart rate", "is he febrile",
        "temperature of the patient", "oxygen saturation", "how much does she weigh", "last set of obs",
        "what are her sats", "respiratory rate", "vital signs from the last visit", "is his blood pressure high",
        "look up john smith's blood pressure", "get mary's vitals", "check the patient's pulse",
    )),
    Operation("emr.labs", "show a patient's lab results", (
        "latest labs", "blood work results", "what's her a1c", "blood sugar", "glucose level", "kidney function",
        "creatinine", "potassium", "hemoglobin", "lab results from last month", "has his a1c gone up",
        "look up john smith's a1c", "what is mary jones's glucose", "check the patient's potassium",
        "find the latest hba1c for the patient", "get her lab values",
        "are the labs normal", "any abnormal results", "chemistry panel",
    )),
    Operation("emr.medications", "show a patient's medications", (
        "what medications is she on", "current meds", "prescriptions", "what is he taking", "list the drugs",
        "is he on a blood thinner", "her pills", "what dose of the inhaler", "medication list",
        "look up john smith's medications", "get mary's prescriptions",
    )),
    Operation("emr.allergies", "show a patient's allergies", (
        "allergies", "is he allergic to penicillin", "any drug allergies", "what reactions does she have",
        "does the patient have a latex allergy", "is she allergic to anything", "intolerances",
        "check john smith's allergies", "look up mary's allergies",
    )),
    Operation("emr.conditions", "show a patient's conditions", (
        "problem list", "diagnoses", "medical history", "does he have diabetes", "what conditions does she have",
        "is he diabetic", "past medical history", "chronic problems", "any history of heart disease",
    )),
    Operation("emr.encounters", "show a patient's visits and admissions", (
        "when was she last seen", "recent visits", "admissions", "has he been hospitalized", "encounters",
        "appointments", "hospital stays", "when did he last come in", "visit history",
    )),
    Operation("emr.summary", "summarise a patient's chart", (
        "summary of the chart", "give me an overview of the patient", "everything about the patient",
        "patient summary", "the whole record", "brief me on this patient",
    )),
    Operation("emr.aggregate", "merge a patient's record across EMRs", (
        "merge the records across both emrs", "combine epic and cerner", "any conflicts between the systems",
        "consolidated record", "do the emrs disagree", "reconcile the charts", "which emrs have the patient",
        "does cerner have a record for her", "is he in epic",
    )),
)  # fmt: skip

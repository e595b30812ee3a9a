"""The identifiers the demo sandboxes hold, read from the connectors' seed data when installed.

An answer that names one of these patients or ids without a tool having returned it took it from
somewhere other than the user's systems; the id shape also catches invented MRNs (`E1099`).
"""

from __future__ import annotations

import importlib
import re

from .grounding import Vocabulary

# The FHIR sandboxes' ids and MRNs: Epic `eHQ1001` / `E1001`, Cerner `12740001` / `C77001`.
PATIENT_ID_SHAPE = re.compile(r"(?<![\w-])(e[A-Z]{2}\d{4}|E\d{4}|1274\d{4}|C77\d{3})(?![\w-])")


def sandbox_vocabulary() -> Vocabulary:
    try:
        seed = importlib.import_module("tools.fhir.seed")
    except ModuleNotFoundError:  # no EMR connector in this install: issue keys are still checked
        return Vocabulary()
    names: set[str] = set()
    ids: set[str] = set()
    for person in seed.PEOPLE:
        for record in person.records.values():
            names.add(f"{record.given} {record.family}")
            ids.update((record.id, record.mrn))
    return Vocabulary(patient_names=tuple(sorted(names)), patient_ids=tuple(sorted(ids)), id_pattern=PATIENT_ID_SHAPE)

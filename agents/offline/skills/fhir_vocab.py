"""The words people use for EMR data, clinical and lay: topics, the measurements inside vitals and labs
(with their LOINC codes and typical adult reference ranges), and the everyday names of conditions,
drug classes and allergens, so that "is he on a blood thinner?" finds warfarin.

Reference ranges are general adult ranges for orientation (the answer says so); a range the EMR sends
with the value would take precedence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOPIC_WORDS: dict[str, str] = {
    "aggregate": r"across|aggregat\w*|merge\w*|merging|combined?|combining|consolidat\w*|unified|reconcil\w*|"
    r"everywhere|all (the )?(emrs?|systems|sources|records)|both (emrs?|systems|records|sources)|conflicts?|"
    r"discrepanc\w*|disagree\w*|differ\w*",
    "summary": r"summary|summari[sz]e|overview|chart|record|records|everything|full picture|rundown|snapshot|"
    r"profile|details|info|information|file|tell me about|tell me everything|what do (we|you) know about|"
    r"background on|rundown on",
    "vitals": r"vitals?|vital signs?|obs|blood pressure|bp|heart ?rate|pulse|hr|heart ?beat|bpm|temperature|temp|"
    r"fever|febrile|weight|weigh|weighs|spo2|sp02|o2|oxygen|sats?|saturation|pulse ox|oximetry|respiratory|"
    r"respirations?|resp rate|breathing rate|rr|bmi",
    "labs": r"labs?|laborator\w*|lab results?|lab work|bloodwork|blood work|blood tests?|tests?|results|"
    r"glucose|sugars?|blood sugar|a1c|hba1c|glycated|creatinine|kidney|kidneys|renal|potassium|hemoglobin|"
    r"haemoglobin|hgb|hb|anemi\w*|anaemi\w*|blood count|chem\w*|panel|bmp|metabolic",
    "medications": r"medications?|medicines?|meds|drugs?|prescriptions?|prescribed|rx|taking|takes|pills?|"
    r"tablets?|dos(e|es|age|ing)|regimen|inhalers?|blood thinners?|anticoagulants?|statins?|insulin|"
    r"antidepressants?|diuretics?|water pills?|on any",
    "allergies": r"allerg\w*|intoleran\w*|reactions?|react|sensitivit\w*|adverse",
    "conditions": r"conditions?|problems?|problem list|diagnos[ie]s|diagnosed|dx|diseases?|illness\w*|history|"
    r"hx|pmh|comorbidit\w*|issues|health issues|medical history|suffer\w*|wrong with|matter with",
    "encounters": r"encounters?|visits?|visited|admissions?|admitted|admit|hospitali[sz]\w*|stays?|appointments?|"
    r"appts?|seen|last seen|came in|come in|been in|check[- ]?ups?|inpatient|outpatient|er visits?",
    "find": r"find|search|look ?up|lookup|who is|patients? named|is there a patient|pull up|open|locate|"
    r"bring up|get me|last name|surname|family name|first name|given name|which patients|any patients|"
    r"patients (called|with|named)",
}
TOPICS = [(topic, re.compile(rf"\b({words})\b")) for topic, words in TOPIC_WORDS.items()]


@dataclass(frozen=True, slots=True)
class Measure:
    """One kind of vital sign or lab value, as the EMR codes it and as people say it."""

    key: str
    label: str  # how the answer names it
    topic: str  # "vitals" or "labs"
    codes: tuple[str, ...]  # LOINC
    words: str  # regex alternatives
    low: float | None = None  # typical adult range (None = no range worth quoting)
    high: float | None = None
    by_sex: tuple[tuple[str, float, float], ...] = ()  # ("male", low, high) overrides


MEASURES: tuple[Measure, ...] = (
    Measure("bp", "blood pressure", "vitals", ("85354-9", "8480-6", "8462-4"), r"blood pressure|bp|pressures?"),
    Measure("hr", "heart rate", "vitals", ("8867-4",), r"heart ?rate|pulse|hr|heart ?beat|bpm", 60, 100),
    Measure("temp", "temperature", "vitals", ("8310-5",), r"temperature|temp|fever|febrile", 36.1, 37.2),
    Measure(
        "rr", "respiratory rate", "vitals", ("9279-1",), r"respiratory( rate)?|respirations?|resp rate|breathing|rr",
        12, 20,
    ),
    Measure(
        "spo2", "oxygen saturation", "vitals", ("59408-5", "2708-6"),
        r"spo2|sp02|o2( sat\w*)?|oxygen( level| sat\w*)?|sats?|saturation|pulse ox|oximetry", 95, 100,
    ),
    Measure("weight", "weight", "vitals", ("29463-7",), r"weight|weigh|weighs|heavy|kg|kilos?"),
    Measure("glucose", "glucose", "labs", ("2345-7",), r"glucose|blood sugars?|sugars?|bg", 70, 99),
    Measure("a1c", "HbA1c", "labs", ("4548-4",), r"a1c|hba1c|hemoglobin a1c|haemoglobin a1c|glycated", 4.0, 5.6),
    Measure(
        "creatinine", "creatinine", "labs", ("2160-0",), r"creatinine|kidneys?( function)?|renal( function)?|cr",
        0.6, 1.3, (("male", 0.7, 1.3), ("female", 0.6, 1.1)),
    ),
    Measure("potassium", "potassium", "labs", ("2823-3",), r"potassium|k\+?", 3.5, 5.1),
    Measure(
        "hemoglobin", "hemoglobin", "labs", ("718-7",),
        r"hemoglobin|haemoglobin|hgb|hb|anemi\w*|anaemi\w*|blood count", 12.0, 17.5,
        (("male", 13.5, 17.5), ("female", 12.0, 15.5)),
    ),
)  # fmt: skip
_MEASURE_PATTERNS = [(m, re.compile(rf"\b({m.words})\b")) for m in MEASURES]

# Everyday names → words that appear in the EMR's condition, drug or substance names.
CONDITION_TERMS: dict[str, tuple[str, ...]] = {
    r"diabet\w*|sugar diabetes|t2dm|dm2?": ("diabetes",),
    r"high blood pressure|hypertensi\w*|htn|blood pressure problems?": ("hypertension",),
    r"a-?fib|atrial fibrillation|irregular heart ?beat|arrhythmi\w*": ("atrial fibrillation",),
    r"heart failure|chf|hf|congestive": ("heart failure",),
    r"depress\w*|low mood|mdd": ("depression", "depressi"),
    r"(hypo)?thyroid\w*|underactive thyroid": ("hypothyroidism", "hypothyroid", "thyroid"),
    r"asthma\w*|wheez\w*": ("asthma",),
    r"osteoporo\w*|brittle bones|bone loss": ("osteoporosis",),
    r"(high )?cholesterol|hyperlipid\w*|lipids?|dyslipid\w*": ("hyperlipidemia", "cholesterol", "dyslipid"),
    r"copd|emphysema": ("copd", "chronic obstructive", "emphysema"),
    r"kidney disease|ckd|renal failure": ("kidney disease", "kidney", "renal"),
    r"cancer|tumou?r|malignan\w*": ("cancer", "malignan", "neoplasm", "carcinoma"),
}
DRUG_CLASSES: dict[str, tuple[str, ...]] = {
    r"blood thinners?|anticoagulants?|anti-coagulants?": (
        "warfarin",
        "apixaban",
        "rivaroxaban",
        "dabigatran",
        "heparin",
        "enoxaparin",
    ),
    r"statins?|cholesterol (meds?|medications?|pills?|drugs?)": (
        "atorvastatin",
        "simvastatin",
        "rosuvastatin",
        "pravastatin",
    ),
    r"inhalers?|puffers?": ("albuterol", "inhaler", "salbutamol", "fluticasone", "budesonide"),
    r"water pills?|diuretics?": ("furosemide", "hydrochlorothiazide", "spironolactone", "torsemide"),
    r"antidepressants?|ssris?": ("sertraline", "fluoxetine", "citalopram", "escitalopram", "paroxetine"),
    r"blood pressure (meds?|medications?|pills?|drugs?)|antihypertensives?": (
        "lisinopril",
        "amlodipine",
        "losartan",
        "metoprolol",
        "hydrochlorothiazide",
    ),
    r"diabetes (meds?|medications?|pills?|drugs?)|insulin": ("metformin", "insulin", "glipizide"),
    r"thyroid (meds?|medications?|pills?|hormone)": ("levothyroxine",),
    r"bisphosphonates?|bone (meds?|medications?)": ("alendronate",),
}
ALLERGEN_CLASSES: dict[str, tuple[str, ...]] = {
    r"penicillins?|amoxicillin|ampicillin|pcn": ("penicillin", "amoxicillin", "ampicillin"),
    r"sulfa|sulpha|sulfonamides?|sulphonamides?": ("sulfonamide", "sulfa", "sulfamethoxazole"),
    r"nsaids?|aspirin|asa|ibuprofen": ("aspirin", "ibuprofen", "naproxen"),
    r"(iodine|iodinated )?contrast( dye| media)?|iodine": ("contrast", "iodin"),
    r"peanuts?|nuts?|tree nuts?": ("peanut", "nut"),
    r"latex|rubber": ("latex",),
    r"codeine|opioids?|opiates?|morphine": ("codeine", "morphine", "oxycodone", "opioid"),
}
_CONDITIONS = [(re.compile(rf"\b({words})\b"), needles) for words, needles in CONDITION_TERMS.items()]
_DRUGS = [(re.compile(rf"\b({words})\b"), needles) for words, needles in DRUG_CLASSES.items()]
_ALLERGENS = [(re.compile(rf"\b({words})\b"), needles) for words, needles in ALLERGEN_CLASSES.items()]


def topics_of(text: str) -> list[str]:
    """Every topic the (lower-case) text talks about, in `TOPIC_WORDS` order."""
    return [topic for topic, pattern in TOPICS if pattern.search(text)]


def measures_of(text: str) -> list[Measure]:
    """The specific vital signs or lab values asked about ("bp and pulse" → both)."""
    return [m for m, pattern in _MEASURE_PATTERNS if pattern.search(text)]


@dataclass(frozen=True, slots=True)
class Term:
    """A thing the user asks whether the patient has: what they said and what to look for in the record."""

    said: str
    needles: tuple[str, ...]
    topic: str = ""  # "allergies", "medications" or "conditions"


def _terms(text: str, table: list[tuple[re.Pattern[str], tuple[str, ...]]], *, named: bool = False) -> list[Term]:
    """Terms the text mentions; `named` says them by the record's word ("diabetic" → "diabetes")."""
    return [
        Term(needles[0] if named else m.group(0), needles) for pattern, needles in table if (m := pattern.search(text))
    ]


def condition_terms(text: str) -> list[Term]:
    return _terms(text, _CONDITIONS, named=True)


def drug_terms(text: str) -> list[Term]:
    return _terms(text, _DRUGS)


def allergen_terms(text: str) -> list[Term]:
    return _terms(text, _ALLERGENS)


_EVERY_WORD = re.compile(
    "|".join(
        [rf"\b(?:{words})\b" for words in TOPIC_WORDS.values()]
        + [rf"\b(?:{m.words})\b" for m in MEASURES]
        + [rf"\b(?:{words})\b" for words in [*CONDITION_TERMS, *DRUG_CLASSES, *ALLERGEN_CLASSES]]
    ),
    re.IGNORECASE,
)


def strip_vocabulary(text: str) -> str:
    """`text` with every span the vocabulary knows replaced by a break ("|"): what is left may be a name."""
    return _EVERY_WORD.sub(" | ", text)

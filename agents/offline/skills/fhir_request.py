"""Reading an EMR request out of the user's own words: what they ask about (topics, measurements,
yes/no terms, trend, range), in which EMRs, and about whom (a name, an MRN, a birth date, or a reference
to a patient already in the conversation). Corrections ("no, I meant Cerner", "what about Edith?")
keep the earlier request and change only what the new words give."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache

from agents.offline.skill import Turn, normalize
from agents.offline.skills.fhir_answers import RANGE_QUESTION, TREND, YES_NO
from agents.offline.skills.fhir_names import NameQuery, edits, name_query
from agents.offline.skills.fhir_vocab import (
    Measure,
    Term,
    allergen_terms,
    condition_terms,
    drug_terms,
    measures_of,
    topics_of,
)
from agents.offline.understanding.pasted import split_pasted

READ_TOPICS = ("allergies", "medications", "conditions", "encounters", "vitals", "labs", "summary")
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b|\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_MRN = re.compile(
    r"\b(?:mrn|medical record( number)?|identifier|patient id|chart number)\s*(?:is|of|:|#|no\.?|number)?\s*"
    r"([A-Za-z]{0,3}\d[\w-]{1,30})\b",
    re.I,
)
_BARE_MRN = re.compile(r"\b([A-Z]{1,3}\d{3,10})\b")
_PRESENCE = re.compile(
    r"\b(which (emrs?|systems?|sources?|ehrs?)|where (is|are|does)|in which|on which|does \w+ (have|know|hold)|"
    r"(have|has|hold|holds|know|knows) (a |any )?(record|chart|file|entry)|exists?|on file (in|at|with)|"
    r"registered (in|at|with)|known to|a record (for|of) )"
)
_CORRECTION = re.compile(
    r"^(no|nope|sorry|actually|wait|oops|i meant|i mean|not that|rather|instead|what about|how about|and|also|"
    r"same for|try|check|now)\b|\b(instead|i meant|i mean|rather than|not \w+,)\b"
)
_ORDINAL = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
    "last": -1, "latter": -1, "former": 0,
}  # fmt: skip
_ORDINAL_WORD = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|last|latter|former)\b(?! (visit|time))")
_NUMBERED = re.compile(r"(?:#|\bnumber |\bno\. ?)(\d)\b")
_YEAR = re.compile(r"\b(?:born|dob|birth)\b[^0-9]{0,12}(\d{4})\b|\bfrom (19|20)(\d{2})\b|\bthe (\d{4}) one\b")
_SEX_REF = re.compile(r"\b(the )?(woman|female|lady|girl|man|male|gentleman|boy|guy)\b")
_AGE_REF = re.compile(r"\b(older|oldest|elder|eldest|younger|youngest)\b")
_PRONOUN = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|this patient|that patient|the patient|same patient|"
    r"the same one|that one|this one|that person|the person)\b"
)
_TERM_AFTER = {
    "allergies": re.compile(
        r"\b(?:allergic|allergy|allergies|sensitive|reaction|react) (?:to|with) ([a-z][a-z\- ]{2,30})"
    ),
    "medications": re.compile(r"\b(?:on|taking|take|takes|prescribed|using|uses) ([a-z][a-z\-]{3,30})"),
    "conditions": re.compile(r"\b(?:have|has|had|with|of|diagnosed with|suffer\w* from) ([a-z][a-z\-]{3,30})"),
}
_GENERIC_TERMS = {
    "any", "anything", "medications", "medication", "meds", "drugs", "allergies", "conditions", "file", "record",
    "the", "epic", "cerner", "both", "a", "an", "history", "problems", "diagnoses", "visits", "labs",
    "vitals", "chart", "now", "currently", "today",
}  # fmt: skip
_ALL_EMRS = re.compile(r"\b(both|all|every|each|either|everywhere|any of (the|my))\b.{0,15}\b(emrs?|systems?|sources?|"
                       r"ehrs?|places?|records?)?|\beverywhere\b")  # fmt: skip
_GENERIC_EMR_WORDS = {"sandbox", "emr", "ehr", "fhir", "the", "system", "server", "test", "prod", "production", "demo"}


@dataclass(frozen=True)
class EmrRequest:
    topics: tuple[str, ...]  # READ_TOPICS, or ("find",), ("aggregate",), ("presence",); () = not said
    measures: tuple[Measure, ...] = ()
    terms: tuple[Term, ...] = ()
    yes_no: bool = False
    trend: bool = False
    ranged: bool = False
    emrs: tuple[str, ...] | None = None  # integrations the user limited it to; None = every EMR
    names: NameQuery = field(default_factory=NameQuery)
    birthdate: str | None = None
    identifier: str | None = None
    ordinal: int | None = None  # "the second one" → 1
    birth_year: str | None = None  # "the one born in 1960"
    sex: str | None = None  # "the woman"
    age_pick: str | None = None  # "older" / "younger"
    pronoun: bool = False
    correction: bool = False
    words: str = ""  # the user's own words, normalised

    @property
    def has_patient(self) -> bool:
        return bool(self.names.spans or self.identifier or self.birthdate)

    @property
    def picks_from_list(self) -> bool:
        return self.ordinal is not None or bool(self.birth_year or self.sex or self.age_pick)


def user_words(turn: Turn) -> str:
    """The words of this step (compound requests) or message, without pasted content, as typed."""
    understanding = getattr(turn, "understanding", None)
    if understanding is not None:
        return str(understanding.own_words)
    return split_pasted(turn.text).own_words


def birthdate_of(text: str) -> str | None:
    match = _DATE.search(text)
    if not match:
        return None
    if match.group(1):
        return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
    return f"{match.group(6)}-{int(match.group(4)):02d}-{int(match.group(5)):02d}"  # US month/day/year


def emr_scope(words: str, emrs: list[str]) -> tuple[str, ...] | None:
    """The EMRs the words limit the request to ("in Cerner", "not Epic"); None = all of them."""
    if _ALL_EMRS.search(words) and re.search(r"\b(both|all|every|each|everywhere|either)\b", words):
        return None
    named: list[str] = []
    excluded: list[str] = []
    tokens = re.findall(r"[a-z0-9]+", words)
    for emr in emrs:
        distinctive = [t for t in re.findall(r"[a-z0-9]+", emr.lower()) if t not in _GENERIC_EMR_WORDS] or [emr.lower()]
        positions = [
            i for i, t in enumerate(tokens) if any(t == d or (len(d) >= 5 and edits(t, d) <= 1) for d in distinctive)
        ]
        if not positions:
            continue
        before = " ".join(tokens[max(0, positions[0] - 3) : positions[0]])
        if re.search(r"\b(not|except|besides|other than|without|excluding)\b", before):
            excluded.append(emr)
        else:
            named.append(emr)
    if named:
        return tuple(named)
    if excluded:
        return tuple(e for e in emrs if e not in excluded)
    return None


def _emr_words(emrs: list[str]) -> set[str]:
    return {t for emr in emrs for t in re.findall(r"[a-z0-9]+", emr.lower())}


def _topics(
    words: str, measures: list[Measure], yes_no: bool, terms: dict[str, list[Term]], emr_words: set[str]
) -> list[str]:
    found = topics_of(words)
    in_emr = bool(emr_words) and re.search(
        rf"^(is|are|was)\b.*\b(in|on|at)\s+(the\s+)?({'|'.join(emr_words)})\b", words
    )
    if (_PRESENCE.search(words) or in_emr) and not (
        set(found) & {"vitals", "labs", "medications", "allergies", "conditions"}
    ):
        return ["presence"]
    specific = set(found) & {"vitals", "labs", "medications", "allergies", "conditions", "encounters"}
    merge_verb = re.search(r"\b(merg\w*|combin\w*|aggregat\w*|consolidat\w*|reconcil\w*|unified|conflicts?)\b", words)
    if "aggregate" in found and (merge_verb or not (specific or measures)):
        return ["aggregate"]
    topics: list[str] = []
    if "allergies" in found or (yes_no and terms["allergies"] and not terms["medications"]):
        topics.append("allergies")
    if "medications" in found or terms["medications"]:
        topics.append("medications")
    reading = bool(measures) and re.search(
        r"\b(latest|last|current|reading|value|level|levels|is (his|her|the))\b", words
    )
    if (terms["conditions"] and not reading) or ("conditions" in found and not (measures and TREND.search(words))):
        topics.append("conditions")
    if "encounters" in found:
        topics.append("encounters")
    measure_topics = list(dict.fromkeys(m.topic for m in measures))
    for topic in ("vitals", "labs"):
        # "results" or "tests" alone only count when nothing more specific was asked.
        asked = topic in measure_topics or (topic in found and not (topics and not measure_topics))
        if asked and topic not in topics:
            topics.append(topic)
    if not topics:
        if "summary" in found:
            topics.append("summary")
        elif "find" in found:
            topics.append("find")
    return list(dict.fromkeys(topics))


def _free_terms(words: str, topic: str, emr_words: set[str]) -> list[Term]:
    """The thing after "allergic to" / "on" / "have" when the vocabulary does not know it ("on Zoloft")."""
    pattern = _TERM_AFTER.get(topic)
    match = pattern.search(words) if pattern else None
    if not match:
        return []
    phrase = re.split(r"\s+(?:and|or|for|in|on|at|from|please|right|now|\?)\b|[?,.!]", match.group(1))[0].strip()
    first = phrase.split()[0] if phrase.split() else ""
    if not first or first in _GENERIC_TERMS or first in emr_words:
        return []
    return [Term(phrase if topic == "allergies" else first, ((phrase if topic == "allergies" else first),))]


def read_request(turn: Turn, text: str | None = None) -> EmrRequest:
    """The request in `text` (default: this turn's own words), before any earlier request is merged in."""
    raw = user_words(turn) if text is None else split_pasted(text).own_words
    emrs = tuple(t.integration_name for t in turn.tools_for("emr.find_patient") if t.integration_name)
    return _parse(raw, emrs)


@lru_cache(maxsize=512)
def _parse(raw: str, emrs: tuple[str, ...]) -> EmrRequest:
    """Cached: every skill's score and step of every model call in a turn reads the same words."""
    # "drug allergies" are allergies, not medications
    words = re.sub(r"\b(drug|medication|medicine) (allerg\w*|reactions?|intoleranc\w*)", r"\2", normalize(raw))
    emr_words = _emr_words(list(emrs))
    yes_no = bool(YES_NO.search(words))
    measures = measures_of(words)
    terms = {"allergies": allergen_terms(words), "medications": drug_terms(words), "conditions": condition_terms(words)}
    known_terms = {w for found in terms.values() for t in found for w in re.findall(r"[a-z]+", t.said)}
    first_names = name_query(raw, emr_words | known_terms)
    in_name = {w.lower() for w in (first_names.best or "").split()}
    for topic in terms:
        if not terms[topic] and yes_no:
            terms[topic] = [t for t in _free_terms(words, topic, emr_words) if t.said.split()[0] not in in_name]
    topics = _topics(words, measures, yes_no, terms, emr_words - _GENERIC_EMR_WORDS)
    chosen_terms = [dataclasses.replace(t, topic=topic) for topic in topics if topic in terms for t in terms[topic]]
    mrn = _MRN.search(raw) or (_BARE_MRN.search(raw) if re.search(r"\b(mrn|patient|id)\b", words) else None)
    identifier = (mrn.group(2) if mrn and mrn.re is _MRN else mrn.group(1) if mrn else None) if mrn else None
    stop = emr_words | {w for t in chosen_terms for w in re.findall(r"[a-z]+", t.said)}
    names = NameQuery() if identifier else name_query(raw, stop)
    ordinal = None
    if m := _ORDINAL_WORD.search(words):
        ordinal = _ORDINAL[m.group(1)]
    elif m := _NUMBERED.search(words):
        ordinal = int(m.group(1)) - 1
    year = _YEAR.search(words)
    birth_year = next((g for g in (year.groups() if year else ()) if g and len(g) == 4), None)
    if year and not birth_year and year.group(2):
        birth_year = year.group(2) + year.group(3)
    sex_ref = _SEX_REF.search(words)
    sex = None
    if sex_ref:
        sex = "female" if sex_ref.group(2) in ("woman", "female", "lady", "girl") else "male"
    age = _AGE_REF.search(words)
    return EmrRequest(
        topics=tuple(topics),
        measures=tuple(measures),
        terms=tuple(chosen_terms),
        yes_no=yes_no,
        trend=bool(TREND.search(words)) and bool(measures or set(topics) & {"vitals", "labs"}),
        ranged=bool(RANGE_QUESTION.search(words)),
        emrs=emr_scope(words, list(emrs)),
        names=names,
        birthdate=birthdate_of(words),
        identifier=identifier,
        ordinal=ordinal,
        birth_year=birth_year,
        sex=sex,
        age_pick=age.group(1) if age else None,
        pronoun=bool(_PRONOUN.search(words)),
        correction=bool(_CORRECTION.search(words)),
        words=words,
    )


def with_earlier(turn: Turn, request: EmrRequest) -> EmrRequest:
    """A fragment ("and in Cerner?", "what about Edith?", "no, I meant Cerner") completed from the
    previous EMR request: what it asked about, and (unless a new patient is named) about whom."""
    asks_topic = any(t in READ_TOPICS or t in ("presence", "aggregate") for t in request.topics)
    if asks_topic or (request.topics and not request.correction):
        return request
    for earlier_text in reversed(turn.previous_user_texts()[-3:]):
        earlier = read_request(turn, earlier_text)
        if not earlier.topics:
            continue
        merged = dataclasses.replace(
            request,
            topics=earlier.topics if earlier.topics != ("find",) or not request.has_patient else request.topics,
            measures=request.measures or earlier.measures,
            terms=request.terms or earlier.terms,
            yes_no=request.yes_no or earlier.yes_no,
            trend=request.trend or earlier.trend,
            ranged=request.ranged or earlier.ranged,
        )
        if not request.has_patient and not request.picks_from_list:
            merged = dataclasses.replace(merged, pronoun=True)
        if request.emrs is None and not _ALL_EMRS.search(request.words):
            merged = dataclasses.replace(merged, emrs=earlier.emrs)
        return merged
    return request

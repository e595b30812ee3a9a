"""Which patient the user means: candidate name spans from their words, and grounding them against
what the EMR search returned.

A span is only a candidate. It becomes a patient when a search finds it: exactly, by a given name alone
when that is unique, with a one-letter typo, or by a common nickname ("Ted" for Theodore). Titles
(Mr/Mrs/Dr), possessives, politeness and the clause that follows are never part of the name; "Mr" and
"Mrs" narrow the search by sex. A span that finds nobody is reported as not found, never read as-is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.offline.skill import normalize
from agents.offline.skills.fhir_vocab import strip_vocabulary

_TITLE = re.compile(r"\b(mr|mister|mrs|missus|ms|miss|mx|dr|doctor|prof|professor|pt|patient|sir|madam)\b\.?", re.I)
_TITLE_SEX = {"mr": "male", "mister": "male", "sir": "male", "mrs": "female", "missus": "female", "ms": "female"}
_TITLE_SEX |= {"miss": "female", "madam": "female"}
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}\b")
_POSSESSIVE = re.compile(r"(?<=[A-Za-z])['\u2019](?:s\b)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019\-]*")
# Words that are never (part of) a patient's name here: function words, verbs of asking, EMR words.
_NOT_NAME_WORDS = """
    a an the this that these those his her hers him he she they them their theirs it its me my mine our you your i
    we us is are was were be been being am do does did done have has had having can could would should will shall
    may might must of for to from in on at by with without about into onto over under after before than and or but
    nor so if then also too as what whats which who whom whose when where why how any anything some something all
    every each both either neither none no not yes yeah yep ok okay please pls plz thanks thank thx ty cheers
    kindly just only really very quick quickly now today yesterday currently current latest recent recently last
    newest new old older younger first second third one ones there here show tell give get got list display pull
    bring see check look lookup find search fetch need want wanted like know let lets mean meant means emr emrs
    fhir system systems source sources sandbox same other another again instead actually sorry rather version copy
    born dob birth birthdate date gender male female man woman boy girl child kid mrn id identifier number name
    named called record records file chart ehr everything up out still ever far much many more most less least high
    low normal fine good bad worse better level levels value values reading readings result numbers range ranges
    trend trending going rising falling down time since between across elevated abnormal within whether status
    state patients people person persons function functions work works working looking looks seem seems doing guy
    lady gentleman women men youngest oldest elder eldest compare comparing versus vs grab review view print read
    according wrong matter going happening connected connect integrations integration access available setup
    email mail text fax call phone message notify page remind take takes use uses used using receive receives
    receiving surname"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
NICKNAMES: dict[str, tuple[str, ...]] = {
    "ted": ("theodore", "edward"),
    "teddy": ("theodore", "edward"),
    "theo": ("theodore",),
    "hal": ("harold", "henry"),
    "harry": ("harold", "henry"),
    "walt": ("walter",),
    "wally": ("walter",),
    "edie": ("edith",),
    "neil": ("cornelius",),
    "corny": ("cornelius",),
    "connie": ("cornelius", "constance"),
    "mari": ("marisol", "maria"),
    "bill": ("william",),
    "will": ("william",),
    "bob": ("robert",),
    "rob": ("robert",),
    "jim": ("james",),
    "mike": ("michael",),
    "tom": ("thomas",),
    "liz": ("elizabeth",),
    "beth": ("elizabeth",),
    "kate": ("katherine", "catherine"),
    "dave": ("david",),
    "dan": ("daniel",),
    "sam": ("samuel", "samantha"),
    "alex": ("alexander", "alexandra"),
}


@dataclass(frozen=True, slots=True)
class NameQuery:
    """What the user's words say about who: candidate name spans (best first) and a sex from a title."""

    spans: tuple[str, ...] = ()
    sex: str | None = None

    @property
    def best(self) -> str | None:
        return self.spans[0] if self.spans else None


def name_query(words: str, extra_stop: set[str] | None = None) -> NameQuery:
    """Candidate patient names in the user's own words (case kept), e.g. "Mrs Quimby's BP" → ("Quimby",)."""
    sex = None
    for title in _TITLE.finditer(words):
        sex = sex or _TITLE_SEX.get(title.group(1).lower())
    # Known typos of ordinary words ("pateint", "alergies") are ordinary words, not a name.
    words = re.sub(r"[A-Za-z]+", lambda m: _folded_typo(m.group(0)), words)
    text = _DATE.sub(" | ", words)
    text = _TITLE.sub(" ", text)
    text = _POSSESSIVE.sub(" ", text)
    text = strip_vocabulary(text)
    stop = _NOT_NAMES | (extra_stop or set())
    runs: list[list[str]] = [[]]
    for token in re.split(r"([\s,;:!?.()|/]+)", text):
        if not token or token.isspace():
            continue
        if re.fullmatch(r"[\s,;:!?.()|/]+", token):
            if re.search(r"[,;:!?.()|/]", token):
                runs.append([])
            continue
        if _WORD.fullmatch(token) and token.lower().strip("'\u2019-") not in stop and len(token.strip("'\u2019-")) > 1:
            runs[-1].append(token.strip("'\u2019-"))
        else:
            runs.append([])
    spans = [" ".join(run[:4]) for run in runs if run]
    # A capitalised run ("Harold Quimby") is a better bet than lower-case leftovers; then longer runs first.
    ranked = sorted(spans, key=lambda s: (not any(w[:1].isupper() for w in s.split()), -len(s.split())))
    return NameQuery(tuple(dict.fromkeys(" ".join(_title_case(w) for w in s.split()) for s in ranked)), sex)


def _folded_typo(word: str) -> str:
    folded = normalize(word)
    return folded if folded != word.lower() else word


def _title_case(word: str) -> str:
    return "-".join(part.capitalize() for part in word.split("-")) if word.islower() else word


def fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance: a swap of two neighbouring letters counts as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def _token_matches(typed: str, part: str) -> str | None:
    """How a typed word names one part of a patient's name: exact, prefix, nickname, typo — or None."""
    if typed == part:
        return "exact"
    if len(typed) >= 3 and part.startswith(typed):
        return "prefix"
    if part in NICKNAMES.get(typed, ()) or typed in NICKNAMES.get(part, ()):
        return "nickname"
    if len(typed) >= 4 and len(part) >= 4 and edits(typed, part) <= 1:
        return "typo"
    return None


def name_matches(typed: str, patient: dict[str, Any]) -> bool:
    """Every word the user typed names a different part of this patient's name."""
    parts = [fold(str(g)) for g in patient.get("given") or []] + [fold(str(patient.get("family") or ""))]
    parts = [p for part in parts for p in part.split() if p] or fold(str(patient.get("name") or "")).split()
    words = fold(typed).split()
    if not words:
        return False
    used: set[int] = set()
    for word in words:
        hit = next((i for i, p in enumerate(parts) if i not in used and _token_matches(word, p)), None)
        if hit is None:
            return False
        used.add(hit)
    return True


@dataclass
class Person:
    """One person as the EMRs know them: a record per source (same family name and birth date)."""

    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.records[0].get("name"))

    @property
    def birth_date(self) -> str | None:
        return self.records[0].get("birth_date")

    @property
    def gender(self) -> str | None:
        return self.records[0].get("gender")

    def names(self) -> str:
        """ "Theodore Brackwell (Epic sandbox) / Ted Brackwell (Cerner sandbox)" when the sources differ."""
        distinct = dict.fromkeys(str(r.get("name")) for r in self.records)
        if len(distinct) == 1:
            return self.name
        return " / ".join(f"{r.get('name')} ({r.get('source')})" for r in self.records)

    def sources(self) -> list[str]:
        return [str(r.get("source")) for r in self.records]


def _same_person(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("source") == b.get("source"):
        return a.get("id") == b.get("id")
    if not a.get("birth_date") or a.get("birth_date") != b.get("birth_date"):
        return False
    if fold(str(a.get("family") or "")) != fold(str(b.get("family") or "")):
        return False
    given_a = fold(" ".join(a.get("given") or []))
    given_b = fold(" ".join(b.get("given") or []))
    return given_a == given_b or bool(_token_matches(given_a, given_b) or _token_matches(given_b, given_a))


def group_people(patients: list[dict[str, Any]]) -> list[Person]:
    """Records of the same person across sources grouped together, ordered by name."""
    people: list[Person] = []
    for patient in patients:
        key = (patient.get("source"), patient.get("id"))
        if any((r.get("source"), r.get("id")) == key for p in people for r in p.records):
            continue
        home = next(
            (
                p
                for p in people
                if all(r.get("source") != patient.get("source") for r in p.records)
                and any(_same_person(patient, r) for r in p.records)
            ),
            None,
        )
        if home is None:
            people.append(Person([patient]))
        else:
            home.records.append(patient)
    # Listed by family then given name, so "the second one" means the same row whichever EMR answered first.
    return sorted(people, key=lambda p: (fold(str(p.records[0].get("family") or "")), fold(p.name)))

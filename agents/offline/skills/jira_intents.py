"""Reading Jira requests out of plain language: which operation, and its arguments.

"whats on my plate in jira" → my open issues; "show me PROJ-7" → that issue; "open bugs in OPS about
backups" → JQL; "create a bug in SB: Login page crashes" → create arguments; "move ABC-12 to done",
"assign it to me", "comment on SB-3: deployed". Typos are folded by `Turn.normalized` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ISSUE_KEY = re.compile(r"\b([A-Za-z][A-Za-z0-9_]{0,9}-[1-9][0-9]{0,8})\b")
JIRA_WORDS = re.compile(
    r"\b(jira|tickets?|issues?|bugs?|stor(y|ies)|incidents?|sprints?|backlog|jql|my plate|assigned to me|"
    r"my (open )?(work|tasks|queue|todos?|to-?dos?)|working on|transitions?)\b"
)
_FOLLOW_UP = re.compile(r"\b(it|that|this|that one|this one|the issue|the ticket|same)\b")
_MY = re.compile(
    r"\b(my|mine)\b|\bassigned to (me|myself)\b|\bon my plate\b|\bam i working\b|\bi('m| am) working\b|"
    r"\bshould i (work|do)\b|\bi have\b|\bi own\b|\bfor me\b|\bhave i got\b|\bi'?ve got\b|\bi got\b|\bdo i have\b"
)
_CREATE = re.compile(
    r"\b(create|file|raise|log|make|add|submit|report|write up|draft|prepare|put in)\b.{0,40}?"
    r"\b(issue|ticket|bug|task|story|incident|epic)s?\b"
    r"|\bopen (a|an|up a|new)\b.{0,30}?\b(issue|ticket|bug|task|story|incident|epic)\b"
    r"|\bnew (issue|ticket|bug|task|story|incident)\b"
)
_CREATE_VERB = re.compile(r"\b(create|file|raise|new|open (a|an|up a|new))\b")
_COMMENT = re.compile(r"\b(comment|reply|add (a )?note|leave (a )?note|write on)\b")
# "whats the latest comment on SB-1" reads a comment; it does not write one.
_COMMENT_QUESTION = re.compile(
    r"\b(latest|last|newest|recent|previous|any|anyone|anybody|someone|what|which|who|read|see|did|has|have|"
    r"were there|are there)\b.{0,20}\bcomment(s|ed)?\b"
)
_ASSIGN = re.compile(
    r"\b(assign|reassign|unassign|give (it|that|this|[a-z]+-\d+) to|take (it|that|this|over|[a-z]+-\d+))\b"
)
_TRANSITION = re.compile(
    r"\b(move|moved|transition|set|mark|change|put|switch|drag)\b.*?\b(to|as|into|in)\s+(?P<to>[a-z][a-z -]{1,30}?)"
    r"(?:\s+(?:status|column|state))?(?:\s*(?:[,.;:!?]|\b(?:with|and|saying|please|pls|now|today)\b)|$)"
)
_VERB_STATUS = {
    "close": "Done", "resolve": "Done", "finish": "Done", "complete": "Done", "done with": "Done",
    "start": "In Progress", "begin": "In Progress", "pick up": "In Progress", "work on": "In Progress",
    "reopen": "To Do",
}  # fmt: skip
_VERB = re.compile(r"\b(close|resolve|finish|complete|start|begin|pick up|reopen|done with)\b")
_TRANSITIONS_QUERY = re.compile(
    r"\b(transitions?|(which|what) (statuses|states|status)|can (it|[a-z]+-\d+) (move|go)|possible status)"
)
_PROJECTS = re.compile(r"\b(list|show|which|what|my|all|see)\b.*\bprojects?\b|^projects?\??$")
_WHOAMI = re.compile(r"\bwho am i\b|\b(which|what) (jira )?(account|user)\b|\bam i (connected|signed in|logged in)\b")
_UNSUPPORTED = re.compile(
    r"\b(delete|remove|destroy|purge|wipe|erase|archive)\b.{0,40}\b(issues?|tickets?|bugs?|projects?|[a-z]+-\d+)\b"
)
_ORDINAL = re.compile(
    r"\b(?:the )?(first|second|third|fourth|fifth|sixth|last|1st|2nd|3rd|4th|5th|6th)(?: one| issue| ticket)?\b"
    r"|#(\d{1,2})\b"
)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "last": -1}  # fmt: skip
DETAIL_QUESTION = re.compile(
    r"\b(who('s| is)|what('s| is) (the )?status|details?|more about|tell me (more )?about|describe|status of|"
    r"what('s| is) (it|that)|show (it|that|me that|me it))\b"
)
_MORE = re.compile(r"^(show |give me |see )?(more|next( page)?|the rest|load more)\b")
# Our answers open with these when they ask something; the next message is then read as the answer.
SITE_QUESTION = "Which Jira site"
FIELDS_QUESTION = "Jira needs more before"

_TYPE = re.compile(r"\b(bug|task|story|incident|sub-?task)s?\b")  # not "epic": also an EMR vendor
_PRIORITY = re.compile(
    r"\b(highest|high|medium|low|lowest)[ -]priority\b"
    r"|\bpriority\s*(?:is|of|:|=|to)?\s*(highest|high|medium|low|lowest)\b"
    r"|\b(urgent|critical|blocker|asap)\b"
)
_PROJECT_AT = re.compile(r"\b(?:in|to|for|on|under|into)\s+(?:the\s+)?(?:project\s+)?([A-Z][A-Z0-9_]{1,9})\b(?!-)")
_PROJECT_IN = re.compile(r"\b(?:in|under|within)\s+(?:the\s+)?(?:project\s+)?([A-Z][A-Z0-9_]{1,9})\b(?!-)")
_PROJECT_NAMED = re.compile(r"\bproject\s*[:=]?\s*([A-Za-z][A-Za-z0-9_]{1,9})\b(?!-)")
_LABELS = re.compile(r"\b(?:labels?|tagged|tags?)\s*(?:is|are|:|=|with|as)?\s*([\w-]+(?:\s*(?:,|and)\s*[\w-]+)*)")
_ASSIGNEE = re.compile(
    r"\b(?:assign(?:ed)?|give)\s+(?:it\s+|this\s+|that\s+|[A-Za-z][\w]*-\d+\s+)?to\s+([\w.@'-]+(?:\s+[A-Z][\w'-]+)?)"
)
_TRAILING_POLITE = re.compile(
    r"(?:[\s,;.!]+(?:please|pls|thanks|thank you|thx|cheers|asap|if you can|if possible|ty))+[\s.!]*$", re.I
)
_QUOTED = re.compile(r"[\"“”]([^\"“”]{3,255})[\"“”]")
_SUMMARY_AFTER = re.compile(r"\b(?:called|titled|named|summary|saying|that says)\s*:?\s+(.+)", re.IGNORECASE)
_SUMMARY_ABOUT = re.compile(
    r"\b(?i:issue|ticket|bug|task|story|incident)s?\s+(?:(?i:in|for)\s+(?:the\s+)?(?:project\s+)?[A-Z][A-Z0-9_]{1,9}\s+)?"
    r"(?i:to|about|for|on|re|that|saying|where|because)\s+(.+)"
)
_TRAILING_CLAUSES = re.compile(
    r"(\s+(?:with|at|,)?\s*(?:a\s+)?(?:highest|high|medium|low|lowest)[ -]priority.*"
    r"|\s+(?:in|to|for|under|into)\s+(?:the\s+)?(?:project\s+)?[A-Z][A-Z0-9_]{1,9}\b(?!-).*"
    r"|\s+(?:and\s+)?assign(?:ed)?\s+(?:it\s+)?to\s+.*|\s+(?:with\s+)?labels?\b.*|\s+tagged\b.*|\s+priority\b.*)$"
)


@dataclass
class Intent:
    kind: str  # my_open, search, get, create, comment, transition, transitions, assign, projects, whoami, more
    key: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


def issue_keys(text: str) -> list[str]:
    return [k.upper() for k in ISSUE_KEY.findall(text) if not k.lower().startswith(("utf-", "iso-", "sha-", "covid-"))]


def looks_like_jira(text: str) -> bool:
    return bool(JIRA_WORDS.search(text) or issue_keys(text))


def refers_back(text: str) -> bool:
    return bool(_FOLLOW_UP.search(text))


def parse_intent(text: str, original: str) -> Intent | None:
    """`text` normalized (lower-case, typos folded), `original` as typed (for keys, case and quotes)."""
    keys = issue_keys(original)
    key = keys[0] if keys else None
    if _MORE.search(text):
        return Intent("more")
    if _UNSUPPORTED.search(text):
        return Intent("unsupported")
    commenting = bool(_COMMENT.search(text)) and not _CREATE_VERB.search(text) and not _COMMENT_QUESTION.search(text)
    if _CREATE.search(text) and not commenting:
        return Intent("create", args=create_arguments(original))
    if commenting:
        return Intent("comment", key=key, args={"body": comment_body(original)})
    if _ASSIGN.search(text):
        return Intent("assign", key=key, args={"assignee": assignee_of(text, original)})
    if _TRANSITIONS_QUERY.search(text):
        return Intent("transitions", key=key)
    target = transition_target(text)
    if target and (key or refers_back(text)):
        return Intent("transition", key=key, args={"to": target})
    if _WHOAMI.search(text):
        return Intent("whoami")
    if _PROJECTS.search(text) and not re.search(r"\b(issues?|tickets?|bugs?)\b", text):
        return Intent("projects")
    if key and not re.search(r"\b(search|find|like|similar|related)\b", text):
        return Intent("get", key=key)
    jql = search_jql(text, original)
    mine = _MY.search(text) and looks_like_work(text)
    if mine and (jql is None or jql.split(" ORDER BY ")[0] in PLAIN_MINE):
        return Intent("my_open")
    return Intent("search", args={"jql": jql}) if jql else None


PLAIN_MINE = {
    "assignee = currentUser()",
    "assignee = currentUser() AND statusCategory != Done",
    "assignee = currentUser() AND resolution = Unresolved",
}


def ordinal(text: str) -> int | None:
    """ "the second one" -> 1, "#3" -> 2, "the last one" -> -1."""
    match = _ORDINAL.search(text)
    if not match:
        return None
    return int(match.group(2)) - 1 if match.group(2) else _ORDINALS[match.group(1)]


def looks_like_work(text: str) -> bool:
    return bool(JIRA_WORDS.search(text) or re.search(r"\b(plate|work|tasks?|todo|to do|queue|assigned)\b", text))


def transition_target(text: str) -> str | None:
    match = _TRANSITION.search(text)
    if match:
        target = re.sub(r"\b(the|status|column|state)\b", " ", match.group("to"))
        target = re.sub(r"\s+", " ", target).strip(" -")
        if target and target not in ("me", "myself", "it"):
            return {"review": "In Review", "progress": "In Progress"}.get(target, target)
    verb = _VERB.search(text)
    return _VERB_STATUS[verb.group(1)] if verb else None


def comment_body(original: str) -> str | None:
    quoted = _QUOTED.search(original)
    if quoted:
        return quoted.group(1).strip()
    for marker in (
        r":\s*(.+)",
        r"\b(?:saying|that says|with the text|to say|with)\s+(.+)",
        r"\b(?:comment|note|update|remark|reply)\b.*?\b(?:that|letting them know)\s+(.+)",
    ):
        found = re.search(marker, original, re.IGNORECASE | re.DOTALL)
        if found and found.group(1).strip():
            return found.group(1).strip()
    return None


def assignee_of(text: str, original: str) -> str | None:
    if re.search(r"\bunassign\b|\bto (nobody|no one|noone)\b", text):
        return "unassigned"
    someone = re.search(
        r"\blet\s+([a-z][\w.@'-]+(?:\s+[a-z][\w'-]+)?)\s+(?:take|have|own|handle|pick up)\b"
        r"|\b([a-z][\w.@'-]+)\s+(?:can|should|will|could)\s+(?:take|have|own|handle)\b",
        text,
    )
    if someone and (someone.group(1) or someone.group(2)) not in ("me", "i", "you", "we", "it", "who"):
        return str(someone.group(1) or someone.group(2))
    if re.search(r"\b(to me|to myself|i'll take|i will take|take (it|that|this|over|[a-z]+-\d+))\b", text):
        return "me"
    # A name that ends the request may be two lower-case words ("assign to alex kim").
    request = re.sub(r"[\s,]*\b(please|thanks|thank you|pls)\b[\s.!]*$", "", original, flags=re.IGNORECASE)
    found = re.search(r"\bto\s+([\w.@'-]+(?:\s+[\w'-]+)?)\s*[.!?]?\s*$", request) or _ASSIGNEE.search(request)
    if found:
        who = found.group(1).strip().rstrip(".!?")
        return "me" if who.lower() in ("me", "myself") else who
    return None


def _priority(text: str) -> str | None:
    match = _PRIORITY.search(text)
    if not match:
        return None
    word = match.group(1) or match.group(2)
    return word.capitalize() if word else "Highest"


def _project(original: str) -> str | None:
    found = _PROJECT_AT.search(original) or _PROJECT_NAMED.search(original)
    return found.group(1).upper() if found else None


def create_arguments(original: str) -> dict[str, Any]:
    """create_issue arguments; `summary` may be missing (the skill then asks for it)."""
    text = original.strip()
    lowered = text.lower()
    args: dict[str, Any] = {}
    first_line, _, rest = text.partition("\n")
    summary = None
    quoted = _QUOTED.search(text)
    if quoted:
        summary = quoted.group(1)
    elif ":" in first_line:
        head, _, tail = first_line.partition(":")
        summary = tail if not re.search(r"\b(description|labels?|priority)\s*$", head, re.IGNORECASE) else None
    if summary is None:
        found = _SUMMARY_AFTER.search(first_line) or _SUMMARY_ABOUT.search(first_line)
        summary = found.group(1) if found else None
    if summary:
        summary = _TRAILING_POLITE.sub("", summary.strip())
        summary = _TRAILING_CLAUSES.sub("", summary.strip()).strip(" .,;")
        summary = re.sub(r"^(the|a|an)\s+", "", summary, flags=re.IGNORECASE)
        summary = summary[:1].upper() + summary[1:]
        if summary:
            args["summary"] = summary[:255]
    description = re.search(r"\bdescription\s*:\s*(.+)", text, re.IGNORECASE | re.DOTALL)
    if description:
        args["description"] = description.group(1).strip()
    elif rest.strip():
        args["description"] = rest.strip()
    kind = _TYPE.search(lowered)
    if kind and kind.group(1) not in ("issue", "ticket"):
        args["issue_type"] = "Sub-task" if kind.group(1).startswith("sub") else kind.group(1).capitalize()
    project = _project(first_line)
    if project:
        args["project"] = project
    priority = _priority(lowered)
    if priority:
        args["priority"] = priority
    labels = _LABELS.search(first_line)
    if labels:
        args["labels"] = [x for x in re.split(r"\s*(?:,|\band\b)\s*", labels.group(1)) if x][:10]
    assignee = _ASSIGNEE.search(first_line)
    if assignee:
        who = assignee.group(1).strip()
        args["assignee"] = "me" if who.lower() in ("me", "myself") else who
    return args


_STATUS_WORDS = {
    "in progress": 'status = "In Progress"', "in review": 'status = "In Review"', "to do": 'status = "To Do"',
    "todo": 'status = "To Do"', "open": "statusCategory != Done", "unresolved": "resolution = Unresolved",
    "not done": "statusCategory != Done", "done": "statusCategory = Done", "closed": "statusCategory = Done",
    "resolved": "statusCategory = Done", "finished": "statusCategory = Done",
}  # fmt: skip
_TEXT = re.compile(
    r"\b(?:about|mentioning|mention|containing|contain|regarding|related to|matching|with the words?|that say|"
    r"search (?:jira |tickets |issues )?for|look for|find (?:jira |me )?(?:tickets|issues|bugs)? ?(?:about|for)?)\s+"
    r"[\"“']?(?P<text>[\w .@#/-]{2,80}?)[\"”']?"
    r"(?=\s+(?:in|for|assigned|updated|created|ordered|sorted|that|which)\b|[?.!]|$)"
)
_RECENT = re.compile(
    r"\b(updated|changed|created|opened|touched)?\s*(?:in the |within the )?(?:last|past) (\d+ )?(day|week|month)s?\b"
)


def search_jql(text: str, original: str) -> str | None:
    """JQL for a described search, or None when the text describes no filter at all."""
    explicit = re.search(r"\bjql\s*[:=]?\s*(.+?)\s*$", original, re.IGNORECASE)
    if explicit:
        query = explicit.group(1).strip()
        if len(query) > 1 and query[0] == query[-1] and query[0] in "`'":
            query = query[1:-1].strip()  # `...` or '...' around the whole query
        return query.strip("`").strip()
    if re.match(r"^\s*(project|assignee|status|labels|text|summary|statuscategory|priority)\s*(=|!=|~|in\b)", text):
        return original.strip()
    clauses: list[str] = []
    at = _PROJECT_IN.search(original) or _PROJECT_NAMED.search(original)
    project = at.group(1).upper() if at else None
    if project:
        clauses.append(f"project = {project}")
    reported = re.search(
        r"\bi (filed|file|reported|report|created|opened|raised|logged|wrote)\b|\breported by me\b", text
    )
    if reported:
        clauses.append("reporter = currentUser()")
    if re.search(r"\bunassigned\b|\bnot assigned\b|\bnobody\b", text):
        clauses.append("assignee is EMPTY")
    elif _MY.search(text) and not reported:
        clauses.append("assignee = currentUser()")
    else:
        someone = re.search(r"\bassigned to ([a-z][\w.@'-]+(?: [a-z][\w'-]+)?)", text)
        if someone:
            clauses.append(f'assignee = "{someone.group(1)}"')
    for phrase, clause in _STATUS_WORDS.items():
        if re.search(rf"\b{phrase}\b", text):
            clauses.append(clause)
            break
    kind = _TYPE.search(text)
    if kind and not re.search(r"\bmy (open )?tasks\b", text):  # "my tasks" means my work, not the type
        clauses.append("issuetype = " + ("Sub-task" if kind.group(1).startswith("sub") else kind.group(1).capitalize()))
    priority = _priority(text)
    if priority:
        clauses.append("priority in (Highest, High)" if priority == "High" else f"priority = {priority}")
    labels = re.search(r"\b(?:labell?ed|tagged|with (?:the )?label)\s+[\"']?([\w-]+)", text)
    if labels:
        clauses.append(f'labels = "{labels.group(1)}"')
    words = _TEXT.search(text)
    if words and words.group("text").strip() not in ("me", "jira", "tickets", "issues"):
        phrase = words.group("text").strip().replace('"', "")
        as_typed = re.search(re.escape(phrase), original, re.IGNORECASE)
        phrase = as_typed.group(0) if as_typed else phrase  # keep the user's casing (MLLP, not mllp)
        clauses.append(f'text ~ "{phrase}"')
    recent = _RECENT.search(text)
    if recent:
        count = int(recent.group(2) or 1) * {"day": 1, "week": 7, "month": 30}[recent.group(3)]
        column = "created" if recent.group(1) in ("created", "opened") or reported else "updated"
        clauses.append(f"{column} >= -{count}d")
    elif re.search(r"\b(updated|changed|created|opened|touched|modified|filed)\s+today\b", text):
        clauses.append("updated >= startOfDay()")
    if not clauses:
        return None
    order = (
        "priority DESC, updated DESC"
        if re.search(r"\b(important|urgent first|by priority)\b", text)
        else "updated DESC"
    )
    return " AND ".join(clauses) + f" ORDER BY {order}"

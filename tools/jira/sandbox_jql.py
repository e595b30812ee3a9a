"""The JQL subset the sandbox understands: enough for what the assistant and people type.

Fields: project, key, assignee, reporter, status, statusCategory, resolution, priority, issuetype
(type), labels, component, text / summary / description / comment (`~`), created, updated, resolved.
Operators: = != ~ !~ > >= < <= IN, NOT IN, IS [NOT] EMPTY|NULL; AND, OR, NOT, parentheses;
ORDER BY field [ASC|DESC], ... Values: quoted or bare words, currentUser(), now(), startOfDay(),
startOfWeek(), startOfMonth(), relative dates (-7d, -2w, -4h, -30m) and dates (2024-05-01[ 10:00]).
Errors raise `JqlError` with Jira's wording; the app answers them with 400.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|!~|>=|<=|=|~|>|<)
    | (?P<punct>[(),])
    | (?P<word>[^\s"'(),=!~<>&|;]+)
    )""",
    re.VERBOSE,
)
_RELATIVE = re.compile(r"^([+-]?)(\d+)([wdhm])$", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_FIELDS = {
    "project": "project", "key": "key", "issuekey": "key", "id": "key",
    "assignee": "assignee", "reporter": "reporter", "status": "status", "statuscategory": "statusCategory",
    "resolution": "resolution", "priority": "priority", "issuetype": "issuetype", "type": "issuetype",
    "labels": "labels", "label": "labels", "component": "component", "components": "component",
    "text": "text", "summary": "summary", "description": "description", "comment": "comment",
    "created": "created", "createddate": "created", "updated": "updated", "updateddate": "updated",
    "resolved": "resolved", "resolutiondate": "resolved",
}  # fmt: skip
_TEXT_FIELDS = {"text", "summary", "description", "comment"}
_DATE_FIELDS = {"created", "updated", "resolved"}
_ORDERABLE = {"key", "created", "updated", "priority", "status", "summary", "assignee", "resolved", "issuetype"}
_ORDERABLE |= {"project", "reporter"}


class JqlError(ValueError):
    """Invalid JQL; `str(exc)` is Jira's kind of message."""


class Searchable(Protocol):
    """What the evaluator reads from an issue (the sandbox's stored issue)."""

    def jql_value(self, field: str) -> Any: ...


@dataclass
class JqlContext:
    """Who is asking and the names the site knows (unknown values are JQL errors, as in Jira)."""

    current_user: str | None
    now: datetime
    user_ids: Callable[[str], set[str]]  # any spelling of a user -> the usernames it matches
    known: dict[str, set[str]] = field(default_factory=dict)  # field -> lower-case valid values
    priority_rank: dict[str, int] = field(default_factory=dict)
    project_rank: dict[str, int] = field(default_factory=dict)  # ORDER BY key: project order, then number


Predicate = Callable[[Searchable], bool]


@dataclass
class Query:
    where: Predicate | None
    order: list[tuple[str, bool]]  # (field, descending)

    def run(self, issues: Sequence[Searchable], ctx: JqlContext) -> list[Searchable]:
        found = [i for i in issues if self.where is None or self.where(i)]
        order = self.order or [("created", True)]
        for name, descending in reversed([*order, ("key", True)]):
            found.sort(key=functools.partial(_sort_key, name=name, ctx=ctx), reverse=descending)
        return found


def parse(jql: str, ctx: JqlContext) -> Query:
    """Parse `jql` into a predicate and an ordering; raises `JqlError`."""
    return _Parser(_tokens(jql), ctx).query()


def _tokens(jql: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    text = jql.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlError(f"Error in the JQL Query: The character '{text[position]}' is a reserved JQL character.")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return tokens


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], ctx: JqlContext) -> None:
        self.tokens = tokens
        self.index = 0
        self.ctx = ctx

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token[1].lower() if token and token[0] == "word" else ""

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise JqlError("Error in the JQL Query: The query ended unexpectedly.")
        self.index += 1
        return token

    def expecting(self, what: str) -> JqlError:
        token = self.peek()
        got = f"'{token[1]}'" if token else "the end of the query"
        where = f" (line 1, character {token[2]})" if token else ""
        return JqlError(f"Error in the JQL Query: Expecting {what} but got {got}.{where}")

    def query(self) -> Query:
        where = None if self.peek() is None or self.word() == "order" else self.expr()
        order: list[tuple[str, bool]] = []
        if self.word() == "order":
            self.take()
            if self.word() != "by":
                raise self.expecting("'by'")
            self.take()
            while True:
                name = self.field_name(for_order=True)
                descending = False
                if self.word() in ("asc", "desc"):
                    descending = self.take()[1].lower() == "desc"
                order.append((name, descending))
                if self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                    self.take()
                    continue
                break
        if self.peek() is not None:
            raise self.expecting("either 'OR' or 'AND'" if where else "a field name")
        return Query(where, order)

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.word() == "or":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda issue: any(p(issue) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.word() == "and":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda issue: all(p(issue) for p in parts))

    def factor(self) -> Predicate:
        if self.word() == "not":
            self.take()
            inner = self.factor()
            return lambda issue: not inner(issue)
        token = self.peek()
        if token and token[1] == "(":
            self.take()
            inner = self.expr()
            closing = self.peek()
            if not closing or closing[1] != ")":
                raise self.expecting("')'")
            self.take()
            return inner
        return self.clause()

    def field_name(self, for_order: bool = False) -> str:
        token = self.peek()
        if token is None or token[0] not in ("word", "string"):
            raise self.expecting("a field name")
        self.take()
        raw = _unquote(token[1]) if token[0] == "string" else token[1]
        name = _FIELDS.get(raw.lower())
        if name is None or (for_order and name not in _ORDERABLE):
            raise JqlError(f"Field '{raw}' does not exist or you do not have permission to view it.")
        return name

    def clause(self) -> Predicate:
        name = self.field_name()
        operator = self.operator()
        if operator in ("is", "is not"):
            if self.word() not in ("empty", "null"):
                raise self.expecting("EMPTY or NULL")
            self.take()
            return _emptiness(name, operator == "is")
        if operator in ("in", "not in"):
            values = self.value_list(name)
            contained = _matcher(name, "=", values, self.ctx)
            return contained if operator == "in" else (lambda issue: not contained(issue))
        values = [self.value(name)]
        return _matcher(name, operator, values, self.ctx)

    def operator(self) -> str:
        token = self.peek()
        if token and token[0] == "op":
            self.take()
            return token[1]
        lowered = self.word()
        if lowered == "in":
            self.take()
            return "in"
        if lowered == "not" and self.word(1) == "in":
            self.index += 2
            return "not in"
        if lowered == "is":
            self.take()
            if self.word() == "not":
                self.take()
                return "is not"
            return "is"
        raise self.expecting("operator")

    def value_list(self, name: str) -> list[Any]:
        token = self.peek()
        if not token or token[1] != "(":
            raise self.expecting("'('")
        self.take()
        values = [self.value(name)]
        while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
            self.take()
            values.append(self.value(name))
        closing = self.peek()
        if not closing or closing[1] != ")":
            raise self.expecting("')'")
        self.take()
        return values

    def value(self, name: str) -> Any:
        token = self.peek()
        if token is None or token[0] not in ("word", "string"):
            raise self.expecting("a value")
        self.take()
        if token[0] == "string":
            text = _unquote(token[1])
        else:
            text = token[1]
            following = self.peek()
            if following and following[1] == "(":  # a function call
                self.take()
                arguments = []
                while self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                    argument = self.take()
                    if argument[1] != ",":
                        arguments.append(_unquote(argument[1]) if argument[0] == "string" else argument[1])
                if self.peek() is None:
                    raise self.expecting("')'")
                self.take()
                return self.function(text, arguments)
            if text.lower() in ("empty", "null"):
                return None
        return self.check_value(name, text)

    def function(self, name: str, arguments: list[str]) -> Any:
        lowered = name.lower()
        if lowered == "currentuser":
            if self.ctx.current_user is None:
                raise JqlError("The function 'currentUser' requires a signed-in user.")
            return _User(self.ctx.current_user)
        start = self.ctx.now
        shift = _relative(arguments[0]) if arguments else timedelta(0)
        if arguments and shift is None:
            raise JqlError(f"The function '{name}' does not accept '{arguments[0]}'.")
        if lowered == "now":
            return start
        if lowered in ("startofday", "endofday"):
            day = start.replace(hour=0, minute=0, second=0, microsecond=0) + (shift or timedelta(0))
            return day if lowered == "startofday" else day + timedelta(days=1)
        if lowered == "startofweek":
            return start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=start.weekday())
        if lowered == "startofmonth":
            return start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        raise JqlError(f"Unable to find JQL function '{name}()'.")

    def check_value(self, name: str, text: str) -> Any:
        if name in _DATE_FIELDS:
            moment = _date(text, self.ctx.now)
            if moment is None:
                raise JqlError(
                    f"Date value '{text}' for field '{name}' is invalid. Valid formats include: "
                    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. "
                    "'-5d', '4w 2d'."
                )
            return moment
        if name == "resolution" and text.lower() == "unresolved":
            return None
        known = self.ctx.known.get(name)
        if known is not None and text.lower() not in known:
            raise JqlError(f"The value '{text}' does not exist for the field '{name}'.")
        if name in ("assignee", "reporter"):
            return _User(text)
        return text


@dataclass(frozen=True)
class _User:
    spelling: str


def _relative(text: str) -> timedelta | None:
    match = _RELATIVE.match(text.strip())
    if not match:
        return None
    amount = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
    return timedelta(**{_UNITS[match.group(3).lower()]: amount})


def _date(text: str, now: datetime) -> datetime | None:
    shift = _relative(text)
    if shift is not None:
        return now + shift
    for pattern in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=now.tzinfo)
        except ValueError:
            continue
    return None


def _stem(word: str) -> str:
    """A crude English stem, as Jira's text search stems: certificates ~ certificate, failing ~ fail."""
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("es", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


def _emptiness(name: str, empty: bool) -> Predicate:
    def check(issue: Searchable) -> bool:
        value = issue.jql_value(name)
        is_empty = value is None or value == [] or value == ""
        return is_empty == empty

    return check


def _matcher(name: str, operator: str, values: list[Any], ctx: JqlContext) -> Predicate:
    if operator in ("~", "!~"):
        if name not in _TEXT_FIELDS:
            raise JqlError(f"The operator '{operator}' is not supported by the '{name}' field.")
        words = [_stem(w) for v in values for w in re.findall(r"\w+", str(v or "").lower().rstrip("*"))]

        def contains(issue: Searchable) -> bool:
            haystack = {_stem(w) for w in re.findall(r"\w+", str(issue.jql_value(name)).lower())}
            return all(any(h.startswith(w) for h in haystack) for w in words)

        return contains if operator == "~" else (lambda issue: not contains(issue))
    if name in _TEXT_FIELDS:
        raise JqlError(f"The operator '{operator}' is not supported by the '{name}' field.")
    if operator in (">", ">=", "<", "<="):
        if name not in _DATE_FIELDS and name != "priority":
            raise JqlError(f"The operator '{operator}' is not supported by the '{name}' field.")
        limit = values[0]

        def compare(issue: Searchable) -> bool:
            if name == "priority":  # "priority > Medium" means more urgent than Medium
                mine = -ctx.priority_rank.get(str(issue.jql_value(name)).lower(), 99)
                other = -ctx.priority_rank.get(str(limit).lower(), 99)
            else:
                mine, other = issue.jql_value(name), limit
                if mine is None or other is None:
                    return False
            return {">": mine > other, ">=": mine >= other, "<": mine < other, "<=": mine <= other}[operator]

        return compare
    wanted = [_canonical(name, v, ctx) for v in values]

    def equals(issue: Searchable) -> bool:
        value = issue.jql_value(name)
        have = {str(v).lower() for v in value} if isinstance(value, list) else {str(value).lower() if value else ""}
        hit = any((w & have) if isinstance(w, set) else (w in have) for w in wanted)
        return hit if operator == "=" else not hit

    return equals


def _canonical(name: str, value: Any, ctx: JqlContext) -> Any:
    if value is None:
        return ""
    if isinstance(value, _User):
        return ctx.user_ids(value.spelling)
    if isinstance(value, datetime):
        return value
    return str(value).lower()


def _sort_key(issue: Searchable, name: str, ctx: JqlContext) -> Any:
    value = issue.jql_value(name)
    if name == "key":
        project, _, number = str(value).partition("-")
        return (ctx.project_rank.get(project.lower(), 99), project, int(number or 0))
    if name == "priority":
        return -ctx.priority_rank.get(str(value).lower(), 99)  # DESC puts Highest first
    if isinstance(value, datetime):
        return (1, value.timestamp())
    return (0 if value is None else 1, str(value or "").lower())

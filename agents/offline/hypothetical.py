"""What a write would do, told instead of done ("what would happen if …", "don't send it yet").

The explanation names the tool, the integration and the arguments the skill worked out, so the user
sees exactly what "go ahead" would run (through the usual approval step).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents.offline.render import bullets
from agents.offline.skill import Call, ToolInfo

HYPOTHETICAL_MARK = "Nothing has been changed"

_PHRASES = {
    "jira.create_issue": "create a Jira issue",
    "jira.add_comment": "add a comment to {key}",
    "jira.transition_issue": "move {key} to **{to}**",
    "jira.assign_issue": "assign {key} to **{assignee}**",
    "hl7.send": "send the message",
}


def _phrase(info: ToolInfo | None, call: Call) -> str:
    operation = info.operation if info is not None else ""
    template = _PHRASES.get(operation)
    if template is None:
        return f"run **{call.tool}**"
    try:
        return template.format(**{k: v for k, v in call.args.items() if isinstance(v, str | int)})
    except (KeyError, IndexError):
        return f"run **{call.tool}**"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\r", "\n")
    if "\n" in text or len(text) > 120:
        first = text.splitlines()[0] if text.strip() else text
        return f"`{first[:80]}` … ({len(text)} characters)"
    return f"`{text}`"


def explain_calls(tools: Sequence[ToolInfo], calls: Sequence[Call]) -> str:
    by_name = {t.name: t for t in tools}
    parts = []
    for call in calls:
        info = by_name.get(call.tool)
        where = f" on **{info.integration_name}**" if info is not None and info.integration_name else ""
        details = bullets(f"**{k}:** {_value(v)}" for k, v in call.args.items() if v not in (None, "", [], {}))
        parts.append(f"If you go ahead, I would {_phrase(info, call)}{where} (tool `{call.tool}`):\n\n{details}")
    return (
        "\n\n".join(parts)
        + f"\n\n{HYPOTHETICAL_MARK}: I only explained it. Say **go ahead** when you want me to do it "
        "(you will still approve it before anything changes)."
    )

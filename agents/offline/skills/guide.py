"""The detailed user guide: how to use Switchboard, written for the user's own integrations.

"What can you do?" gets the short help answer (`general`); asking for a guide, a walkthrough or the
details gets this longer one. It needs no tool call: everything in it is about the product itself and
the tools bound to the model, so nothing is invented.
"""

from __future__ import annotations

import re

from agents.offline.render import bullets
from agents.offline.skill import Reply, Step, ToolInfo, Turn

_GUIDE = re.compile(r"\b(guide|tutorial|walk ?through|walk me through|getting started|get started|manual)\b")
# "In detail" alone could be about an issue or a patient; about the product itself it asks for the guide.
_DETAIL = re.compile(r"\b(in detail|detailed|step[- ]by[- ]step|explain how (you|switchboard) works?)\b")
_ABOUT_US = re.compile(r"\b(switchboard|you|this app|this tool|help|use|work|works)\b")
_TYPE_NAMES = {"jira": "Jira", "emr": "EMR (FHIR R4)", "hl7": "HL7 v2"}

# What a user can ask once a system of that type is connected (the skills behind them say the same).
_EXAMPLES = {
    "jira": '"my open issues", "show PROJ-12", "comment on PROJ-12: fixed"',
    "emr": '"find patient Jane Smith born 1980-04-02", "her labs and medications"',
    "hl7": 'paste a message and ask "send this to <system>"',
}


class GuideSkill:
    name = "guide"

    def score(self, turn: Turn) -> float:
        text = turn.normalized
        # Same weight as `general`'s help, which it precedes: any domain skill sure of a request wins.
        asked = _GUIDE.search(text) or (_DETAIL.search(text) and _ABOUT_US.search(text))
        return 0.6 if asked else 0.0

    def step(self, turn: Turn) -> Step:
        return Reply(guide(turn.tools, list(turn.capabilities)))

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return []  # the short help answer points here itself


def guide(tools: tuple[ToolInfo, ...], abilities: list[str]) -> str:
    """The guide in markdown, naming the user's connected systems and what they allow."""
    connected = sorted({(t.integration_name, t.integration_type) for t in tools if t.integration_name})
    if connected:
        systems = bullets(f"**{name}** ({_TYPE_NAMES.get(kind or '', kind)})" for name, kind in connected)
    else:
        systems = (
            "None yet. Open **Integrations**, add a Jira site, an EMR or an HL7 v2 system, and use "
            "**Test connection** before saving."
        )
    missing = [kind for kind in _EXAMPLES if kind not in {k for _, k in connected}]
    examples = [f"{_TYPE_NAMES[kind]}, once connected: {_EXAMPLES[kind]}" for kind in missing]
    sections = [
        "## How a conversation works\n"
        "Ask in plain words. I pick the connected system that can answer, call its tools and write the "
        "answer only from what they return; I never make data up. You see each tool call and its result as "
        "it happens. Press **Stop** at any time and the "
        "partial answer is kept.",
        "## Your systems\n" + systems,
        "## What you can ask\n" + bullets([*abilities, *examples] or ["Connect a system first."]),
        "## Approvals\n"
        "Reads run at once. Changes (creating an issue, a comment, sending a message) wait until you "
        "approve, edit or reject them; admins can allow, require or deny each tool.",
        "## Conversations\n"
        "Chats are saved: search them, regenerate an answer, edit a message to rerun from there, or "
        "export as Markdown or JSON. Rename one by its title. A dropped connection resumes where it stopped.",
    ]
    return "Here is how to use Switchboard.\n\n" + "\n\n".join(sections)


SKILL = GuideSkill()

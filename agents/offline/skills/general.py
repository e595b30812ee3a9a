"""Greetings, help, thanks, and the honest fallback for requests no other skill understands."""

from __future__ import annotations

import re

from agents.offline.render import bullets
from agents.offline.skill import Reply, Step, ToolInfo, Turn

_GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|(good )?(morning|afternoon|evening)|greetings|yo)\b")
_YOU = r"(you|u|ya)"
# People ask for help in many ways: "wat can u do", "what are you capable of", "which systems am I on".
_HELP = re.compile(
    rf"\b(help|wh?at (else )?(can|could) {_YOU} (actually |really |even )?do|what do {_YOU} do|capabilit(y|ies)|"
    rf"what are {_YOU} (capable of|able to do|good for|for)|how do i use|how (do|does) (this|it|switchboard) work|"
    rf"who are {_YOU}|where (do i|to) start|(which|what) (systems|integrations|connections|tools)\b.*\b"
    rf"(have|connected|use|access)|what am i connected to|am i connected)\b"
)
_THANKS = re.compile(r"^(thanks|thank you|thx|ty|cheers|great|perfect|ok(ay)?|cool|nice|awesome)\b")
_THANKS_ANYWHERE = re.compile(r"\b(thanks|thank you|thx|cheers|much appreciated)\b")


def _is_thanks(text: str) -> bool:
    """Short and grateful ("thanks!", "cool, thanks", "perfect, thx"); "ok close it" asks for more."""
    words = len(text.split())
    return (words <= 6 and bool(_THANKS_ANYWHERE.search(text))) or (words <= 3 and bool(_THANKS.match(text)))


_TYPE_NAMES = {"jira": "Jira", "emr": "EMR (FHIR)", "hl7": "HL7 v2"}


class GeneralSkill:
    name = "general"

    def score(self, turn: Turn) -> float:
        text = turn.normalized
        if _HELP.search(text):
            return 0.6
        if _is_thanks(text):
            return 0.5
        if _GREETING.match(text):
            return 0.5 if len(text.split()) <= 6 else 0.1
        return 0.05  # the fallback: any domain skill that understands the request wins

    def step(self, turn: Turn) -> Step:
        text = turn.normalized
        if _is_thanks(text) and not _HELP.search(text):
            return Reply("You're welcome! Anything else I can look up or do for you?")
        abilities = list(turn.capabilities)
        if _GREETING.match(text) or _HELP.search(text):
            return Reply(self._help(turn.tools, abilities, greeting=bool(_GREETING.match(text))))
        suggestions = (
            bullets(abilities[:5])
            if abilities
            else bullets(
                ["Connect an integration (Jira, an EMR over FHIR, or an HL7 v2 system) under **Integrations**."]
            )
        )
        return Reply(
            "I can't do that yet — I only act through the integrations you have connected, and I won't guess "
            "or make up data.\n\nHere is what I can do:\n" + suggestions
        )

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return []

    def _help(self, tools: tuple[ToolInfo, ...], abilities: list[str], *, greeting: bool) -> str:
        opening = "Hello! I'm Switchboard, your integration assistant." if greeting else "I'm Switchboard."
        connected = sorted({(t.integration_name, t.integration_type) for t in tools if t.integration_name})
        if connected:
            systems = ", ".join(f"**{name}** ({_TYPE_NAMES.get(kind or '', kind)})" for name, kind in connected)
            body = f"You're connected to {systems}."
        else:
            body = "You have no integrations connected yet."
        if abilities:
            body += "\n\nI can:\n" + bullets(abilities)
        else:
            body += (
                "\n\nConnect Jira, an EMR (FHIR R4) or an HL7 v2 system under **Integrations**, and I can search "
                "and act there for you. Actions that change something always ask for your approval first."
            )
        return f"{opening} {body}\n\nAsk me for a guide to get the details."


SKILL = GeneralSkill()

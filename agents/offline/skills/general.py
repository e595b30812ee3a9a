"""Greetings, help, thanks, and the honest fallback for requests no other skill understands."""

from __future__ import annotations

import re

from agents.offline.render import bullets
from agents.offline.skill import Reply, Step, ToolInfo, Turn
from agents.offline.understanding import Operation
from agents.offline.understanding.replies import fallback

_GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|(good )?(morning|afternoon|evening|day)|greetings|yo)\b")
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


OPERATIONS = (
    Operation("general.help", "tell you what I can do", (
        "what can you do", "help", "what are you able to help with", "how does this work",
        "what systems am i connected to", "what can i ask you", "i'm new here, where do i start",
        "what are your features", "which integrations do i have", "what is this assistant for",
        "what kind of things do you handle", "who are you", "what are you", "i am a new user here",
        "first time using this",
    ), needs=""),
    Operation("general.greeting", "say hello", (
        "hi", "hello there", "good morning", "hey", "hiya, how are you",
    ), needs=""),
    Operation("general.thanks", "say you're welcome", (
        "thanks", "thank you so much", "great, cheers", "perfect, that's all", "ok thanks bye",
    ), needs=""),
)  # fmt: skip


class GeneralSkill:
    name = "general"
    operations = OPERATIONS

    def score(self, turn: Turn) -> float:
        text = turn.normalized
        if _HELP.search(text):
            return 0.6
        if _is_thanks(text):
            return 0.5
        if _GREETING.match(text):
            return 0.5 if len(text.split()) <= 6 else 0.1
        understanding = turn.understanding
        best = understanding.ranking.best if understanding is not None else None
        if best is not None and best[0] == "general.help" and best[1] >= 0.45:
            return 0.55  # asked for help in words no pattern knows
        return 0.05  # the fallback: any domain skill that understands the request wins

    def step(self, turn: Turn) -> Step:
        text = turn.normalized
        if _is_thanks(text) and not _HELP.search(text):
            return Reply("You're welcome! Anything else I can look up or do for you?")
        abilities = list(turn.capabilities)
        understanding = turn.understanding
        best = understanding.ranking.best if understanding is not None else None
        asked_help = best is not None and best[0] == "general.help" and best[1] >= 0.45
        if _GREETING.match(text) or _HELP.search(text) or asked_help:
            return Reply(self._help(turn.tools, abilities, greeting=bool(_GREETING.match(text))))
        return Reply(fallback(turn.tools, abilities))

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

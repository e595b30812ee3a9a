"""HL7 requests: explain or validate a message, send it to one of the user's HL7 integrations, say whether
a sent message was accepted, build one from a description, look up recent traffic.

Only the user's own words choose what to do (`understanding.pasted`): a pasted message is data, passed
to the tools exactly as pasted (line endings normalised), and never read for verbs or destinations.
A send needs the user to ask for it; hypotheticals and "not yet" validate instead.
"""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.offline.render import bullets, failure
from agents.offline.skill import Call, Reply, Step, ToolInfo, ToolOutcome, Turn, normalize
from agents.offline.skills.hl7_answers import ack_answer, send_reply, validation_reply
from agents.offline.skills.hl7_examples import OPERATIONS
from agents.offline.skills.hl7_explain import walkthrough
from agents.offline.skills.hl7_intents import (
    build_arguments,
    build_reply,
    message_kind,
    recent_arguments,
    recent_reply,
)
from agents.offline.skills.hl7_knowledge import knowledge_answer
from agents.offline.skills.hl7_words import (
    act_for_message,
    asks_ack,
    asks_build,
    asks_recent,
    destination_of,
    has_send_request,
    is_hypothetical,
    mentions_hl7,
    refers_to_message,
    wants_both,
)
from agents.offline.understanding.pasted import split_pasted


def own_words(text: str) -> str:
    """The user's words of a message, normalised, with anything they pasted taken out."""
    return normalize(split_pasted(text).own_words)


def pasted_message(text: str) -> str | None:
    """The HL7 message pasted in `text`, byte for byte from MSH (line endings as \\r), or None."""
    return split_pasted(text).hl7


def earlier_message(turn: Turn) -> str | None:
    """The message the conversation is about: the latest one pasted, built, or handed to an HL7 tool."""
    names = {t.name: t.operation for t in turn.tools}
    for message in reversed(turn.history):
        if isinstance(message, HumanMessage):
            if found := pasted_message(str(message.content)):
                return found
        elif isinstance(message, ToolMessage) and names.get(str(message.name)) == "hl7.build":
            data = _json(message.content)
            if isinstance(data, dict) and isinstance(data.get("message"), str):
                return str(data["message"])
        elif isinstance(message, AIMessage):
            for call in reversed(message.tool_calls):
                if names.get(call["name"], "").startswith("hl7.") and isinstance(call["args"].get("message"), str):
                    return str(call["args"]["message"])
    return None


def _hypothetical(turn: Turn, words: str) -> bool:
    """ "What would happen if I sent this", "don't send it yet": the planner's reading when it made one."""
    understanding = getattr(turn, "understanding", None)
    if understanding is not None:
        return bool(understanding.hypothetical) or is_hypothetical(words)
    return is_hypothetical(words)


def _json(content: object) -> object:
    try:
        return json.loads(content) if isinstance(content, str) else None
    except ValueError:
        return None


def _last_send(turn: Turn) -> ToolOutcome | None:
    for outcome in reversed(turn.earlier_outcomes + turn.outcomes):
        if outcome.operation == "hl7.send" or outcome.tool_name.endswith("hl7_send"):
            return outcome
    return None


class Hl7Skill:
    name = "hl7"
    operations = OPERATIONS

    def score(self, turn: Turn) -> float:
        if not turn.has_operation("hl7."):
            return 0.0
        if pasted_message(turn.text):
            return 0.9 if _this_step_is_hl7(turn) else 0.5
        words = own_words(turn.text)
        if self._intent(turn, words):
            return 0.92
        if asks_ack(words) and _last_send(turn) is not None and _latest_write_is_hl7(turn):
            return 0.9
        if asks_ack(words) and mentions_hl7(words) and turn.tools_for("hl7.recent_messages"):
            return 0.86  # "did the last message go through?" with nothing sent here: ask the message store
        if not (earlier_message(turn) and refers_to_message(words)) and self._knowledge(turn):
            return 0.87
        if earlier_message(turn) and refers_to_message(words):
            if has_send_request(words) or is_hypothetical(words) or act_for_message(words) != "explain":
                return 0.88
            if any(w in words for w in ("explain", "mean", "decode", "break", "walk", "what", "tell me", "obx")):
                return 0.88
        return 0.0

    def _intent(self, turn: Turn, words: str) -> str | None:
        """What a request without a pasted message asks for: build, recent, or send the last built one."""
        if asks_build(words) and message_kind(words) and turn.tools_for("hl7.build"):
            return "build"
        if has_send_request(words) and turn.last_outcome("hl7.build") and turn.tools_for("hl7.send"):
            built = turn.last_outcome("hl7.build")
            return "send_built" if built is not None and built.ok else None
        if asks_recent(words) and not asks_ack(words) and turn.tools_for("hl7.recent_messages"):
            return "recent"
        return None

    def step(self, turn: Turn) -> Step:
        words = own_words(turn.text)
        if turn.outcomes:
            return Reply(self._reply(turn, words, turn.outcomes[-1]))
        message = pasted_message(turn.text)
        intent = None if message else self._intent(turn, words)
        if intent == "build":
            destinations = [t.integration_name for t in turn.tools_for("hl7.send") if t.integration_name]
            arguments = build_arguments(split_pasted(turn.text).own_words, destinations)
            if isinstance(arguments, str):
                return Reply(arguments)
            return [Call(turn.tools_for("hl7.build")[0].name, arguments)]
        if intent == "recent":
            tool = turn.tools_for("hl7.recent_messages")[0]
            return [Call(tool.name, recent_arguments(words, turn.now))]
        if intent == "send_built":
            built = turn.last_outcome("hl7.build")
            assert built is not None and isinstance(built.data, dict)
            message = str(built.data.get("message", ""))
        if message is None and asks_ack(words):
            return self._ack(turn)
        if message is None and not (earlier_message(turn) and refers_to_message(words)):
            answer = self._knowledge(turn)
            if answer:
                return Reply(answer)
        message = message or earlier_message(turn)
        if message is None:
            return Reply("Paste the HL7 message (starting with `MSH|`) and I will read it.")
        act = "send" if intent == "send_built" else act_for_message(words)
        if _hypothetical(turn, words) and act in ("send", "explain"):
            act = "validate"  # asking about a send: check it and say what would happen, never send
        if act == "ack":
            return self._ack(turn)
        if act == "send":
            return self._send(turn, words, message)
        operation = "hl7.explain" if act == "explain" or wants_both(words) else "hl7.validate"
        tools = turn.tools_for(operation)
        return [Call(tools[0].name, {"message": message})] if tools else Reply("I can't read HL7 here.")

    @staticmethod
    def _knowledge(turn: Turn) -> str | None:
        understanding = getattr(turn, "understanding", None)
        raw = str(understanding.own_words) if understanding is not None else split_pasted(turn.text).own_words
        return knowledge_answer(raw)

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        lines = []
        if any(t.operation == "hl7.explain" for t in tools):
            lines.append("Explain or validate an HL7 v2 message you paste")
        if any(t.operation == "hl7.build" for t in tools):
            lines.append("Build ADT, ORU and ORM messages (e.g. 'build an ADT A01 for John Smith MRN 12345')")
        if any(t.operation == "hl7.recent_messages" for t in tools):
            lines.append("Look up recent HL7 traffic (e.g. 'any ADT for patient 12345 today?')")
        senders = [t.integration_name for t in tools if t.operation == "hl7.send" and t.integration_name]
        if senders:
            lines.append(f"Send HL7 messages to {', '.join(senders)} (after your approval)")
        return lines

    # ----------------------------------------------------------------- flows

    def _send(self, turn: Turn, words: str, message: str) -> Step:
        senders = [t for t in turn.tools_for("hl7.send") if t.integration_name]
        if not senders:
            return Reply("You have no HL7 integration to send to. Add one under **Integrations** first.")
        names = [str(t.integration_name) for t in senders]
        destination = destination_of(words, names)
        listed = ", ".join(f"**{n}**" for n in names)
        if destination.integration is None and destination.asked:
            return Reply(
                f"I don't have an HL7 integration called “{destination.asked}”, so I have not sent anything. "
                f"Your HL7 integrations: {listed}. Which one should I send it to?"
            )
        if destination.integration is None and len(senders) > 1:
            return Reply(f"Which HL7 integration should I send it to? Yours: {listed}. Nothing has been sent yet.")
        chosen = next(t for t in senders if t.integration_name == (destination.integration or names[0]))
        return [Call(chosen.name, {"message": message})]

    def _ack(self, turn: Turn) -> Step:
        sent = _last_send(turn)
        if sent is not None:
            return Reply(ack_answer(sent))
        looked = [o for o in turn.outcomes if o.operation == "hl7.recent_messages"]
        if looked:
            return Reply(ack_answer(looked[-1]))
        tools = turn.tools_for("hl7.recent_messages")
        if not tools:
            return Reply("I have not sent an HL7 message in this conversation, so there is no ACK to report.")
        return [Call(tools[0].name, {"direction": "outbound", "limit": 5})]

    def _reply(self, turn: Turn, words: str, outcome: ToolOutcome) -> str:
        operation = outcome.operation
        data = outcome.data
        if operation == "hl7.recent_messages" and asks_ack(words) and not pasted_message(turn.text):
            return ack_answer(outcome)
        if not outcome.ok or not isinstance(data, dict):
            doing = {
                "hl7.send": "send the message",
                "hl7.build": "build the message",
                "hl7.recent_messages": "look up the messages",
            }.get(operation or "", "read the message")
            return failure(outcome.content, doing, "the HL7 system")
        if operation == "hl7.build":
            return build_reply(data)
        if operation == "hl7.recent_messages":
            return recent_reply(data)
        if operation == "hl7.send":
            return send_reply(data)
        if operation == "hl7.validate":
            return validation_reply(data, hypothetical=_hypothetical(turn, words))
        return self._explanation(data, _hypothetical(turn, words))

    def _explanation(self, data: dict[str, object], hypothetical: bool) -> str:
        problems = data.get("problems") or []
        assert isinstance(problems, list)
        errors = [p for p in problems if p.get("severity") == "error"]
        lines = bullets(f"**{p['location']}** ({p['severity']}): {p['message']}" for p in problems)
        if errors:
            return validation_reply(data, hypothetical=hypothetical, explained=True)
        text = walkthrough(data)
        verdict = "It validates cleanly." if not problems else "It is valid, with notes:\n" + lines
        return text + "\n\n" + verdict


def _this_step_is_hl7(turn: Turn) -> bool:
    """In a compound request ("check her allergies, then explain this message") the pasted message belongs
    to the step whose words are about HL7, not to every step."""
    understanding = getattr(turn, "understanding", None)
    if understanding is None or len(understanding.steps) < 2:
        return True
    best = understanding.ranking.best
    return best is None or best[0].startswith("hl7.")


def _latest_write_is_hl7(turn: Turn) -> bool:
    """ "Did it go through?" is about the latest thing sent: an HL7 send, not a Jira update."""
    for outcome in reversed(turn.earlier_outcomes):
        if outcome.tool and outcome.tool.access == "write":
            return outcome.operation == "hl7.send"
    return True


SKILL = Hl7Skill()

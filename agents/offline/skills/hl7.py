"""HL7 requests: explain or validate a pasted message, send it to an HL7 integration."""

from __future__ import annotations

import re

from agents.offline.render import bullets, failure, table
from agents.offline.skill import Call, Reply, Step, ToolInfo, ToolOutcome, Turn
from agents.offline.skills.hl7_intents import (
    BUILD_INTENT,
    RECENT_INTENT,
    build_arguments,
    build_reply,
    message_kind,
    recent_arguments,
    recent_reply,
)

_MESSAGE = re.compile(r"MSH\|.*", re.DOTALL)
_SEGMENT_BREAK = re.compile(r"\r\n|\r|\n|\\r|[ \t]+(?=[A-Z][A-Z0-9]{2}\|)")
_VALIDATE = re.compile(
    r"\b(valid|validate|check|lint|correct|problems?|wrong|errors?|broken|naks?|naking|rejected|ok to send|"
    r"okay to send|safe to send|ready to send)\b"
)
_SEND = re.compile(r"\b(send|transmit|forward|route|deliver)\b")
# "is this ok to send?" asks about the message; only a request to send sends it.
_SEND_QUESTION = re.compile(r"\b(ok|okay|safe|ready|fine|good) to (send|transmit)\b|\b(can|should) i (send|transmit)\b")
# A follow-up about a message pasted earlier: "is it valid?", "send it to ...", "explain the OBX".
_FOLLOW_UP = re.compile(
    r"\b(it|this|that|the (message|msg)|msg|segments?|fields?|"
    r"(msh|evn|pid|pd1|nk1|pv1|pv2|obr|obx|orc|nte|al1|dg1|in1|rxa|sch|z[a-z0-9]{2})(-\d+)?)\b"
)
_ABOUT_MESSAGE = re.compile(r"\b(explain|mean|means|decode|break (it |this )?down|walk me through|what is|what's)\b")


def earlier_message(turn: Turn) -> str | None:
    """The HL7 message the conversation is about: the last one pasted, or the last one a tool read."""
    for text in reversed(turn.previous_user_texts()):
        if message := pasted_message(text):
            return message
    for outcome in reversed(turn.earlier_outcomes):
        if (outcome.operation or "").startswith("hl7.") and isinstance(outcome.args.get("message"), str):
            return str(outcome.args["message"])
    return None


def _follows_up(turn: Turn) -> bool:
    text = turn.normalized
    wants = _VALIDATE.search(text) or _SEND.search(text) or _ABOUT_MESSAGE.search(text)
    return bool(wants and _FOLLOW_UP.search(text) and turn.has_operation("hl7.") and earlier_message(turn))


def pasted_message(text: str) -> str | None:
    match = _MESSAGE.search(text)
    if not match:
        return None
    # Segments arrive one per line, or — pasted from a log or a chat box — on one line separated by spaces.
    lines = [line.strip() for line in _SEGMENT_BREAK.split(match.group(0)) if line.strip()]
    segments = [line for line in lines if re.match(r"^[A-Z][A-Z0-9]{2}\|", line)]
    return "\r".join(segments) if segments else None


class Hl7Skill:
    name = "hl7"

    def score(self, turn: Turn) -> float:
        if pasted_message(turn.text) and turn.has_operation("hl7."):
            return 0.9
        if self._intent(turn):
            return 0.92
        return 0.88 if _follows_up(turn) else 0.0

    def _intent(self, turn: Turn) -> str | None:
        """What a request without a pasted message asks for: build, recent, or send the last built one."""
        text = turn.normalized
        if BUILD_INTENT.search(text) and message_kind(text) and turn.tools_for("hl7.build"):
            return "build"
        if _SEND.search(text) and turn.last_outcome("hl7.build") and turn.tools_for("hl7.send"):
            return "send_built"
        if RECENT_INTENT.search(text) and turn.tools_for("hl7.recent_messages"):
            return "recent"
        return None

    def step(self, turn: Turn) -> Step:
        if turn.outcomes:
            outcome = turn.outcomes[-1]
            return Reply(self._reply(outcome.operation, outcome.data, outcome))
        message = pasted_message(turn.text)
        intent = None if message else self._intent(turn)
        if intent == "build":
            destinations = [t.integration_name for t in turn.tools_for("hl7.send") if t.integration_name]
            arguments = build_arguments(turn.text, destinations)
            if isinstance(arguments, str):
                return Reply(arguments)
            return [Call(turn.tools_for("hl7.build")[0].name, arguments)]
        if intent == "recent":
            tool = turn.tools_for("hl7.recent_messages")[0]
            return [Call(tool.name, recent_arguments(turn.normalized, turn.now))]
        if intent == "send_built":
            built = turn.last_outcome("hl7.build")
            assert built is not None and isinstance(built.data, dict)
            message = str(built.data.get("message", ""))
        message = message or earlier_message(turn)
        if message is None:
            return Reply("Paste the HL7 message (starting with `MSH|`) and I will read it.")
        text = turn.normalized
        if _SEND.search(text) and not _SEND_QUESTION.search(text):
            senders = turn.tools_for("hl7.send")
            if not senders:
                return Reply("You have no HL7 integration to send to. Add one under **Integrations** first.")
            named = [t for t in senders if t.integration_name and t.integration_name.lower() in text]
            return [Call((named or senders)[0].name, {"message": message})]
        operation = "hl7.validate" if _VALIDATE.search(text) else "hl7.explain"
        tools = turn.tools_for(operation)
        return [Call(tools[0].name, {"message": message})] if tools else Reply("I can't read HL7 here.")

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

    def _reply(self, operation: str | None, data: object, outcome: ToolOutcome) -> str:
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
        problems = data.get("problems") or []
        problem_lines = bullets(f"**{p['location']}** ({p['severity']}): {p['message']}" for p in problems)
        summary = data.get("summary") or {}
        kind = "^".join(x for x in (summary.get("message_type"), summary.get("trigger_event")) if x)
        heading = (
            f"**{kind or 'HL7'}** message, version {summary.get('version', '?')}, control id "
            f"`{summary.get('control_id', '?')}`"
        )
        if operation == "hl7.send":
            if not data.get("sent", True):
                return "I did not send it, because the message has problems:\n" + problem_lines
            if not data.get("code"):
                retry = " It is queued and will be retried automatically." if data.get("will_retry") else ""
                return f"I could not deliver it to **{data.get('destination')}** yet: {data.get('error')}.{retry}" + (
                    f" Track it as message `{data['message_id']}`." if data.get("message_id") else ""
                )
            verdict = "accepted" if data.get("accepted") else "not accepted"
            return (
                f"Sent to **{data.get('destination')}**: ACK **{data.get('code')}** ({data.get('meaning')}), "
                f"{verdict}, in {data.get('latency_ms') or 0:.0f} ms."
                + (f"\n\n{data['error']}" if data.get("error") else "")
                + (f"\n\nRecorded in the message store as `{data['message_id']}`." if data.get("message_id") else "")
            )
        if operation == "hl7.validate":
            verdict = "is **valid**" if data.get("valid") else "is **not valid**"
            return f"The {heading} {verdict}." + (f"\n\nProblems:\n{problem_lines}" if problems else "")
        rows = [
            {
                "segment": segment["name"],
                "field": f["position"],
                "name": f["name"],
                "value": f.get("text") or f["value"],
            }
            for segment in data.get("segments", [])
            for f in segment.get("fields", [])
        ]
        parts = [heading + "."]
        if summary.get("patient_id"):
            parts.append(f"Patient `{summary['patient_id']}` {summary.get('patient_name', '')}".rstrip() + ".")
        parts.append(table(rows, [("segment", "Segment"), ("field", "Field"), ("name", "Name"), ("value", "Value")]))
        if problems:
            parts.append("Problems:\n" + problem_lines)
        return "\n\n".join(parts)


SKILL = Hl7Skill()

"""HL7 requests: explain or validate a pasted message, send it to an HL7 integration."""

from __future__ import annotations

import re

from agents.offline.render import bullets, table
from agents.offline.skill import Call, Reply, Step, ToolInfo, Turn

_MESSAGE = re.compile(r"MSH\|.*", re.DOTALL)
_VALIDATE = re.compile(r"\b(valid|validate|check|lint|correct|problems?)\b")
_SEND = re.compile(r"\b(send|transmit|forward|route|deliver)\b")


def pasted_message(text: str) -> str | None:
    match = _MESSAGE.search(text)
    if not match:
        return None
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", match.group(0)) if line.strip()]
    segments = [line for line in lines if re.match(r"^[A-Z][A-Z0-9]{2}\|", line)]
    return "\r".join(segments) if segments else None


class Hl7Skill:
    name = "hl7"

    def score(self, turn: Turn) -> float:
        return 0.9 if pasted_message(turn.text) and turn.has_operation("hl7.") else 0.0

    def step(self, turn: Turn) -> Step:
        message = pasted_message(turn.text)
        assert message is not None
        text = turn.normalized
        if turn.outcomes:
            return Reply(self._reply(turn.outcomes[-1].operation, turn.outcomes[-1].data, turn.outcomes[-1]))
        if _SEND.search(text):
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
        senders = [t.integration_name for t in tools if t.operation == "hl7.send" and t.integration_name]
        if senders:
            lines.append(f"Send HL7 messages to {', '.join(senders)} (after your approval)")
        return lines

    def _reply(self, operation: str | None, data: object, outcome: object) -> str:
        from agents.offline.skill import ToolOutcome

        assert isinstance(outcome, ToolOutcome)
        if not outcome.ok or not isinstance(data, dict):
            return f"That did not work: {outcome.content}"
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
            verdict = "accepted" if data.get("accepted") else "not accepted"
            return (
                f"Sent to **{data.get('destination')}**: ACK **{data.get('code')}** ({data.get('meaning')}), "
                f"{verdict}, in {data.get('latency_ms', 0):.0f} ms."
                + (f"\n\n{data['error']}" if data.get("error") else "")
            )
        if operation == "hl7.validate":
            verdict = "is **valid**" if data.get("valid") else "is **not valid**"
            return f"The {heading} {verdict}." + (f"\n\nProblems:\n{problem_lines}" if problems else "")
        rows = [
            {"segment": segment["name"], "field": f["position"], "name": f["name"], "value": f["value"]}
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

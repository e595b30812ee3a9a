"""Answers about HL7 results that lead with the verdict: valid or not (and every located problem), sent
and accepted or not (the ACK code and what it means — an AE is an error, not a success)."""

from __future__ import annotations

from typing import Any

from agents.offline.render import bullets, failure
from agents.offline.skill import ToolOutcome

ACK_MEANINGS = {
    "AA": ("accepted", "Application Accept: the receiving application processed it"),
    "CA": ("accepted", "Commit Accept: the receiver committed it to safe storage"),
    "AE": ("not accepted", "Application Error: the receiver got it but could not process it"),
    "CE": ("not accepted", "Commit Error: the receiver could not commit it"),
    "AR": ("rejected", "Application Reject: the receiver refused it (wrong type, version or destination)"),
    "CR": ("rejected", "Commit Reject: the receiver refused it"),
}


def ack_sentence(code: str | None) -> tuple[str, str]:
    """("ACK **AE** (Application Error: …)", "not accepted") for an ACK code."""
    verdict, meaning = ACK_MEANINGS.get(code or "", ("not confirmed", "a code I don't recognise"))
    return (f"ACK **{code}** ({meaning})" if code else "no ACK"), verdict


def _problem_lines(problems: list[dict[str, Any]]) -> str:
    return bullets(f"**{p['location']}** ({p['severity']}): {p['message']}" for p in problems)


def _describe(summary: dict[str, Any]) -> str:
    kind = "^".join(x for x in (summary.get("message_type"), summary.get("trigger_event")) if x) or "HL7"
    parts = [
        f"**{kind}** message, version {summary.get('version', '?')}, control id `{summary.get('control_id', '?')}`"
    ]
    if summary.get("patient_id") or summary.get("patient_name"):
        who = " ".join(
            str(x)
            for x in (
                summary.get("patient_name"),
                f"(`{summary['patient_id']}`)" if summary.get("patient_id") else None,
            )
            if x
        )
        parts.append(f"patient {who}")
    return ", ".join(parts)


def validation_reply(data: dict[str, Any], *, hypothetical: bool = False, explained: bool = False) -> str:
    """Valid or not first, then every problem with its location; a hypothetical send is answered too."""
    problems = list(data.get("problems") or [])
    errors = [p for p in problems if p.get("severity") == "error"]
    valid = bool(data.get("valid", not errors)) and not errors
    described = _describe(data.get("summary") or {})
    if valid:
        head = f"Yes — the {described} is **valid**."
        if problems:
            head += f" {len(problems)} note(s), none of them errors:\n\n" + _problem_lines(problems)
    else:
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        head = f"No — the {described} is **not valid**: {count}.\n\nProblems:\n" + _problem_lines(problems)
        if explained:
            head += "\n\nI can walk through its fields once these are fixed."
    if hypothetical:
        if valid:
            head += (
                "\n\nI have **not sent** it. It passes validation, so a receiver that checks the structure should "
                "acknowledge it with **AA** (accepted); say *send it to …* when you want it to go."
            )
        else:
            head += (
                "\n\nI have **not sent** it, and I would not: Switchboard refuses to send a message with errors, "
                "and a receiver would answer **AE** (application error) or **AR** (rejected)."
            )
    return head


def send_reply(data: dict[str, Any]) -> str:
    """What happened when the message went out, verdict first."""
    destination = data.get("destination") or "the receiver"
    if not data.get("sent", True):
        return "I did **not** send it, because the message has errors:\n" + _problem_lines(
            list(data.get("problems") or [])
        )
    code = data.get("code")
    if not code:
        retry = " It is queued and will be retried automatically." if data.get("will_retry") else ""
        track = f" Track it as message `{data['message_id']}`." if data.get("message_id") else ""
        return f"Not yet delivered to **{destination}**: {data.get('error') or 'no ACK came back'}.{retry}{track}"
    text, verdict = ack_sentence(str(code))
    latency = f" in {data.get('latency_ms') or 0:.0f} ms" if data.get("latency_ms") is not None else ""
    lead = {
        "accepted": f"Sent to **{destination}** and **accepted**: {text}{latency}.",
        "not accepted": f"Sent to **{destination}**, but it was **not accepted**: {text}{latency}.",
        "rejected": f"Sent to **{destination}**, but it was **rejected**: {text}{latency}.",
    }.get(verdict, f"Sent to **{destination}**: {text}{latency}.")
    extra = f"\n\nThe receiver said: {data['error']}" if data.get("error") else ""
    stored = f"\n\nRecorded in the message store as `{data['message_id']}`." if data.get("message_id") else ""
    return lead + extra + stored


def ack_answer(outcome: ToolOutcome) -> str:
    """ "Did it go through?" from the send result of this conversation, or from the message store."""
    data = outcome.data
    if outcome.operation == "hl7.recent_messages":
        messages = list(data.get("messages") or []) if isinstance(data, dict) else []
        if not outcome.ok:
            return failure(outcome.content, "look up the messages", "the HL7 system")
        if not messages:
            return "I have no record of a message sent from your account recently, so there is no ACK to report."
        latest = messages[0]
        codes = [d for d in latest.get("destinations") or [] if d.get("ack_code")]
        code = latest.get("ack_code") or (codes[0]["ack_code"] if codes else None)
        what = f"The latest outbound message, {latest.get('type')} `{latest.get('control_id')}`"
        if not code:
            return f"{what}, has no ACK yet (status **{latest.get('status')}**)."
        text, verdict = ack_sentence(str(code))
        answer = "Yes" if verdict == "accepted" else "No"
        return f"{answer} — {what}, was **{verdict}**: {text}."
    if not outcome.ok or not isinstance(data, dict):
        if "rejected_by_user" in outcome.content:
            return "No — it was never sent: you rejected the send when I asked for approval."
        return "No — " + failure(outcome.content, "send the message", "the HL7 system")
    if not data.get("sent", True):
        return "No — I did not send it, because the message has errors:\n" + _problem_lines(
            list(data.get("problems") or [])
        )
    code = data.get("code")
    destination = data.get("destination") or "the receiver"
    if not code:
        return f"Not yet — **{destination}** has not acknowledged it: {data.get('error') or 'no ACK came back'}."
    text, verdict = ack_sentence(str(code))
    answer = "Yes" if verdict == "accepted" else "No"
    said = f" The receiver said: {data['error']}" if data.get("error") and verdict != "accepted" else ""
    return f"{answer} — **{destination}** {verdict} it: {text}.{said}"

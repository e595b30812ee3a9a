"""What an HL7 request asks for, read from the user's own words only (never from the pasted message).

The request's act is one of: explain, validate, send, ack (did a sent message go through), build,
recent (the message store). A send needs a verb that asks for it *and* no hypothetical or negation
("what would happen if I sent this", "don't send it yet", "is it ok to send?"): those validate instead.
A destination is grounded against the user's HL7 integrations; a named one that is not there is asked
about rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Act = Literal["explain", "validate", "send", "ack", "build", "recent"]

_SEND_VERB = re.compile(
    r"\b(send|sending|sent|resend|re-send|transmit\w*|forward\w*|push\w*|deliver\w*|route|submit|ship|"
    r"fire (it |this )?off|post (it|this)|pass (it|this) (on|along))\b"
)
# Asking *about* sending is not asking to send.
_HYPOTHETICAL = re.compile(
    r"\b(what (would|will|might) happen|what happens|would (it|this|they|the \w+) (be )?(accept|reject|go|pass|work|"
    r"fail|nak)\w*|will (it|this) (be )?(accept|reject|go|pass|work|fail)\w*|if i (send|sent|transmit|forward)\w*|"
    r"(ok|okay|safe|ready|fine|good|alright|allowed) to (send|transmit|forward|go)|(can|could|should|may) i (send|"
    r"transmit|forward|push)|before (i )?(send|sending|transmit)\w*|is (it|this) (ready|sendable)|dry run|preview|"
    r"simulate|hypothetical\w*|(will|would) (the )?[\w ]{0,25}(accept|reject|take|nak)\w*)\b"
)
_NEGATED_SEND = re.compile(
    r"\b(don'?t|do not|dont|never|not|no need to|without|hold off( on)?|wait( before)?|stop)\b[\w\s,']{0,20}?"
    r"\b(send|sending|transmit\w*|forward\w*|push\w*|deliver\w*)\b|\bnot (yet|now)\b|\bhold (it|off)\b"
)
_ACK_QUESTION = re.compile(
    r"\bdid\b.{0,30}\b(go through|get through|arrive|land|succeed|fail|get accepted|get rejected|get acked)\b|"
    r"\b(was|were)\b.{0,30}\b(accepted|rejected|acked|acknowledged|delivered|nak'?d|naked)\b|"
    r"\b(did (it|that|this|the (message|msg)|they|the receiver|the \w+ system) (go through|get (there|through|"
    r"delivered)|arrive|land|work|succeed|fail|accept\w*|reject\w*|nak\w*|ack\w*)|(was|is|has) (it|that|this|the "
    r"(message|msg)) (been )?(accepted|rejected|delivered|received|acked|acknowledged|naked|nak'?d|successful|sent)|"
    r"what (was|is) the ack|what did (the|they|it) (receiver|system|\w+ )?(say|reply|answer|respond|return)|"
    r"(the |an? )?ack (code|status|back)|acknowledg\w+|go through\??$|get an? (ack|nak)|any (ack|nak|response|"
    r"reply))\b"
)
_VALIDATE = re.compile(
    r"\b(valid|validate|validation|check|checks|lint|verify|correct|conform\w*|compliant|well[- ]formed|problems?|"
    r"issues?|wrong|errors?|broken|malformed|missing|fix|naks?|nak'?ing|rejected|rejecting|bounc\w+|pass|sanity)\b"
)
_EXPLAIN = re.compile(
    r"\b(explain\w*|mean|means|meaning|decode|break (it |this |that )?down|walk me through|what is|what'?s|what are|"
    r"tell me about|describe|summari[sz]e|read|interpret|translate|who is|which patient|what happened|parse|"
    r"understand|look at|field by field)\b"
)
_EXPLAIN_STRONG = re.compile(
    r"\b(explain\w*|decode|break (it |this |that )?down|walk me through|describe|tell me about|summari[sz]e|"
    r"interpret|translate|field by field|what does (it|this|that) (say|mean|contain))\b"
)
_BUILD = re.compile(r"\b(build|create|generate|make|compose|draft|write|construct|produce|craft|prepare)\b")
_RECENT = re.compile(
    r"\b(recent|latest|last|newest|any|show|list|received|sent|today|yesterday|came in|come in|incoming|inbound|"
    r"outbound|traffic|history|log)\b"
)
_HL7_WORD = re.compile(r"\b(hl7|adt|oru|orm|siu|vxu|mdm|dft|ack|nak|messages?|msgs?|feed)\b")
_MESSAGE_REF = re.compile(
    r"\b(it|this|that|the (message|msg|one)|msg|segments?|fields?|the (adt|oru|orm|siu|vxu)|"
    r"(msh|evn|pid|pd1|nk1|pv1|pv2|obr|obx|orc|nte|al1|dg1|in1|rxa|sch|z[a-z0-9]{2})(-\d+)?)\b"
)
# Words that say where a message goes: "to the demo receiver", "into Epic", "over to the lab".
_DESTINATION = re.compile(
    r"\b(?:to|into|on to|onto|over to|towards?|at|via)\s+(?P<name>(?:the\s+)?[\w&'./-]+(?:\s+[\w&'./-]+){0,5})"
)
_DESTINATION_STOP = re.compile(
    r"\s+\b(please|pls|plz|now|then|and|but|thanks|thank|asap|right|for|so|when|if|after|once|because|with|too)\b.*$"
)
_NOT_DESTINATIONS = {"it", "this", "that", "them", "me", "you", "there", "here", "go", "be", "send", "do"}
_GENERIC_NAME_WORDS = {"the", "a", "an", "hl7", "v2", "system", "interface", "integration", "endpoint", "mllp", "our"}


def has_send_request(words: str) -> bool:
    """The user's words ask to send now (not "should I send", not "don't send yet")."""
    return bool(_SEND_VERB.search(words)) and not _HYPOTHETICAL.search(words) and not _NEGATED_SEND.search(words)


def is_hypothetical(words: str) -> bool:
    return bool(_HYPOTHETICAL.search(words) or _NEGATED_SEND.search(words))


def act_for_message(words: str) -> Act:
    """What to do with a message that is pasted or already in the conversation."""
    if _ACK_QUESTION.search(words) and not _VALIDATE.search(re.sub(r"\b(accepted|rejected)\b", "", words)):
        return "ack"
    if has_send_request(words):
        return "send"
    if is_hypothetical(words) or _VALIDATE.search(words):
        return "validate"
    return "explain"


def wants_both(words: str) -> bool:
    """Explain *and* validate ("explain it and tell me if anything is wrong"); "what's wrong" only validates."""
    return bool(_EXPLAIN_STRONG.search(words) and _VALIDATE.search(words))


def asks_ack(words: str) -> bool:
    return bool(_ACK_QUESTION.search(words))


def asks_build(words: str) -> bool:
    return bool(_BUILD.search(words))


def asks_recent(words: str) -> bool:
    return bool(_RECENT.search(words) and _HL7_WORD.search(words))


def refers_to_message(words: str) -> bool:
    return bool(_MESSAGE_REF.search(words))


def mentions_hl7(words: str) -> bool:
    return bool(_HL7_WORD.search(words) or _VALIDATE.search(words) or _EXPLAIN.search(words))


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the user asked to send: a grounded integration name, or the words that matched none."""

    integration: str | None
    asked: str | None  # the user's words for the destination, when they named one


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in _GENERIC_NAME_WORDS}


def _close(a: str, b: str) -> bool:
    """Equal, or one typo apart for words of 5+ letters ("reciever")."""
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    return _edits(a, b) <= 1


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two letters counts as one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def _matches(phrase: set[str], name: set[str]) -> bool:
    if not phrase or not name:
        return False
    covered = all(any(_close(p, n) for n in name) for p in phrase)
    return covered or all(any(_close(n, p) for p in phrase) for n in name)


def destination_of(words: str, integrations: list[str]) -> Destination:
    """The integration the user's words send to: named in full, or by its distinctive words."""
    lowered = words.lower()
    for name in sorted(integrations, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name.lower())}\b", lowered):
            return Destination(name, name)
    verb = _SEND_VERB.search(lowered)
    for match in _DESTINATION.finditer(lowered, verb.end() if verb else 0):
        asked = _DESTINATION_STOP.sub("", match.group("name")).strip(" .,!?;:")
        phrase = _tokens(asked)
        if not phrase or phrase <= _NOT_DESTINATIONS:
            continue
        found = [n for n in integrations if _matches(phrase, _tokens(n))]
        if len(found) == 1:
            return Destination(found[0], asked)
        if not found:
            # Trailing words may be the rest of the sentence ("to the demo receiver first"): try prefixes.
            parts = asked.split()
            for size in range(len(parts) - 1, 0, -1):
                prefix = _tokens(" ".join(parts[:size]))
                hits = [n for n in integrations if _matches(prefix, _tokens(n))] if prefix else []
                if len(hits) == 1:
                    return Destination(hits[0], " ".join(parts[:size]))
            return Destination(None, asked)
        return Destination(None, asked)
    return Destination(None, None)

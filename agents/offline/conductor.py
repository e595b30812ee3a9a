"""Runs one user message through the understanding layer and the skills, step by step.

1. Read the request: an answer to our clarifying question resumes the earlier request with the reading
   the user picked; "go ahead" after a "what would happen" explanation runs the request it explained.
2. Split the user's own words (never pasted content) into ordered steps.
3. For each step, rank the words against every skill's operations, ask a clarifying question when two
   domains are equally likely and no skill is sure, else let the best skill take the next step. Tool
   calls carry their step (in their id), so each step sees only its own results plus the earlier steps'.
4. A hypothetical request never writes: its write calls become an explanation of what would happen.
The answers of all steps are joined into one reply.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from langchain_core.messages import AIMessage, HumanMessage

from agents.offline.hypothetical import HYPOTHETICAL_MARK, explain_calls
from agents.offline.skill import Call, Reply, Skill, Step, ToolOutcome, Turn
from agents.offline.understanding import IntentRouter, Operation, Ranking, Understanding, split_pasted
from agents.offline.understanding.dialogue import DialogueState, ordinal_index
from agents.offline.understanding.replies import CLARIFY_OPENING, clarifying_question
from agents.offline.understanding.requests import (
    is_confirmation,
    is_hypothetical,
    split_steps,
    without_greeting,
    without_hold,
)

_STEP_ID = re.compile(r"^call_s(\d+)_")
SURE = 0.85  # a skill this sure of a request (an issue key, a pasted message...) is never second-guessed


@lru_cache(maxsize=8)
def router_for(skills: tuple[Skill, ...]) -> IntentRouter:
    operations: list[Operation] = [op for skill in skills for op in getattr(skill, "operations", ())]
    return IntentRouter(operations)


_warming: list[threading.Thread] = []


def warm_in_background() -> threading.Thread:
    """Load the embedding model and embed every skill's examples off the start-up path (once per process).

    Start-up stays as fast as before; a message that arrives before warming ends waits for it."""
    if not _warming:
        from agents.offline.skills import default_skills

        thread = threading.Thread(target=lambda: router_for(default_skills()).warm(), name="offline-warm", daemon=True)
        thread.start()
        _warming.append(thread)
    return _warming[0]


def step_of(outcome: ToolOutcome) -> int:
    match = _STEP_ID.match(outcome.call_id)
    return int(match.group(1)) if match else 0


def choose(skills: Sequence[Skill], turn: Turn) -> tuple[Skill, float]:
    """The highest-scoring skill and its score; ties go to the one listed first."""
    best, best_score = skills[-1], -1.0
    for skill in skills:
        score = skill.score(turn)
        if score > best_score:
            best, best_score = skill, score
    return best, best_score


def ask_skill(skills: Sequence[Skill], turn: Turn) -> Step:
    """One step of one request: the best skill decides; unknown tools are dropped; loops are cut."""
    skill, _ = choose(skills, turn)
    step = skill.step(turn)
    if isinstance(step, list):
        known = {t.name for t in turn.tools}
        step = [c for c in step if c.tool in known]
        if not step:
            return Reply("I can't do that with the integrations you have connected.")
        if len(turn.outcomes) >= 8:  # a skill that keeps calling tools would loop forever
            return Reply("I stopped after several tool calls without reaching an answer. Please narrow the request.")
    return step


@dataclass(frozen=True)
class Request:
    text: str  # the message to act on (an earlier one when this message answers our question)
    hypothetical: bool
    forced: str | None = None  # the operation label the user picked in answer to a clarifying question
    confirmed: bool = False  # "go ahead" after we explained what this (hypothetical) request would do


def conduct(skills: Sequence[Skill], turn: Turn) -> Step:
    skills = tuple(skills)
    router = router_for(skills)
    request = read_request(turn, router)
    pasted = split_pasted(request.text)
    available = [t.operation for t in turn.tools]
    held = request.hypothetical or request.confirmed
    own = without_hold(pasted.own_words) if held else without_greeting(pasted.own_words)
    steps = split_steps(own) if not request.forced else [own]
    if len(steps) > 1 and not _distinct(router, steps, available):
        steps = [own]
    answers: list[str] = []
    for index, words in enumerate(steps):
        mine = tuple(o for o in turn.outcomes if step_of(o) == index)
        before = tuple(o for o in turn.outcomes if step_of(o) < index)
        ranking = _forced(router, request.forced) if request.forced else router.rank(words, available)
        whole = len(steps) == 1 and words == pasted.own_words
        text = request.text if whole else _with_pasted(words, pasted.blocks)
        earlier = turn.earlier_outcomes + before
        understanding = Understanding(
            own_words=words,
            pasted=pasted,
            ranking=ranking,
            dialogue=DialogueState(earlier + mine),
            hypothetical=request.hypothetical,
            steps=tuple(steps),
            step=index,
            carried=tuple(answers),
        )
        sub = dataclasses.replace(turn, text=text, outcomes=mine, earlier_outcomes=earlier, understanding=understanding)
        candidates = _owners(skills, request.forced) if request.forced else skills
        if not mine:
            question = _clarify(candidates, sub)
            if question is not None:
                answers.append(question)
                break
        step = ask_skill(candidates, sub)
        if isinstance(step, list):
            calls = [dataclasses.replace(c, step=index) for c in step]
            if request.hypothetical:
                writes = [c for c in calls if _access(turn, c) != "read"]
                if writes:
                    answers.append(explain_calls(turn.tools, writes))
                    break
            return calls
        answers.append(step.markdown)
    return Reply("\n\n".join(a for a in answers if a))


def read_request(turn: Turn, router: IntentRouter) -> Request:
    """What to act on: this message, or the earlier request it answers or confirms."""
    own = split_pasted(turn.text).own_words
    last_answer, last_request = _last_exchange(turn)
    if last_answer.startswith(CLARIFY_OPENING) and last_request is not None:
        picked = _picked_reading(own, last_answer, router)
        if picked is not None:
            return Request(last_request, is_hypothetical(split_pasted(last_request).own_words), picked)
    if HYPOTHETICAL_MARK in last_answer and last_request is not None and is_confirmation(own):
        return Request(last_request, hypothetical=False, confirmed=True)
    return Request(turn.text, is_hypothetical(own))


def _last_exchange(turn: Turn) -> tuple[str, str | None]:
    """Our latest answer and the user message it answered."""
    answer = ""
    for message in reversed(turn.history):
        if isinstance(message, AIMessage) and message.content and not message.tool_calls and not answer:
            answer = str(message.content)
        elif isinstance(message, HumanMessage):
            return answer, str(message.content)
    return answer, None


def _picked_reading(words: str, question: str, router: IntentRouter) -> str | None:
    """Which of the two readings our question named the user chose ("the first", "Jira", "the patient one")."""
    named = re.findall(r"\*\*(.+?)\*\*", question)
    by_description = {d: label for label, d in router.descriptions.items()}
    labels = [by_description[n] for n in named if n in by_description][:2]
    if len(labels) != 2:
        return None
    lowered = words.lower()
    index = ordinal_index(lowered)
    if index is not None and index in (0, 1, -1):
        return labels[index]
    if re.search(r"\b(other|second|latter)\b", lowered):
        return labels[1]
    overlap = [_overlap(lowered, router.descriptions[label] + " " + label.split(".")[0]) for label in labels]
    if overlap[0] != overlap[1]:
        return labels[0] if overlap[0] > overlap[1] else labels[1]
    ranking = router.rank(words)
    scores = [ranking.score(label) for label in labels]
    return labels[0] if scores[0] >= scores[1] else labels[1]


def _overlap(words: str, description: str) -> int:
    ignore = {"a", "an", "the", "to", "of", "in", "on", "for", "me", "my", "it", "one", "do", "want", "and", "or"}
    mine = set(re.findall(r"[a-z0-9]+", words)) - ignore
    return len(mine & set(re.findall(r"[a-z0-9]+", description.lower())))


def _forced(router: IntentRouter, label: str) -> Ranking:
    rest = tuple((op.label, 0.0) for op in router.operations if op.label != label)
    return Ranking(((label, 1.0), *rest), router.descriptions)


def _owners(skills: tuple[Skill, ...], label: str) -> tuple[Skill, ...]:
    owners = tuple(s for s in skills if any(op.label == label for op in getattr(s, "operations", ())))
    return owners or skills


def _clarify(skills: Sequence[Skill], turn: Turn) -> str | None:
    """A question naming both readings when two domains fit equally and no skill is sure."""
    understanding = turn.understanding
    if understanding is None or understanding.hypothetical:
        return None
    pair = understanding.ranking.ambiguous()
    if pair is None:
        return None
    scores = {getattr(s, "name", ""): s.score(turn) for s in skills}
    if max(scores.values(), default=0.0) >= SURE:
        return None
    ranking = understanding.ranking
    return clarifying_question(ranking.describe(pair[0]), ranking.describe(pair[1]))


STEP_FLOOR = 0.2  # a step's words are short and often mostly a name: a weaker reading still counts


def _distinct(router: IntentRouter, steps: list[str], available: list[str]) -> bool:
    """Steps are real when each reads as an operation of its own (not "show bugs and stories in SB").

    Two steps of different systems always count; two of the same system must name different operations."""
    labels = []
    for words in steps:
        best = router.rank(words, available).best
        if best is None or best[1] < STEP_FLOOR:
            return False
        labels.append(best[0])
    return len(set(labels)) == len(labels)


def _with_pasted(words: str, blocks: Sequence[object]) -> str:
    texts = [str(getattr(b, "text", "")) for b in blocks]
    return "\n".join([words, *[t for t in texts if t]])


def _access(turn: Turn, call: Call) -> str:
    info = next((t for t in turn.tools if t.name == call.tool), None)
    return info.access if info is not None else "write"

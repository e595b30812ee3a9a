"""The offline model's skills, in priority order (ties go to the earlier one).

Connector skills live beside their tools' operations; a connector package that is not installed
simply contributes no skill. `general` (greetings, help, the honest fallback) always comes last.
"""

from __future__ import annotations

import importlib
from functools import cache

from agents.offline.skill import Skill

SKILL_MODULES: tuple[str, ...] = (
    "agents.offline.skills.jira",
    "agents.offline.skills.fhir",
    "agents.offline.skills.hl7",
    "agents.offline.skills.guide",
    "agents.offline.skills.general",
)


@cache
def default_skills() -> tuple[Skill, ...]:
    loaded: list[Skill] = []
    for name in SKILL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that connector's skill is not part of this install
                continue
            raise
        loaded.append(module.SKILL)
    return tuple(loaded)

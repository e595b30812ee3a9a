"""API key scopes and which requests each one allows."""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal["chat", "integrations:read", "integrations:write", "messages:write", "events"]
ALL_SCOPES: tuple[str, ...] = get_args(Scope)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

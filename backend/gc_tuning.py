"""Garbage-collector settings for a long-running server process (measured in docs/performance.md).

After start-up the heap holds a few hundred thousand long-lived objects (FastAPI, SQLAlchemy,
LangChain, LangGraph, pydantic schemas). CPython's cyclic collector walks them again and again while
tokens stream, because every streamed token allocates short-lived objects that trip the young
generation's 700-allocation threshold. Freezing the start-up heap takes it out of every later
collection, and a larger young generation lets a turn's short-lived objects die before a collection
sees them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

# Container allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 10_000


def tune_for_serving() -> Callable[[], None]:
    """Call once start-up is done (what is alive then lives as long as the app); returns the undo,
    for processes that start and stop several apps, such as the test suite."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, previous[1], previous[2])

    def restore() -> None:
        gc.unfreeze()  # back into the oldest generation: whatever died since is collected again
        gc.set_threshold(*previous)

    return restore

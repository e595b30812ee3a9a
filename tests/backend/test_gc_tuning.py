"""The server's garbage-collector settings are applied at start-up and undone at shutdown."""

from __future__ import annotations

import gc

from backend.gc_tuning import YOUNG_THRESHOLD, tune_for_serving


def test_tuning_freezes_the_start_up_heap_and_the_undo_restores_the_defaults() -> None:
    before = gc.get_threshold()
    restore = tune_for_serving()
    try:
        assert gc.get_freeze_count() > 1000  # the imported libraries' objects, at least
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    finally:
        restore()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before

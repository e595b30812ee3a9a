"""One Prism per test session (it takes seconds to load the document)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contracts.jira.prism import running_prism


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_prism(tmp_path_factory.mktemp("prism")) as url:
        yield url

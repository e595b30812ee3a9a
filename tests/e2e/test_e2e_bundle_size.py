"""The web app's first load (index.html and what it references) stays under 200 KB gzip."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.e2e.conftest import DIST_INDEX

pytestmark = pytest.mark.e2e

FIRST_LOAD_LIMIT = 200 * 1024


def test_first_load_is_under_200_kb_gzip() -> None:
    if not DIST_INDEX.is_file():
        pytest.fail("frontend/dist is not built: run `make frontend` first", pytrace=False)
    html = DIST_INDEX.read_bytes()
    referenced = re.findall(rb'(?:src|href)="/(assets/[^"]+\.(?:js|css))"', html)
    assert referenced, "index.html references no assets"
    dist = DIST_INDEX.parent
    sizes = {name.decode(): len(gzip.compress((dist / name.decode()).read_bytes(), 9)) for name in referenced}
    total = len(gzip.compress(html, 9)) + sum(sizes.values())
    assert total < FIRST_LOAD_LIMIT, f"first load is {total / 1024:.1f} KB gzip: {sizes}"

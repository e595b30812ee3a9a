"""Atlassian Document Format <-> markdown, both ways, round-trip tested."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tools.jira.adf import adf_to_markdown, as_text, markdown_to_adf

CANONICAL = """# Release 2.4

Ships the **Jira connector**, *faster* streams and `hl7 build`. See [the notes](https://example.com/notes) ~~soon~~.
A line break stays a line break.

- first
- second
  - nested under second

3. three
4. four

```python
print("hello")
```

> quoted **advice**

---

snake_case stays, 2 * 3 = 6, [brackets] stay, 1. not a list"""


def test_markdown_round_trips_through_adf() -> None:
    document = markdown_to_adf(CANONICAL)
    assert document["type"] == "doc" and document["version"] == 1
    assert adf_to_markdown(document) == CANONICAL
    assert markdown_to_adf(adf_to_markdown(document)) == document


def test_markdown_becomes_the_adf_jira_expects() -> None:
    document = markdown_to_adf("Fix **now**: see [PR](https://git.example/1)\nthanks")
    assert document["content"] == [
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Fix "},
                {"type": "text", "text": "now", "marks": [{"type": "strong"}]},
                {"type": "text", "text": ": see "},
                {"type": "text", "text": "PR", "marks": [{"type": "link", "attrs": {"href": "https://git.example/1"}}]},
                {"type": "hardBreak"},
                {"type": "text", "text": "thanks"},
            ],
        }
    ]
    assert markdown_to_adf("")["content"] == []
    ordered = markdown_to_adf("3. three")["content"][0]
    assert ordered["type"] == "orderedList" and ordered["attrs"] == {"order": 3}


def _cell(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def test_jira_cloud_nodes_render_as_readable_text() -> None:
    """Nodes Jira emits that markdown has no syntax for still read well."""
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "acct-alex", "text": "@Alex Kim"}},
                    {"type": "text", "text": " please check "},
                    {"type": "inlineCard", "attrs": {"url": "https://acme.atlassian.net/browse/SB-3"}},
                    {"type": "text", "text": " "},
                    {"type": "status", "attrs": {"text": "blocked", "color": "red"}},
                    {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
                    {"type": "date", "attrs": {"timestamp": "1714521600000"}},
                ],
            },
            {"type": "panel", "attrs": {"panelType": "warning"}, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Do not deploy on Friday"}]}
            ]},
            {"type": "table", "content": [
                {"type": "tableRow", "content": [_cell("tableHeader", "Env"), _cell("tableHeader", "OK")]},
                {"type": "tableRow", "content": [_cell("tableCell", "prod"), _cell("tableCell", "yes")]},
            ]},
            {"type": "taskList", "content": [
                {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [{"type": "text", "text": "backup"}]},
                {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [{"type": "text", "text": "restore"}]},
            ]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "x", "type": "file"}}]},
            {"type": "someFutureNode", "content": [{"type": "text", "text": "still shown"}]},
        ],
    }  # fmt: skip
    assert adf_to_markdown(document).split("\n\n") == [
        "@Alex Kim please check <https://acme.atlassian.net/browse/SB-3> [BLOCKED]😄2024-05-01",
        "> **Warning:** Do not deploy on Friday",
        "| Env | OK |\n| --- | --- |\n| prod | yes |",
        "- [x] backup\n- [ ] restore",
        "[attachment]",
        "still shown",
    ]


def test_as_text_takes_adf_strings_and_nothing() -> None:
    assert as_text(None) == ""
    assert as_text("plain v2 text") == "plain v2 text"
    assert as_text(markdown_to_adf("*v3*")) == "*v3*"


_PLAIN = st.text(
    alphabet=string.ascii_letters + string.digits + " .,:;!?*_`~[]()#>-+\\/@'\"=<&", min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(_PLAIN)
def test_any_plain_text_survives_adf_to_markdown_and_back(text: str) -> None:
    """Whatever a person typed into Jira reads back unchanged after a trip through markdown."""
    stripped = text.strip()
    if not stripped:
        return
    document = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": stripped}]}],
    }
    assert markdown_to_adf(adf_to_markdown(document)) == document

"""Atlassian Document Format (ADF) <-> markdown.

Jira Cloud's REST API v3 carries descriptions and comments as ADF JSON; people and models read and
write markdown. `markdown_to_adf` parses with markdown-it (CommonMark + strikethrough) and builds the
ADF nodes; `adf_to_markdown` renders every node Jira emits (mentions, panels, tables, status lozenges,
media...) as readable markdown. What markdown can express survives a round trip both ways: a line
break inside a paragraph is an ADF `hardBreak` (Jira users expect their line breaks kept).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

Node = dict[str, Any]

_PARSER = MarkdownIt("commonmark").enable("strikethrough")
_INLINE_MARKS = {"strong_open": "strong", "em_open": "em", "s_open": "strike"}
_CLOSERS = {"strong_close", "em_close", "s_close", "link_close"}


def empty_document() -> Node:
    return {"type": "doc", "version": 1, "content": []}


def as_text(value: Any) -> str:
    """A description or comment body as markdown, whether it came as ADF (v3) or a string (v2)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        try:
            return adf_to_markdown(value)
        except (AttributeError, TypeError, KeyError, ValueError, IndexError, RecursionError):
            # ADF outside its schema (a node that is not an object, content that is not a list):
            # keep every piece of text it carries rather than lose the body.
            return " ".join(_texts(value)).strip()
    if isinstance(value, list):
        return " ".join(_texts(value)).strip()
    return str(value)


def _texts(node: Any, depth: int = 0) -> list[str]:
    if depth > 50:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [text for item in node for text in _texts(item, depth + 1)]
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + _texts(node.get("content"), depth + 1)
    return []


# --------------------------------------------------------------------------- markdown -> ADF


def markdown_to_adf(text: str) -> Node:
    """An ADF document for `text` (markdown; plain text is valid markdown)."""
    doc = empty_document()
    tokens = _PARSER.parse(text.replace("\r\n", "\n"))
    doc["content"] = _blocks(tokens, 0, len(tokens))
    return doc


def _matching_close(tokens: list[Token], start: int) -> int:
    """Index of the token closing the block opened at `start`."""
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def _blocks(tokens: list[Token], start: int, end: int) -> list[Node]:
    nodes: list[Node] = []
    index = start
    while index < end:
        token = tokens[index]
        if token.nesting == 1:
            close = _matching_close(tokens, index)
            node = _block(token, tokens, index + 1, close)
            if node is not None:
                nodes.append(node)
            index = close + 1
            continue
        if token.type in ("fence", "code_block"):
            code: Node = {"type": "codeBlock", "content": [{"type": "text", "text": token.content.rstrip("\n")}]}
            if token.info.strip():
                code["attrs"] = {"language": token.info.strip().split()[0]}
            if not token.content.rstrip("\n"):
                code.pop("content")
            nodes.append(code)
        elif token.type == "hr":
            nodes.append({"type": "rule"})
        elif token.type == "html_block":
            nodes.append(_paragraph([{"type": "text", "text": token.content.rstrip("\n")}]))
        elif token.type == "inline":  # tight list items put inline content straight in the item
            nodes.append(_paragraph(_inline(token.children or [])))
        index += 1
    return nodes


def _paragraph(content: list[Node]) -> Node:
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}


def _block(opening: Token, tokens: list[Token], start: int, end: int) -> Node | None:
    kind = opening.type
    if kind == "paragraph_open":
        inline = next((t for t in tokens[start:end] if t.type == "inline"), None)
        return _paragraph(_inline(inline.children or []) if inline else [])
    if kind == "heading_open":
        inline = next((t for t in tokens[start:end] if t.type == "inline"), None)
        heading: Node = {"type": "heading", "attrs": {"level": int(opening.tag[1])}}
        content = _inline(inline.children or []) if inline else []
        if content:
            heading["content"] = content
        return heading
    if kind == "bullet_list_open":
        return {"type": "bulletList", "content": _blocks(tokens, start, end)}
    if kind == "ordered_list_open":
        ordered: Node = {"type": "orderedList", "content": _blocks(tokens, start, end)}
        first = int(opening.attrs.get("start", 1) or 1)
        ordered["attrs"] = {"order": first}
        return ordered
    if kind == "list_item_open":
        return {"type": "listItem", "content": _blocks(tokens, start, end) or [{"type": "paragraph"}]}
    if kind == "blockquote_open":
        return {"type": "blockquote", "content": _blocks(tokens, start, end)}
    return None


def _inline(children: list[Token]) -> list[Node]:
    nodes: list[Node] = []
    marks: list[Node] = []
    for token in children:
        kind = token.type
        if kind in _INLINE_MARKS:
            marks.append({"type": _INLINE_MARKS[kind]})
        elif kind == "link_open":
            marks.append({"type": "link", "attrs": {"href": str(token.attrs.get("href", ""))}})
        elif kind in _CLOSERS:
            if marks:
                marks.pop()
        elif kind in ("softbreak", "hardbreak"):
            nodes.append({"type": "hardBreak"})
        elif kind == "code_inline":
            _append_text(nodes, token.content, [*(m for m in marks if m["type"] == "link"), {"type": "code"}])
        elif kind == "image":
            alt = token.content or str(token.attrs.get("src", ""))
            _append_text(nodes, alt, [*marks, {"type": "link", "attrs": {"href": str(token.attrs.get("src", ""))}}])
        elif token.content:  # text, html_inline
            _append_text(nodes, token.content, marks)
    return nodes


def _append_text(nodes: list[Node], text: str, marks: list[Node]) -> None:
    if not text:
        return
    if nodes and nodes[-1].get("type") == "text" and nodes[-1].get("marks", []) == marks:
        nodes[-1]["text"] += text  # markdown-it splits text at special characters; ADF need not
        return
    node: Node = {"type": "text", "text": text}
    if marks:
        node["marks"] = [dict(m) for m in marks]
    nodes.append(node)


# --------------------------------------------------------------------------- ADF -> markdown

# Escape only what would otherwise change meaning on the way back, so plain text stays readable.
_ESCAPE_INLINE = re.compile(r"\\(?=[!-/:-@\[-`{-~])|`|~~|\](?=\()|(?<!\s)\*|\*(?!\s)")
_ESCAPE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ESCAPE_LINE_START = re.compile(
    r"^(\s*)(>|#{1,6}(?=\s|$)|[+-](?=\s|$)|([-_*])\s*(?:\3\s*){2,}$|\d+(?=[.)](\s|$)))", re.MULTILINE
)
_ESCAPE_ENTITY_OR_TAG = re.compile(r"&(?=#?\w+;)|<(?=[A-Za-z/!?])")


def adf_to_markdown(doc: Node) -> str:
    """Readable markdown for an ADF document (or any ADF node)."""
    if doc.get("type") == "doc":
        return _render_blocks(doc.get("content") or []).strip("\n")
    return _render_blocks([doc]).strip("\n")


def _render_blocks(nodes: list[Node], tight: bool = False) -> str:
    parts = [_render_block(node) for node in nodes if isinstance(node, dict)]
    return ("\n" if tight else "\n\n").join(part for part in parts if part is not None)


def _escape(text: str) -> str:
    text = _ESCAPE_INLINE.sub(lambda m: "".join("\\" + c for c in m.group(0)), text)
    text = _ESCAPE_UNDERSCORE.sub(r"\\_", text)
    text = _ESCAPE_ENTITY_OR_TAG.sub(lambda m: "\\" + m.group(0), text)
    return _ESCAPE_LINE_START.sub(_escape_block_marker, text)


def _escape_block_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker.isdigit():  # "1. x" -> "1\. x": a backslash before a digit escapes nothing
        return indent + marker + "\\"
    return indent + "\\" + marker


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return "\n".join(pad + line if line else line for line in text.split("\n"))


def _render_block(node: Node) -> str | None:
    kind = node.get("type")
    content: list[Node] = node.get("content") or []
    attrs: dict[str, Any] = node.get("attrs") or {}
    if kind == "paragraph":
        return _render_inline(content)
    if kind == "heading":
        return "#" * min(max(int(attrs.get("level", 1)), 1), 6) + " " + _render_inline(content)
    if kind == "bulletList":
        return "\n".join(_list_item(item, "- ") for item in content)
    if kind == "orderedList":
        first = int(attrs.get("order", 1) or 1)
        return "\n".join(_list_item(item, f"{first + i}. ") for i, item in enumerate(content))
    if kind in ("taskList", "decisionList"):
        return "\n".join(_list_item(item, "- ") for item in content)
    if kind == "taskItem":
        box = "[x] " if attrs.get("state") == "DONE" else "[ ] "
        return box + _render_inline(content)
    if kind == "decisionItem":
        return _render_inline(content)
    if kind == "codeBlock":
        code = "".join(str(c.get("text", "")) for c in content)
        return f"```{attrs.get('language') or ''}\n{code}\n```"
    if kind == "blockquote":
        return "\n".join("> " + line if line else ">" for line in _render_blocks(content).split("\n"))
    if kind == "rule":
        return "---"
    if kind == "panel":
        label = str(attrs.get("panelType", "info")).capitalize()
        body = _render_blocks(content)
        return "\n".join(f"> {line}" if line else ">" for line in f"**{label}:** {body}".split("\n"))
    if kind in ("expand", "nestedExpand"):
        title = str(attrs.get("title") or "")
        body = _render_blocks(content)
        return f"**{_escape(title)}**\n\n{body}" if title else body
    if kind == "table":
        return _render_table(content)
    if kind in ("mediaSingle", "mediaGroup", "media"):
        return "[attachment]"
    if kind == "blockCard":
        return f"<{attrs.get('url', '')}>"
    if kind in ("text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date"):
        return _render_inline([node])
    return _render_blocks(content) if content else None


def _list_item(item: Node, marker: str) -> str:
    children: list[Node] = item.get("content") or []
    rendered = []
    for child in children:
        text = _render_block(child)
        if text is not None:
            rendered.append(text)
    if item.get("type") in ("taskItem", "decisionItem"):
        rendered = [_render_block(item) or ""]
    body = "\n".join(rendered) if all(_is_list(c) for c in children[1:]) else "\n\n".join(rendered)
    first, _, rest = body.partition("\n")
    return marker + first + ("\n" + _indent(rest, len(marker)) if rest else "")


def _is_list(node: Node) -> bool:
    return node.get("type") in ("bulletList", "orderedList", "taskList")


def _render_table(rows: list[Node]) -> str:
    lines = []
    for index, row in enumerate(rows):
        cells = [_render_blocks(cell.get("content") or []).replace("\n", " ") for cell in row.get("content") or []]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if index == 0:
            lines.append("|" + "|".join(" --- " for _ in cells) + "|")
    return "\n".join(lines)


def _render_inline(nodes: list[Node]) -> str:
    out = []
    for node in nodes:
        kind = node.get("type")
        attrs: dict[str, Any] = node.get("attrs") or {}
        if kind == "text":
            out.append(_marked(str(node.get("text", "")), node.get("marks") or []))
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            name = str(attrs.get("text") or attrs.get("id") or "someone")
            out.append(name if name.startswith("@") else "@" + name)
        elif kind == "emoji":
            out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
        elif kind == "inlineCard":
            out.append(f"<{attrs.get('url', '')}>")
        elif kind == "status":
            out.append(f"[{str(attrs.get('text', '')).upper()}]")
        elif kind == "date":
            out.append(_date(attrs.get("timestamp")))
        elif node.get("content"):
            out.append(_render_inline(node["content"]))
    return "".join(out)


def _marked(text: str, marks: list[Node]) -> str:
    kinds = {m.get("type") for m in marks}
    rendered = f"`{text}`" if "code" in kinds else _escape(text)
    for mark in marks:
        if mark.get("type") == "link":
            rendered = f"[{rendered}]({(mark.get('attrs') or {}).get('href', '')})"
    if "strike" in kinds:
        rendered = f"~~{rendered}~~"
    if "em" in kinds:
        rendered = f"*{rendered}*"
    if "strong" in kinds:
        rendered = f"**{rendered}**"
    return rendered


def _date(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(int(timestamp) / 1000, UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError):
        return str(timestamp or "")

"""Cuts long answers into pages that fit one WeChat text message (2048 bytes of UTF-8)."""

from __future__ import annotations

TEXT_LIMIT_BYTES = 2048
MORE_FOOTER = "（回复「更多」查看下一页）"


def paginate(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pages of at most `limit` bytes, cut at line ends; all but the last end with the footer."""
    if _size(text) <= limit:
        return [text]
    budget = limit - _size("\n" + MORE_FOOTER)
    pages: list[str] = []
    current: list[str] = []
    for line in _lines_within(text, budget):
        if current and _size("\n".join([*current, line])) > budget:
            pages.append("\n".join(current))
            current = []
        current.append(line)
    pages.append("\n".join(current))
    return [page.strip("\n") + "\n" + MORE_FOOTER for page in pages[:-1]] + [pages[-1].strip("\n")]


def _lines_within(text: str, budget: int) -> list[str]:
    """The text's lines, with any single line longer than the budget cut by characters."""
    lines: list[str] = []
    for line in text.split("\n"):
        while _size(line) > budget:
            cut = _chars_within(line, budget)
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


def _chars_within(line: str, budget: int) -> int:
    size = 0
    for i, char in enumerate(line):
        size += _size(char)
        if size > budget:
            return i
    return len(line)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))

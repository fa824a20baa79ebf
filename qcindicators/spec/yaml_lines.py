"""YAML loading that remembers the line of every key, so errors can say where."""
from __future__ import annotations

from typing import Any

import yaml


def load_with_lines(text: str) -> tuple[Any, dict[tuple, int]]:
    """(data, {key path: 1-based line}). Duplicate keys are reported, not silently merged."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[tuple, int] = {}
    dupes: list[tuple[tuple, int]] = []
    _walk(node, (), lines, dupes)
    data = yaml.safe_load(text)
    if dupes:
        path, line = dupes[0]
        raise yaml.YAMLError(f"duplicate key {'.'.join(map(str, path))!r} on line {line}")
    return data, lines


def _walk(node, path: tuple, lines: dict, dupes: list) -> None:
    if node is None:
        return
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            key = k.value
            if key in seen:
                dupes.append((path + (key,), k.start_mark.line + 1))
            seen.add(key)
            lines[path + (key,)] = k.start_mark.line + 1
            _walk(v, path + (key,), lines, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, path + (i,), lines, dupes)


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())

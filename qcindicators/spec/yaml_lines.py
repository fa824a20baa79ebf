"""YAML loading that remembers the line of every key, so errors can say where."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


# libyaml where PyYAML has it (5× faster on the catalog, marks included); the pure-Python loader otherwise
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 50_000   # a definition has hundreds; a "billion laughs" file expands aliases far past this
MAX_DEPTH = 40       # a definition nests a few levels; a recursive alias nests forever


def load_with_lines(text: str) -> tuple[Any, dict[tuple, int]]:
    """(data, {key path: 1-based line}). Duplicate keys are reported, not silently merged; alias
    expansion is bounded (MAX_NODES), so a 600-byte file cannot expand into gigabytes."""
    node = yaml.compose(text, Loader=LOADER)
    lines: dict[tuple, int] = {}
    dupes: list[tuple[tuple, int]] = []
    _walk(node, lines, dupes)
    data = yaml.load(text, Loader=LOADER)      # noqa: S506 — a safe loader (CSafeLoader or SafeLoader)
    if dupes:
        path, line = dupes[0]
        raise yaml.YAMLError(f"duplicate key {'.'.join(map(str, path))!r} on line {line}")
    return data, lines


def load_file(path) -> tuple[Any, dict[tuple, int]]:
    """load_with_lines on a UTF-8 file; every failure (syntax, encoding, size) a yaml.YAMLError naming the line."""
    try:
        return load_with_lines(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise yaml.YAMLError(f"{path}: 不是 UTF-8 文本 / not UTF-8 text ({err.reason})") from None
    except RecursionError:
        raise yaml.YAMLError(f"{path}: 嵌套或别名过深 / nesting or aliases too deep") from None


def yaml_error_text(path, err: Exception) -> str:
    """'file:line: invalid YAML: ...' in both languages."""
    mark = getattr(err, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    return f"{where}: YAML 无法解析 / invalid YAML: {str(err).splitlines()[0] if str(err) else type(err).__name__}"


def _walk(root, lines: dict, dupes: list) -> None:
    """Every key path's line, depth first without recursion; stops past MAX_NODES visits."""
    stack, visits = [(root, ())], 0
    while stack:
        node, path = stack.pop()
        if node is None:
            continue
        visits += 1
        if visits > MAX_NODES:
            raise yaml.YAMLError(f"YAML 展开后超过 {MAX_NODES} 个节点（别名炸弹？）/ more than {MAX_NODES} nodes once "
                                 "aliases are expanded (an alias bomb?)")
        if len(path) > MAX_DEPTH:
            raise yaml.YAMLError(f"YAML 嵌套超过 {MAX_DEPTH} 层（递归别名？）/ nested deeper than {MAX_DEPTH} levels "
                                 "(a recursive alias?)")
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for k, v in node.value:
                key = k.value
                if key in seen:
                    dupes.append((path + (key,), k.start_mark.line + 1))
                seen.add(key)
                lines[path + (key,)] = k.start_mark.line + 1
                stack.append((v, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, path + (i,)) for i, v in enumerate(node.value))


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())

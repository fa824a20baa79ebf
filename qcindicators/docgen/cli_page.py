"""docs/reference/cli.md: every `qci` command and option, from the argument parser itself."""
from __future__ import annotations

import argparse

from ..cli import build_parser

HEADER = """# Command line / 命令行

Generated from `qci`'s argument parser by `python -m qcindicators.docgen`; a test fails when this page
and the parser disagree. 本页由命令行解析器自动生成。

`--debug` and `--quiet` may be given before or after the command (`qci --quiet report …` or
`qci report … --quiet`). Exit codes: 0 success, 1 error (a bilingual message, no traceback unless
`--debug`), 2 invalid input data (`qci validate`, or `compute` without `--quarantine`).
全局选项 `--debug`、`--quiet` 可放在命令前或命令后。退出码：0 成功，1 错误，2 输入数据不合格。

"""


def _fixed(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, width=100)     # the page must not depend on the terminal's width


def _usage(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = _fixed
    return " ".join(parser.format_usage().split())


def _name(action: argparse.Action) -> str:
    if action.option_strings:
        meta = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
        if action.choices and not action.metavar:
            meta = " {" + ",".join(map(str, action.choices)) + "}"
        return ", ".join(f"`{o}{meta}`" for o in action.option_strings)
    return f"`{action.metavar or action.dest}`"


def _section(name: str, parser: argparse.ArgumentParser, summary: str, level: int) -> list[str]:
    lines = [f"{'#' * level} `{name}`", "", summary or "", "", f"```\n{_usage(parser)}\n```", "",
             "| argument 参数 | meaning 说明 |", "|---|---|"]
    subs = []
    for action in parser._actions:     # argparse keeps its arguments here; there is no public list
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            subs += [(f"{name} {n}", p, helps.get(n, "")) for n, p in action.choices.items()]
        elif not isinstance(action, argparse._HelpAction):
            lines.append(f"| {_name(action)} | {(action.help or '').replace('|', '/')} |")
    lines.append("")
    for sub_name, sub, helptext in subs:
        lines += _section(sub_name, sub, helptext, level + 1)
    return lines


def render() -> str:
    parser = build_parser()
    return HEADER + "\n".join(_section("qci", parser, parser.description, 2))

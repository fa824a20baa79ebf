"""The catalog reference page (docs/catalog.md), generated from the definitions so it cannot drift."""
from __future__ import annotations

from .spec.load import builtin_catalog

HEADER = """# Built-in indicators / 内置指标

Generated from the definitions in `indicator_defs/` (`python -m qcindicators.catalog_doc > docs/catalog.md`);
a test fails when this page and the definitions disagree. 本页由指标定义自动生成。

"""


def render() -> str:
    cat = builtin_catalog()
    parts = [HEADER]
    themes: dict[str, list] = {}
    for spec in cat:
        themes.setdefault(spec.theme or "other", []).append(spec)
    for theme in sorted(themes):
        parts.append(f"## {theme}\n")
        for s in sorted(themes[theme], key=lambda x: x.id):
            parts.append(f"### `{s.id}` — {s.name.zh} / {s.name.en}\n")
            parts.append(f"- kind 类型: `{s.kind}`; unit 单位: {s.unit}" + (f" ({s.unit_zh})" if s.unit_zh else "")
                         + f"; direction 方向: `{s.direction}`; version {s.version}")
            if s.of:
                parts.append(f"- built on 基于: `{s.of}`" + (f" ({s.compare})" if s.kind == "growth" else ""))
            for path, m in s.measures():
                agg = f"{m.agg}({m.value or '*'})"
                where = f" where `{m.where}`" if m.where else ""
                basis = f", period from `{m.period_from}`" if m.period_from else ""
                by = f", rows grouped by county of `{m.county_from}`" if m.county_from else ""
                units = "; ".join(f"{u} ← `{c}`" for u, c in (m.unit_from or {}).items())
                units = f"; units 单位: {units}" if units else ""
                name = path[0] + (f" ({path[1] + 1})" if len(path) > 1 else "")
                parts.append(f"- {name}: `{m.table}`: {agg}{where}{basis}{by}{units}")
            if s.scale != 1:
                parts.append(f"- × {s.scale:g}")
            src = s.source.document + (f" — {s.source.indicator}" if s.source.indicator else "")
            parts.append(f"- source 出处: {src}")
            if s.source.note:
                parts.append(f"- note 说明: {s.source.note.strip()}")
            for t in s.targets:
                cond = f" when `{t.when}`" if t.when else ""
                parts.append(f"- target 目标: {t.value}{cond}" + (f" ({t.note})" if t.note else ""))
            parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")

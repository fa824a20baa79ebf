"""The catalog reference page (docs/catalog.md), generated from the definitions so it cannot drift."""
from __future__ import annotations

from .spec.load import builtin_catalog

HEADER = """# Built-in indicators / 内置指标

Generated from the definitions and target sets in `indicator_defs/` (`python -m qcindicators.docgen`);
a test fails when this page and the definitions disagree. Each entry: formula (measures, filters), source
document and clause, other 口径 of the same indicator, the indicator's own targets, and its targets in
each shipped work plan. 本页由指标定义与目标集自动生成：公式、出处与条款、其他口径、目标值及各工作方案中的目标。

"""


def _variants(cat) -> dict[str, list[str]]:
    """口径 choices: each indicator with the others that measure the same thing another way."""
    family: dict[str, set[str]] = {}
    for s in cat:
        if s.variant_of:
            family.setdefault(s.variant_of, {s.variant_of}).add(s.id)
    return {i: sorted(f - {i}) for f in family.values() for i in f}


def _plan_targets(cat) -> dict[str, list[str]]:
    """Per indicator, its targets in each shipped work plan (target set)."""
    out: dict[str, list[str]] = {}
    for ts_id, ts in sorted(cat.target_sets.items()):
        for t in ts.targets:
            cond = f" when `{t.when}`" if t.when else ""
            grain = " (region 全区域)" if t.grain == "region" else ""
            out.setdefault(t.indicator, []).append(f"`{ts_id}`: {t.value or 'direction only 仅方向'}{cond}{grain}")
    return out


def render() -> str:
    cat = builtin_catalog()
    variants, plans = _variants(cat), _plan_targets(cat)
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
            if variants.get(s.id):
                parts.append("- other 口径 其他口径: " + ", ".join(f"`{v}`" for v in variants[s.id]))
            parts += [f"- plan 工作方案 {p}" for p in plans.get(s.id, [])]
            parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")

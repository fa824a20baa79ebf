"""`qci demo`: the bundled synthetic sample end to end, and the screenful it prints."""
from __future__ import annotations

from pathlib import Path

from . import check, compute, read_tables, validate
from .synthetic import write_tables


def cmd_demo(args) -> int:
    """The sample end to end; prints a short summary (the numbers are in the report, not the terminal)."""
    from .report import build_report, write_report
    out = Path(args.out)
    data = write_tables(out / "data")
    tables = read_tables(data)
    checked = validate(tables)
    by_facility = compute(tables, period="year")
    by_facility.write(out / "result_by_facility_year.csv")
    by_facility.write(out / "result_by_facility_year.xlsx")
    compute(tables, by=[], period="year").write(out / "result_region_year.csv")
    check(tables, "plan-2024-city").write(out / "check_plan-2024-city.csv")
    rep = build_report(tables, targets="plan-2024-city")
    write_report(rep, out / "report.xlsx")
    write_report(rep, out / "report.html")
    print("\n".join(demo_summary(checked, by_facility, rep, out)))
    return 0


def demo_summary(checked, result, rep, out: Path) -> list[str]:
    """What was read, computed and judged, and where to look: a screenful, not the region table."""
    from .report.scorecard import tally
    rows = sum(checked.row_counts.values())
    n_hosp = checked.row_counts.get("facilities", 0)
    periods = sorted(result.frame.loc[result.frame["value"].notna(), "period"].astype(str).unique())
    cells = rep.scorecard()
    t = tally(cells)
    region = cells[cells["is_region"]]["met"].value_counts()
    missed = cells[~cells["is_region"] & (cells["met"] == "未达标")].groupby("name_zh", sort=False).size()
    missed = missed.sort_values(ascending=False, kind="stable")
    lines = [f"qci demo: 合成样例 / synthetic sample → {out}",
             f"读取 / read: {len(checked.row_counts)} 张表 tables, {rows:,} 行 rows; {n_hosp} 家医院 hospitals; "
             f"{periods[0]}–{periods[-1]}" if periods else "",
             "校验 / validation: " + ("全部通过 / all checks passed" if checked.ok else f"{len(checked.failures)} 处错误 failures")
             + (f"，{len(checked.warnings)} 类警告 / warning kinds" if len(checked.warnings) else ""),
             f"计算 / computed: {result.frame['indicator'].nunique()} 个指标 indicators by hospital and for the region, "
             f"by year; {len(result.not_computable)} 个无法计算 not computable",
             f"诊断 / diagnostics: {len(result.diagnostics)} 条记录 ledger entries (rows not used or derived; report appendix)",
             f"工作方案 / plan {rep.target_set}, {cells['period'].max() if len(cells) else ''}: {t['indicators']} 项指标 indicators",
             f"  全区域 / region: {region.get('达标', 0)} 达标 met, {region.get('未达标', 0)} 未达标 not met, "
             f"{region.get('不判定', 0)} 不判定 not judged",
             f"  医院 / hospitals: {t['hospitals_missing']} / {t['hospitals_judged']} 家至少一项未达标 miss at least one target; "
             f"医院×指标 hospital × indicator: {t['met']} 达标, {t['not_met']} 未达标, {t['not_judged']} 不判定"]
    lines += [f"  未达标 not met: {name} — {n} 家医院 hospitals" for name, n in missed.head(5).items()]
    lines += ["结果 / written:",
              f"  {out / 'report.html'}  记分卡、排名、漏斗图、趋势 / scorecard, rankings, funnels, trends (open in a browser)",
              f"  {out / 'report.xlsx'}  同上并含长表 / the same, with the long tables",
              f"  {out / 'result_by_facility_year.xlsx'}, {out / 'result_region_year.csv'}, {out / 'check_plan-2024-city.csv'}",
              f"  {out / 'data'}  样例数据 / the sample data: try  qci report {out / 'data'} --out my.html"]
    return [line for line in lines if line]

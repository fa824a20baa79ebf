"""`qci` command line. Bad input exits non-zero with a readable message; --debug shows tracebacks."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .errors import InputDataError, QCIError

EXIT_INVALID_DATA = 2


def _add_compute_args(p: argparse.ArgumentParser, targets_required: bool = False) -> None:
    p.add_argument("--by", action="extend", nargs="+", default=None,
                   help="columns to group by (--by facility_id dept_code, or repeated); 'region' for the whole region. "
                        "Default: facility_id")
    p.add_argument("--period", default="month", choices=["month", "quarter", "year"])
    p.add_argument("--targets", default=None, required=targets_required, help="target-set name (qci targets) or YAML file")
    p.add_argument("--definitions", action="append", default=None, help="folder or file of your own definitions")
    p.add_argument("--aliases", default=None, help="YAML file {table: {your_header: canonical_column}}")
    p.add_argument("--quarantine", default=None, metavar="DIR", help="set invalid rows aside in DIR instead of stopping")


def _by(args) -> list[str]:
    if not args.by:
        return ["facility_id"]
    return [] if args.by == ["region"] else [b for b in args.by if b != "region"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qci", description="医疗质量指标 / hospital quality indicators")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (they only show on a terminal anyway)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate the synthetic sample, compute the catalog, write results")
    p.add_argument("--out", default="qci-demo", help="output folder (default ./qci-demo)")

    p = sub.add_parser("compute", help="compute indicators")
    p.add_argument("data", help="folder with one file per table")
    p.add_argument("--indicator", action="append", default=None, help="indicator id (repeatable); default: all the data can feed")
    p.add_argument("--out", default=None, help="result file: .csv, .xlsx or .parquet")
    _add_compute_args(p)

    p = sub.add_parser("validate", help="schema checks only")
    p.add_argument("data")
    p.add_argument("--aliases", default=None)
    p.add_argument("--quarantine", default=None, metavar="DIR")
    p.add_argument("--out", default=None, help="write the failure table (.csv)")

    p = sub.add_parser("explain", help="print the plan for indicators without reading data")
    p.add_argument("indicator", nargs="+")
    p.add_argument("--definitions", action="append", default=None)

    p = sub.add_parser("check", help="a plan's targets: 达标 per facility and for the region")
    p.add_argument("data")
    p.add_argument("--out", default=None, help=".csv, .xlsx or .parquet")
    _add_compute_args(p, targets_required=True)
    p.set_defaults(period="year")

    sub.add_parser("targets", help="list the shipped target sets")

    p = sub.add_parser("drugs", help="drug dictionary tools")
    dsub = p.add_subparsers(dest="drugs_command", required=True)
    a = dsub.add_parser("audit", help="what the library will use for each antibacterial, and what it cannot resolve")
    a.add_argument("dictionary", help="drug dictionary file (.csv/.xlsx/.parquet) or a data folder")
    a.add_argument("--all", action="store_true", help="list every entry, not only antibacterial-looking ones")
    a.add_argument("--out", default=None, help="write the audit (.csv or .xlsx)")
    u = dsub.add_parser("unmapped", help="drug codes not counted (not in the dictionary, antibacterials without DDD), per code")
    u.add_argument("data", help="folder with facilities, drug_orders and drug_dictionary")
    u.add_argument("--period", default="year", choices=["month", "quarter", "year"], help="grain of first/last period")
    u.add_argument("--out", default=None, help="write the list (.xlsx or .csv)")
    u.add_argument("--aliases", default=None, help="YAML file {table: {your_header: canonical_column}}")
    u.add_argument("--quarantine", default=None, metavar="DIR", help="set invalid rows aside in DIR instead of stopping")

    p = sub.add_parser("report", help="Excel workbook or HTML page: values, intervals, targets, funnels, trends")
    p.add_argument("data", help="folder with one file per table")
    p.add_argument("--out", required=True, help="report.xlsx or report.html")
    p.add_argument("--targets", default=None, help="target-set name (qci targets) or YAML file")
    p.add_argument("--period", default="year", choices=["month", "quarter", "year"])
    p.add_argument("--confidence", type=float, default=0.95, help="level of the confidence intervals (default 0.95)")
    p.add_argument("--title", default=None)
    p.add_argument("--no-figures", action="store_true", help="tables only (faster)")
    p.add_argument("--definitions", action="append", default=None, help="folder or file of your own definitions")
    p.add_argument("--aliases", default=None, help="YAML file {table: {your_header: canonical_column}}")
    p.add_argument("--quarantine", action="store_true", help="set invalid rows aside instead of stopping")

    p = sub.add_parser("stewardship", help="the monthly antibacterial stewardship pack of one hospital (.xlsx or .html)")
    p.add_argument("data", help="folder with one file per table")
    p.add_argument("--facility", required=True, help="facility_id of the hospital")
    p.add_argument("--period", required=True, help="2024-06 (a month; 2024Q2 or 2024 also work)")
    p.add_argument("--out", required=True, help="stewardship.xlsx or stewardship.html")
    p.add_argument("--targets", default=None, help="target-set name (qci targets) or YAML file")
    p.add_argument("--pseudonymise", action="store_true", help="replace prescriber ids with stable salted hashes")
    p.add_argument("--salt", default=None, help="secret salt for --pseudonymise (default: environment variable QCI_SALT)")
    p.add_argument("--definitions", action="append", default=None, help="folder or file of your own definitions")
    p.add_argument("--aliases", default=None, help="YAML file {table: {your_header: canonical_column}}")
    p.add_argument("--quarantine", action="store_true", help="set invalid rows aside instead of stopping")

    p = sub.add_parser("catalog", help="list the built-in indicators")
    p.add_argument("--definitions", action="append", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quiet:
        from .progress import set_enabled
        set_enabled(False)
    try:
        return COMMANDS[args.command](args)
    except InputDataError as err:
        print(str(err), file=sys.stderr)
        return EXIT_INVALID_DATA
    except (QCIError, FileNotFoundError) as err:
        if args.debug:
            raise
        print(f"错误 / error: {err}", file=sys.stderr)
        return 1


def cmd_validate(args) -> int:
    from . import read_tables, validate
    report = validate(read_tables(args.data, aliases=args.aliases),
                      on_invalid="quarantine" if args.quarantine else "report", quarantine_dir=args.quarantine)
    print(report.summary())
    if args.out:
        report.failures.to_csv(args.out, index=False, encoding="utf-8-sig")
    if args.quarantine and report.quarantined:
        print(f"\n已隔离的行写入 / quarantined rows written to {args.quarantine}")
        return 0
    return EXIT_INVALID_DATA if len(report.failures) else 0


def cmd_compute(args) -> int:
    from . import compute, read_tables
    result = compute(read_tables(args.data, aliases=args.aliases), indicators=args.indicator, by=_by(args),
                     period=args.period, targets=args.targets, definitions=args.definitions,
                     on_invalid="quarantine" if args.quarantine else "raise", quarantine_dir=args.quarantine)
    if args.out:
        result.write(args.out)
        print(f"{len(result.frame)} 行结果写入 / rows written to {args.out}")
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 60):
            print(result.frame.drop(columns=["ci_low", "ci_high"]).to_string(index=False, max_rows=60))
    print(result.diagnostics_summary())
    return 0


def cmd_explain(args) -> int:
    from . import explain
    print(explain(args.indicator, definitions=args.definitions))
    return 0


def cmd_catalog(args) -> int:
    from . import catalog
    cat = catalog(args.definitions)
    with pd.option_context("display.width", 200, "display.max_colwidth", 40, "display.max_rows", 500):
        print(cat[["id", "name_zh", "unit", "direction", "kind"]].to_string(index=False))
    return 0


def cmd_demo(args) -> int:
    from . import compute, read_tables, validate
    from .synthetic import write_tables
    out = Path(args.out)
    data = write_tables(out / "data")
    print(f"合成样例数据 / synthetic sample written to {data}")
    tables = read_tables(data)
    report = validate(tables)
    print(report.summary())
    by_facility = compute(tables, period="year")
    by_facility.write(out / "result_by_facility_year.csv")
    by_facility.write(out / "result_by_facility_year.xlsx")
    region = compute(tables, by=[], period="year")
    region.write(out / "result_region_year.csv")
    frame = region.frame[["indicator", "period", "value", "unit", "target_op", "target", "met", "flags"]]
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.float_format", "{:,.2f}".format):
        print("\n全区域按年 / whole region by year:")
        print(frame.to_string(index=False))
    print("\n" + by_facility.diagnostics_summary())
    from . import check
    plan = check(tables, "plan-2024-city")
    plan.write(out / "check_plan-2024-city.csv")
    with pd.option_context("display.width", 200, "display.max_colwidth", 30):
        print("\n工作方案达标情况 / plan check (plan-2024-city):")
        print(plan.summary[["indicator", "target", "when", "units_met", "units_judged", "region_value", "region_met"]].to_string(index=False))
    from .report import build_report, write_report
    rep = build_report(tables, targets="plan-2024-city")
    write_report(rep, out / "report.xlsx")
    write_report(rep, out / "report.html")
    print(f"\n结果 / results: {out / 'report.html'}, {out / 'report.xlsx'}, {out / 'result_by_facility_year.xlsx'}, "
          f"{out / 'result_region_year.csv'}, {out / 'check_plan-2024-city.csv'}")
    return 0


def cmd_report(args) -> int:
    from . import read_tables
    from .report import build_report, write_report
    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".html", ".htm"):
        raise QCIError(f"报告格式应为 .xlsx 或 .html / --out must end in .xlsx or .html, got {out.name!r}")
    rep = build_report(read_tables(args.data, aliases=args.aliases), targets=args.targets, period=args.period,
                       title=args.title, definitions=args.definitions, figures=not args.no_figures,
                       on_invalid="quarantine" if args.quarantine else "raise", confidence=args.confidence)
    write_report(rep, out)
    summary = rep.summary()
    met = summary["met"].astype("boolean")
    print(f"报告已写入 / report written to {out}: {summary['indicator'].nunique()} 个指标 indicators, "
          f"{int((met == True).sum())} 达标 met, {int((met == False).sum())} 未达标 not met, "   # noqa: E712
          f"{len(rep.not_computable)} 无法计算 not computable, {len(rep.figures)} 图 figures")
    for note in rep.notes:
        print(f"  未绘制 / not drawn: {note}")
    return 0


def cmd_check(args) -> int:
    from . import check, read_tables
    result = check(read_tables(args.data, aliases=args.aliases), args.targets, by=_by(args), period=args.period,
                   definitions=args.definitions, on_invalid="quarantine" if args.quarantine else "raise",
                   quarantine_dir=args.quarantine)
    if args.out:
        if args.out.endswith(".xlsx"):
            with pd.ExcelWriter(args.out) as xl:
                result.summary.to_excel(xl, sheet_name="summary", index=False)
                result.frame.to_excel(xl, sheet_name="result", index=False)
        else:
            result.write(args.out)
        print(f"{len(result.frame)} 行写入 / rows written to {args.out}")
    with pd.option_context("display.width", 220, "display.max_rows", 200, "display.max_colwidth", 36):
        print(result.summary.drop(columns=["text"]).to_string(index=False))
    return 0


def cmd_targets(args) -> int:
    from . import target_sets
    with pd.option_context("display.width", 220, "display.max_colwidth", 60):
        print(target_sets().to_string(index=False))
    return 0


def cmd_drugs(args) -> int:
    from . import read_tables
    if args.drugs_command == "unmapped":
        return cmd_drugs_unmapped(args)
    from .domain.ddd import audit
    table = audit(read_tables(args.dictionary)["drug_dictionary"], everything=args.all)
    if args.out:
        (table.to_excel if args.out.endswith(".xlsx") else lambda p, **k: table.to_csv(p, encoding="utf-8-sig", **k))(args.out, index=False)
        print(f"{len(table)} 条写入 / entries written to {args.out}")
    with pd.option_context("display.width", 220, "display.max_rows", 500, "display.max_colwidth", 30):
        print(table.drop(columns=["problem_zh"]).to_string(index=False))
    bad = table["problem"].notna().sum()
    print(f"\n{len(table)} 条，其中 {bad} 条无法计算 DDD / entries, {bad} cannot be turned into DDDs")
    return 0


def cmd_drugs_unmapped(args) -> int:
    from . import read_tables
    from .drugs import unmapped_drugs, write_table
    table = unmapped_drugs(read_tables(args.data, aliases=args.aliases), period=args.period,
                           on_invalid="quarantine" if args.quarantine else "raise", quarantine_dir=args.quarantine)
    if args.out:
        write_table(table, args.out)
        print(f"{len(table)} 个编码写入 / codes written to {args.out}")
    with pd.option_context("display.width", 220, "display.max_rows", 200, "display.max_colwidth", 24):
        print(table.drop(columns=["reason_zh", "reason_en", "facility_ids"]).to_string(index=False))
    print(f"\n{len(table)} 个编码未计入，涉及金额 {table['amount'].sum():,.2f} 元 / codes not counted, "
          f"amount {table['amount'].sum():,.2f} yuan")
    return 0


def cmd_stewardship(args) -> int:
    import os
    from . import read_tables
    from .report.stewardship import build_stewardship
    from .report.stewardship_write import write_stewardship
    pack = build_stewardship(read_tables(args.data, aliases=args.aliases), args.facility, args.period, targets=args.targets,
                             definitions=args.definitions, pseudonymise=args.pseudonymise,
                             salt=args.salt or os.environ.get("QCI_SALT"),
                             on_invalid="quarantine" if args.quarantine else "raise")
    write_stewardship(pack, args.out)
    t = pack.tables
    print(f"月报已写入 / stewardship pack written to {args.out}: {len(t['departments']) - 1} 科室 departments, "
          f"{len(t['prescribers'])} 医师 prescribers, {len(t['unmapped'])} 待修正编码 codes to fix")
    for note in pack.notes:
        print(f"  {note}")
    return 0


COMMANDS = {"report": cmd_report, "demo": cmd_demo, "compute": cmd_compute, "validate": cmd_validate, "explain": cmd_explain,
            "catalog": cmd_catalog, "drugs": cmd_drugs, "check": cmd_check, "targets": cmd_targets,
            "stewardship": cmd_stewardship}

if __name__ == "__main__":
    sys.exit(main())

"""`qci` command line. Bad input exits non-zero with a readable message; --debug shows tracebacks."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .errors import (DefinitionError, InputDataError, MissingColumnError, MissingTableError, QCIError,
                     UnknownTableError, UnknownTargetSetError)
import os

from . import catalog, check, compute, explain, read_tables, target_sets, validate, write_partitioned
from .demo import cmd_demo
from .drugs import audit, unmapped_drugs, write_table
from .io.dburl import is_database_url, mask_url
from .io.window import Window
from .progress import set_enabled

EXIT_INVALID_DATA = 2
EXIT_INTERNAL = 3
BAD_INPUT = (InputDataError, DefinitionError, UnknownTableError, MissingTableError, MissingColumnError,
             UnknownTargetSetError)


PERIODS = ["month", "quarter", "year"]


def _global_options(defaults: bool) -> argparse.ArgumentParser:
    """--debug/--quiet, accepted before and after the subcommand (after: no default, so it never resets)."""
    p = argparse.ArgumentParser(add_help=False)
    kw = {} if defaults else {"default": argparse.SUPPRESS}
    p.add_argument("--debug", action="store_true", help="show Python tracebacks / 显示调用栈 (default: off)", **kw)
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars; they only show on a terminal anyway / 不显示进度条 (default: off)", **kw)
    return p


def _definitions_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--definitions", action="append", default=None, metavar="PATH",
                   help="folder or YAML file of your own definitions, repeatable / 自定义指标定义 (default: built-in catalog only)")


def _aliases_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aliases", default=None, metavar="YAML",
                   help="YAML file {table: {your_header: canonical_column}} / 表头别名 (default: built-in aliases only)")


def _add_compute_args(p: argparse.ArgumentParser, targets_required: bool = False, period: str = "month") -> None:
    _by_arg(p)
    p.add_argument("--period", default=period, choices=PERIODS, help=f"length of a period / 统计期 (default: {period})")
    p.add_argument("--targets", default=None, required=targets_required, metavar="SET",
                   help="target-set name (see qci targets) or YAML file / 目标集"
                        + (" (required)" if targets_required else " (default: none, 达标 not judged)"))
    _definitions_arg(p)
    _aliases_arg(p)
    p.add_argument("--quarantine", default=None, metavar="DIR",
                   help="set invalid rows aside in DIR instead of stopping / 隔离无效行 (default: stop on invalid rows)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes over partitions of whole facilities / 并行进程数 "
                        "(default: the cores when the data is large enough to gain, else 1)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the partitions on a Dask cluster: tcp://host:8786, or 'local' for a LocalCluster / "
                        "Dask 调度器 (default: none)")


def _by_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--by", action="extend", nargs="+", default=None, metavar="COLUMN",
                   help="columns to group by: facilities columns (facility_id, county, level …), or facility_id with one "
                        "unit below it (dept_code, prescriber_id, doctor_id, drug_code, atc_code, antibacterial_grade); "
                        "'region' for the whole region / 分组列 (default: facility_id)")


def _add_source_args(p: argparse.ArgumentParser) -> None:
    """DATA may be a database URL: where its tables are, and what to push into WHERE."""
    g = p.add_argument_group("database DATA (postgresql://…, duckdb:///file, sqlite:///file)")
    g.add_argument("--schema", default=None, help="database schema holding the tables / 数据库模式 (default: the connection's)")
    g.add_argument("--tables-map", default=None, metavar="YAML",
                   help="canonical table/column → database table/column / 表名映射 (default: tables named like files)")
    g.add_argument("--since", default=None, metavar="YYYY-MM",
                   help="read only from this month on, pushed into WHERE / 起始月份 (default: all)")
    g.add_argument("--until", default=None, metavar="YYYY-MM",
                   help="read only up to this month, pushed into WHERE / 截止月份 (default: all)")
    g.add_argument("--facility", action="append", default=None, metavar="ID",
                   help="read only this facility, repeatable / 只读该机构 (default: all)")


def _add_sql_out_args(p: argparse.ArgumentParser, table: str) -> None:
    g = p.add_argument_group("--out URL: write to a database table")
    g.add_argument("--out-table", default=table, help=f"results table / 结果表 (default: {table})")
    g.add_argument("--run-id", default=None,
                   help="run id; the same id replaces that run's rows / 运行编号 (default: a new id)")
    g.add_argument("--diagnostics-table", default=None,
                   help="also write the diagnostics ledger to this table / 诊断表 (default: none)")
    g.add_argument("--out-schema", default=None, help="database schema for the output tables / 输出模式 (default: the connection's)")


def _read(args, data: str | None = None):
    window = (Window(args.since, args.until, tuple(args.facility or ()))
              if args.since or args.until or args.facility else None)
    return read_tables(data or args.data, aliases=getattr(args, "aliases", None), schema=args.schema,
                       tables_map=args.tables_map, window=window)


def _write(result, args) -> str:
    """Write to a file, or to a database table when --out is a URL; the line to print."""
    if is_database_url(args.out):
        run_id = result.to_sql(args.out, table=args.out_table, run_id=args.run_id, schema=args.out_schema,
                               diagnostics_table=args.diagnostics_table)
        return f"{len(result.frame)} 行写入 / rows written to {mask_url(args.out)} {args.out_table} (run_id {run_id})"
    result.write(args.out)
    return f"{len(result.frame)} 行结果写入 / rows written to {args.out}"


def _by(args) -> list[str]:
    if not args.by:
        return ["facility_id"]
    return [] if args.by == ["region"] else [b for b in args.by if b != "region"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qci", description="医疗质量指标 / hospital quality indicators",
                                     parents=[_global_options(True)])
    common = [_global_options(False)]
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", parents=common, help="generate the synthetic sample, compute the catalog, write a report")
    p.add_argument("--out", default="qci-demo", metavar="DIR", help="output folder / 输出目录 (default: qci-demo)")

    p = sub.add_parser("compute", parents=common, help="compute indicators")
    p.add_argument("data", help="folder with one file per table / 数据目录")
    p.add_argument("--indicator", action="append", default=None, metavar="ID",
                   help="indicator id, repeatable / 指标代码 (default: every indicator the data can feed)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="result file: .csv, .xlsx or .parquet, or a database URL / 结果文件或数据库 (default: print to the terminal)")
    _add_compute_args(p)
    _add_source_args(p)
    _add_sql_out_args(p, "qci_results")

    p = sub.add_parser("validate", parents=common, help="schema checks only")
    p.add_argument("data", help="folder with one file per table / 数据目录")
    _aliases_arg(p)
    p.add_argument("--quarantine", default=None, metavar="DIR",
                   help="write invalid rows to DIR and exit 0 / 隔离无效行 (default: report them and exit 2)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="write the failure table (.csv) / 错误清单 (default: print a summary only)")
    _add_source_args(p)

    p = sub.add_parser("explain", parents=common, help="print the plan for indicators without reading data")
    p.add_argument("indicator", nargs="+", help="indicator id(s) / 指标代码")
    _definitions_arg(p)
    _by_arg(p)
    p.add_argument("--targets", default=None, metavar="SET",
                   help="show a target set's targets and conditions / 目标集 (default: the definitions' own targets)")

    p = sub.add_parser("partition", parents=common,
                       help="write DATA as a Hive-partitioned Parquet dataset, one folder per facility, for --workers/--scheduler")
    p.add_argument("data", help="folder with one file per table, or a database URL / 数据目录")
    p.add_argument("out", help="output folder / 输出目录")
    p.add_argument("--by", default="facility_id", choices=["facility_id"], help="partition key / 分区列 (default: facility_id)")
    _aliases_arg(p)
    _add_source_args(p)

    p = sub.add_parser("check", parents=common, help="a plan's targets: 达标 per facility and for the region")
    p.add_argument("data", help="folder with one file per table / 数据目录")
    p.add_argument("--out", default=None, metavar="FILE",
                   help=".csv, .xlsx, .parquet or a database URL / 结果文件或数据库 (default: print the plan summary only)")
    _add_compute_args(p, targets_required=True, period="year")
    p.add_argument("--withhold-small", action="store_true",
                   help="no 达标 judgement where the denominator is small (flag small_denominator) / 小样本不判定达标 "
                        "(default: off, 达标 judged on every value)")
    _add_source_args(p)
    _add_sql_out_args(p, "qci_check")

    sub.add_parser("targets", parents=common, help="list the shipped target sets")

    p = sub.add_parser("drugs", parents=common, help="drug dictionary tools")
    dsub = p.add_subparsers(dest="drugs_command", required=True, metavar="TOOL")
    a = dsub.add_parser("audit", parents=common,
                        help="what the library will use for each antibacterial, and what it cannot resolve")
    a.add_argument("dictionary", help="drug dictionary file (.csv/.xlsx/.parquet) or a data folder / 药品字典")
    a.add_argument("--all", action="store_true",
                   help="list every entry, not only antibacterial-looking ones / 列出全部药品 (default: off)")
    a.add_argument("--out", default=None, metavar="FILE",
                   help="write the audit (.csv or .xlsx) / 输出文件 (default: print only)")
    _add_source_args(a)
    u = dsub.add_parser("unmapped", parents=common,
                        help="drug codes not counted (not in the dictionary, antibacterials without DDD), per code")
    u.add_argument("data", help="folder (or database URL) with facilities, drug_orders and drug_dictionary / 数据目录")
    u.add_argument("--period", default="year", choices=PERIODS,
                   help="grain of the first and last period columns / 统计期 (default: year)")
    u.add_argument("--out", default=None, metavar="FILE", help="write the list (.xlsx or .csv) / 输出文件 (default: print only)")
    _aliases_arg(u)
    u.add_argument("--quarantine", default=None, metavar="DIR",
                   help="set invalid rows aside in DIR instead of stopping / 隔离无效行 (default: stop on invalid rows)")
    _add_source_args(u)

    p = sub.add_parser("report", parents=common,
                       help="Excel workbook or HTML page: scorecard, rankings, funnels, trends, tables")
    p.add_argument("data", help="folder with one file per table / 数据目录")
    p.add_argument("--out", required=True, metavar="FILE", help="report.xlsx or report.html / 报告文件 (required)")
    p.add_argument("--targets", default=None, metavar="SET",
                   help="target-set name (see qci targets) or YAML file / 目标集 (default: none, 达标 not judged)")
    p.add_argument("--period", default="year", choices=PERIODS, help="length of a period / 统计期 (default: year)")
    p.add_argument("--confidence", type=float, default=0.95, help="level of the confidence intervals / 置信水平 (default: 0.95)")
    p.add_argument("--title", default=None, help="title of the report / 报告标题 (default: from the target set)")
    p.add_argument("--no-figures", action="store_true", help="tables only, faster / 不绘图 (default: off)")
    _definitions_arg(p)
    _aliases_arg(p)
    p.add_argument("--quarantine", action="store_true",
                   help="set invalid rows aside instead of stopping / 隔离无效行 (default: off, stop on invalid rows)")
    _add_source_args(p)

    p = sub.add_parser("stewardship", parents=common,
                       help="the monthly antibacterial stewardship pack of one hospital (.xlsx or .html)")
    p.add_argument("data", help="folder with one file per table / 数据目录")
    p.add_argument("--facility", required=True, metavar="ID", help="facility_id of the hospital / 机构代码 (required)")
    p.add_argument("--period", required=True, help="2024-06 (a month; 2024Q2 or 2024 also work) / 统计期 (required)")
    p.add_argument("--out", required=True, metavar="FILE", help="stewardship.xlsx or stewardship.html / 月报文件 (required)")
    p.add_argument("--targets", default=None, metavar="SET",
                   help="target-set name (see qci targets) or YAML file / 目标集 (default: the definitions' own targets)")
    p.add_argument("--pseudonymise", action="store_true",
                   help="replace prescriber ids with stable salted hashes / 医师化名 (default: off)")
    p.add_argument("--salt", default=None, help="secret salt for --pseudonymise / 盐值 (default: environment variable QCI_SALT)")
    _definitions_arg(p)
    _aliases_arg(p)
    p.add_argument("--quarantine", action="store_true",
                   help="set invalid rows aside instead of stopping / 隔离无效行 (default: off, stop on invalid rows)")

    p = sub.add_parser("catalog", parents=common, help="list the built-in indicators")
    _definitions_arg(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quiet:
        set_enabled(False)
    try:
        return COMMANDS[args.command](args)
    except Exception as err:   # every exception: a message, never a traceback unless --debug
        if args.debug:
            raise
        code, text = exit_status(err)
        print(text + "\n（加 --debug 查看详情 / run with --debug for details）", file=sys.stderr)
        return code


def exit_status(err: Exception) -> tuple[int, str]:
    """(exit code, message): 2 for bad input or definitions, 1 for a wrong request, 3 for a bug of ours."""
    if isinstance(err, BAD_INPUT):
        return EXIT_INVALID_DATA, str(err) if isinstance(err, InputDataError) else f"错误 / error: {err}"
    if isinstance(err, (QCIError, FileNotFoundError)):
        return 1, f"错误 / error: {err}"
    if isinstance(err, (OSError, MemoryError)):
        return EXIT_INVALID_DATA, f"错误 / error: {type(err).__name__}: {err}"
    first = str(err).splitlines()[0] if str(err) else ""
    return EXIT_INTERNAL, f"内部错误（请报告）/ internal error (please report it): {type(err).__name__}: {first}"


def cmd_validate(args) -> int:
    report = validate(_read(args),
                      on_invalid="quarantine" if args.quarantine else "report", quarantine_dir=args.quarantine)
    print(report.summary())
    if args.out:
        report.failures.to_csv(args.out, index=False, encoding="utf-8-sig")
    if args.quarantine and report.quarantined:
        print(f"\n已隔离的行写入 / quarantined rows written to {args.quarantine}")
        return 0
    return EXIT_INVALID_DATA if len(report.failures) else 0


def cmd_compute(args) -> int:
    result = compute(_read(args), indicators=args.indicator, by=_by(args),
                     period=args.period, targets=args.targets, definitions=args.definitions,
                     on_invalid="quarantine" if args.quarantine else "raise", quarantine_dir=args.quarantine,
                     workers=args.workers, scheduler=args.scheduler)
    if args.out:
        print(_write(result, args))
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 60):
            print(result.frame.drop(columns=["ci_low", "ci_high"]).to_string(index=False, max_rows=60))
    print(result.diagnostics_summary())
    return 0


def cmd_explain(args) -> int:
    print(explain(args.indicator, definitions=args.definitions, by=_by(args), targets=args.targets))
    return 0


def cmd_partition(args) -> int:
    out = write_partitioned(_read(args), args.out, by=args.by)
    print(f"已按机构分区写入 / written as a dataset partitioned by {args.by}: {out}  (qci compute {out} --workers 2)")
    return 0


def cmd_catalog(args) -> int:
    cat = catalog(args.definitions)
    with pd.option_context("display.width", 200, "display.max_colwidth", 40, "display.max_rows", 500):
        print(cat[["id", "name_zh", "unit", "direction", "kind"]].to_string(index=False))
    return 0


def cmd_report(args) -> int:
    from .report import build_report, write_report
    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".html", ".htm"):
        raise QCIError(f"报告格式应为 .xlsx 或 .html / --out must end in .xlsx or .html, got {out.name!r}")
    rep = build_report(_read(args), targets=args.targets, period=args.period,
                       title=args.title, definitions=args.definitions, figures=not args.no_figures,
                       on_invalid="quarantine" if args.quarantine else "raise", confidence=args.confidence)
    write_report(rep, out)
    from .report.scorecard import tally
    t = tally(rep.scorecard())
    print(f"报告已写入 / report written to {out}: 记分卡 scorecard {t['hospitals']} 家医院 hospitals × {t['indicators']} 项指标 "
          f"indicators — 医院×指标 hospital × indicator: {t['met']} 达标 met, {t['not_met']} 未达标 not met, "
          f"{t['not_judged']} 不判定 not judged; {len(rep.not_computable)} 个指标无法计算 indicators not computable; "
          f"{len(rep.figures)} 图 figures")
    for note in rep.notes:
        print(f"  未绘制 / not drawn: {note}")
    return 0


def cmd_check(args) -> int:
    result = check(_read(args), args.targets, by=_by(args), period=args.period,
                   definitions=args.definitions, on_invalid="quarantine" if args.quarantine else "raise",
                   quarantine_dir=args.quarantine, workers=args.workers, scheduler=args.scheduler,
                   withhold_small=args.withhold_small)
    if args.out:
        if args.out.endswith(".xlsx"):
            with pd.ExcelWriter(args.out) as xl:
                result.summary.to_excel(xl, sheet_name="summary", index=False)
                result.frame.to_excel(xl, sheet_name="result", index=False)
            print(f"{len(result.frame)} 行写入 / rows written to {args.out}")
        else:
            print(_write(result, args))
    with pd.option_context("display.width", 220, "display.max_rows", 200, "display.max_colwidth", 36):
        print(result.summary.drop(columns=["text"]).to_string(index=False))
    return 0


def cmd_targets(args) -> int:
    with pd.option_context("display.width", 220, "display.max_colwidth", 60):
        print(target_sets().to_string(index=False))
    return 0


def cmd_drugs(args) -> int:
    if args.drugs_command == "unmapped":
        return cmd_drugs_unmapped(args)
    table = audit(_read(args, args.dictionary)["drug_dictionary"], everything=args.all)
    if args.out:
        (table.to_excel if args.out.endswith(".xlsx") else lambda p, **k: table.to_csv(p, encoding="utf-8-sig", **k))(args.out, index=False)
        print(f"{len(table)} 条写入 / entries written to {args.out}")
    with pd.option_context("display.width", 220, "display.max_rows", 500, "display.max_colwidth", 30):
        print(table.drop(columns=["problem_zh"]).to_string(index=False))
    bad = table["problem"].notna().sum()
    print(f"\n{len(table)} 条，其中 {bad} 条无法计算 DDD / entries, {bad} cannot be turned into DDDs")
    return 0


def cmd_drugs_unmapped(args) -> int:
    table = unmapped_drugs(_read(args), period=args.period,
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
            "partition": cmd_partition, "stewardship": cmd_stewardship}

if __name__ == "__main__":
    sys.exit(main())

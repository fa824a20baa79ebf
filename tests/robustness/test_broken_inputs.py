"""A corpus of broken inputs, each run through `qci validate` and `qci compute` as a user runs them.

Each case is a one-line mutation of a small sample (or a small broken file) with the exit code
and a fragment of the message expected from each command. Nothing may end in a traceback, and
compute must agree with validate on what is wrong.
"""
import contextlib
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from qcindicators.cli import main

CSV = dict(dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    from qcindicators.synthetic import Size, write_tables
    d = write_tables(tmp_path_factory.mktemp("corpus"), Size(n_facilities=2, years=(2024,), discharges_per_bed=0.03,
                                                            drug_lines_per_stay=2, visits_per_bed=0.05), fmt="csv")
    (d / "referrals.csv").unlink()     # header only at this size: "no data rows" is its own case below
    return d


def read(d, table):
    return pd.read_csv(d / f"{table}.csv", **CSV)


def write(d, table, frame):
    frame.to_csv(d / f"{table}.csv", index=False, encoding="utf-8")


def cell(table, column, value, row=0):
    def mutate(d):
        f = read(d, table)
        f.loc[row, column] = value
        write(d, table, f)
    return mutate


def column(table, name, value):
    def mutate(d):
        write(d, table, read(d, table).assign(**{name: value}))
    return mutate


def text(table, edit):
    def mutate(d):
        p = d / f"{table}.csv"
        p.write_bytes(edit(p.read_bytes()))
    return mutate


def duplicate_row(table, row=0):
    def mutate(d):
        f = read(d, table)
        write(d, table, pd.concat([f, f.iloc[[row]]], ignore_index=True))
    return mutate


def rename_file(old, new):
    return lambda d: (d / old).rename(d / new)


def replace_file(name, data: bytes, remove=None):
    def mutate(d):
        if remove:
            (d / remove).unlink()
        (d / name).write_bytes(data)
    return mutate


def truncated_parquet(d):
    write(d, "visits", read(d, "visits"))
    data = read(d, "visits")
    (d / "visits.csv").unlink()
    data.to_parquet(d / "visits.parquet")
    raw = (d / "visits.parquet").read_bytes()
    (d / "visits.parquet").write_bytes(raw[: len(raw) // 2])


def mixed_encoding(d):
    p = d / "discharges.csv"
    lines = p.read_bytes().split(b"\n")
    lines[-2] = lines[-2].decode("utf-8").encode("gbk")
    p.write_bytes(b"\n".join(lines))


def extra_file(name, content: str):
    return lambda d: (d.parent / name).write_text(content, encoding="utf-8")


OK, BAD = 0, 2
# (id, mutation, extra compute args, validate (exit, fragment), compute (exit, fragment)); fragment None: no check
CASES = [
    # blank is missing
    ("grade-empty", cell("facilities", "grade", ""), [], (OK, None), (OK, None)),
    ("grade-whitespace", cell("facilities", "grade", "   "), [], (OK, None), (OK, None)),
    ("grade-NULL", cell("facilities", "grade", "NULL"), [], (OK, None), (OK, None)),
    ("grade-#N/A", cell("facilities", "grade", "#N/A"), [], (OK, None), (OK, None)),
    ("grade-dash", cell("facilities", "grade", "—"), [], (OK, None), (OK, None)),
    ("antibacterial-class-blank", cell("drug_dictionary", "antibacterial_class", "None"), [], (OK, None), (OK, None)),
    ("dept-blank", cell("discharges", "dept_code", " "), [], (OK, None), (OK, None)),
    ("grade-unknown", cell("facilities", "grade", "丁"), [], (BAD, "grade"), (BAD, "grade")),
    # codes and synonyms
    ("dispensing-unit-box", column("drug_dictionary", "dispensing_unit", "box"), [], (OK, None), (OK, None)),
    ("dispensing-unit-chinese", column("drug_dictionary", "dispensing_unit", "盒"), [], (OK, None), (OK, None)),
    ("dispensing-unit-unknown", column("drug_dictionary", "dispensing_unit", "箱子"), [], (BAD, "dispensing_unit"), (BAD, "dispensing_unit")),
    # compute checks every column of a table it reads, as validate: the rows it sets aside never depend on the request
    ("sex-unknown", cell("discharges", "sex", "X"), [], (BAD, "sex"), (BAD, "sex")),
    ("bool-unknown", cell("procedures", "is_surgery", "maybe"), [], (BAD, "is_surgery"), (BAD, "is_surgery")),
    ("facility-type-unknown", cell("facilities", "facility_type", "医院"), [], (BAD, "facility_type"), (BAD, "facility_type")),
    # numbers
    ("cost-inf", cell("discharges", "total_cost", "inf"), [], (BAD, "total_cost"), (BAD, "total_cost")),
    ("cost-minus-inf", cell("discharges", "total_cost", "-inf"), [], (BAD, "total_cost"), (BAD, "total_cost")),
    ("cost-1e400", cell("discharges", "total_cost", "1e400"), [], (BAD, "total_cost"), (BAD, "total_cost")),
    ("cost-12,34", cell("discharges", "total_cost", "12,34"), [], (BAD, "'12,34'"), (BAD, "'12,34'")),
    ("cost-european", cell("discharges", "total_cost", "1.234,56"), [], (BAD, "'1.234,56'"), (BAD, "'1.234,56'")),
    ("cost-1,2,3", cell("discharges", "total_cost", "1,2,3"), [], (BAD, "'1,2,3'"), (BAD, "'1,2,3'")),
    ("cost-text", cell("discharges", "total_cost", "abc"), [], (BAD, "not a number"), (BAD, "not a number")),
    ("cost-thousands-ok", cell("discharges", "total_cost", "12,345.67"), [], (OK, None), (OK, None)),
    ("cost-fullwidth-ok", cell("discharges", "total_cost", "１２３４５"), [], (OK, None), (OK, None)),
    ("cost-negative", cell("discharges", "total_cost", "-5"), [], (BAD, "total_cost"), (BAD, "total_cost")),
    ("age-out-of-range", cell("discharges", "age", "200"), [], (BAD, "age"), (BAD, "age")),
    ("quantity-inf", cell("drug_orders", "quantity", "inf"), [], (BAD, "quantity"), (BAD, "quantity")),
    ("period-month-13", cell("facility_periods", "period", "2024-13"), [], (BAD, "period"), (BAD, "period")),
    # dates
    ("date-2999", cell("discharges", "admit_date", "2999-12-31"), [], (BAD, "1900–2100"), (BAD, "1900–2100")),
    ("date-0001", cell("discharges", "discharge_date", "0001-01-01"), [], (BAD, "1900–2100"), (BAD, "1900–2100")),
    ("date-1899", cell("discharges", "admit_date", "1899-12-31"), [], (BAD, "admit_date"), (BAD, "admit_date")),
    ("date-feb-30", cell("discharges", "admit_date", "2024-02-30"), [], (BAD, "admit_date"), (BAD, "admit_date")),
    ("order-date-2999", cell("drug_orders", "order_date", "2999-12-31"), [], (BAD, "order_date"), (BAD, "order_date")),
    ("discharge-before-admit", cell("discharges", "discharge_date", "2023-01-01"), [], (BAD, "discharge_after_admit"),
     (BAD, "discharge_after_admit")),
    # implausible but possible: used, and flagged
    ("los-400-days", cell("discharges", "los_days", "400"), [], (OK, None), (OK, "implausible_value")),
    ("cost-2e8", cell("discharges", "total_cost", "200000000"), [], (OK, None), (OK, "implausible_value")),
    # duplicates and keys
    ("duplicate-stay", duplicate_row("discharges"), [], (BAD, "unique_key"), (BAD, "unique_key")),
    ("duplicate-facility", duplicate_row("facilities"), [], (BAD, "unique_key"), (BAD, "unique_key")),
    ("duplicate-visit", duplicate_row("visits"), [], (BAD, "unique_key"), (BAD, "unique_key")),
    ("unknown-facility", cell("discharges", "facility_id", "999"), [], (BAD, "unknown_facility"), (BAD, "unknown_facility")),
    ("unknown-encounter", cell("procedures", "encounter_id", "NOPE"), [], (BAD, "unknown_encounter"), (BAD, "unknown_encounter")),
    ("required-value-blank", cell("discharges", "total_cost", ""), [], (BAD, "total_cost"), (BAD, "total_cost")),
    # headers
    ("duplicate-header", text("discharges", lambda b: b.replace(b"drug_cost,", b"total_cost,", 1)), [],
     (BAD, "duplicate header"), (BAD, "duplicate header")),
    ("two-headers-one-column", text("discharges", lambda b: b.replace(b"drug_cost,", "住院总费用,".encode(), 1)), [],
     (BAD, "both map to total_cost"), (BAD, "both map to total_cost")),
    ("required-column-missing", lambda d: write(d, "discharges", read(d, "discharges").drop(columns=["total_cost"])), [],
     (BAD, "total_cost"), (BAD, "total_cost")),
    # broken files
    ("ragged-short-row", text("discharges", lambda b: b.replace(b",", b"", 3)), [], (BAD, "fields"), (BAD, "fields")),
    ("ragged-long-row", text("procedures", lambda b: b.rstrip(b"\n") + b",extra\n"), [], (BAD, "fields"), (BAD, "fields")),
    ("unclosed-quote", text("visits", lambda b: b.rstrip(b"\n") + b'\n"V9,1,2\n'), [], (BAD, "quote"), (BAD, "quote")),
    ("mixed-encoding", mixed_encoding, [], (BAD, "encoding"), (BAD, "encoding")),
    ("truncated-parquet", truncated_parquet, [], (BAD, "visits.parquet"), (BAD, "visits.parquet")),
    ("fake-xlsx", replace_file("visits.xlsx", b"visit_id,facility_id\n1,2\n", remove="visits.csv"), [],
     (BAD, "visits.xlsx"), (BAD, "visits.xlsx")),
    ("empty-file", replace_file("visits.csv", b""), [], (BAD, "empty file"), (BAD, "empty file")),
    ("header-only", replace_file("referrals.csv", b"referral_id,from_facility_id,to_facility_id,referral_date,direction\n"), [],
     (BAD, "no data rows"), (BAD, "no data rows")),
    ("unknown-table-name", rename_file("visits.csv", "vists.csv"), [], (BAD, "Did you mean: visits"), (BAD, "Did you mean: visits")),
    ("gbk-file-ok", text("facilities", lambda b: b.decode("utf-8").encode("gbk")), [], (OK, None), (OK, None)),
    # definitions, targets and aliases given with compute
    ("definition-yaml-syntax", extra_file("bad_def.yaml", "id: x\n  name: [unclosed\n"), ["--definitions", "{parent}/bad_def.yaml"],
     None, (BAD, "bad_def.yaml")),
    ("definition-unknown-column", extra_file("def.yaml", "id: my_share\nname: {zh: 测试, en: test}\nunit: '%'\n"
                                             "kind: proportion\ndirection: higher_is_better\nsource: {document: test}\n"
                                             "numerator: {table: discharges, where: total_cots > 0, count: true}\n"
                                             "denominator: {table: discharges, count: true}\n"),
     ["--definitions", "{parent}/def.yaml", "--indicator", "my_share"], None, (BAD, "total_cost")),
    ("targets-yaml-syntax", extra_file("t.yaml", "id: t\ntargets: [\n"), ["--targets", "{parent}/t.yaml"], None, (BAD, "t.yaml")),
    ("aliases-yaml-syntax", extra_file("a.yaml", "discharges: {a: b\n"), ["--aliases", "{parent}/a.yaml"], None, (BAD, "a.yaml")),
    ("aliases-wrong-shape", extra_file("a.yaml", "- discharges\n- total_cost\n"), ["--aliases", "{parent}/a.yaml"], None,
     (BAD, "a.yaml")),
    ("aliases-list-value", extra_file("a.yaml", "discharges: {费用: [total_cost]}\n"), ["--aliases", "{parent}/a.yaml"], None,
     (BAD, "unknown column")),
    ("aliases-bomb", extra_file("a.yaml", "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcde", "bcdef"))),
     ["--aliases", "{parent}/a.yaml"], None, (BAD, "alias")),
]


# one indicator or more on every table: compute checks every column of each table it reads, so these find
# what the whole catalog would, in a fraction of the time
COVERING = ["surgery_share", "level4_surgery_share", "antibacterial_use_density", "average_length_of_stay",
            "inpatient_cost_per_discharge", "ic_staff_per_250_beds", "outpatient_antibacterial_prescription_rate",
            "outpatient_satisfaction_rate", "downward_referrals"]


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--quiet", *argv])
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_input(case, base_dir, tmp_path):
    name, mutate, extra, want_validate, want_compute = case
    data = tmp_path / "data"
    shutil.copytree(base_dir, data)
    mutate(data)
    extra = [a.replace("{parent}", str(tmp_path)) for a in extra]
    chosen = [] if "--indicator" in extra else [a for i in COVERING for a in ("--indicator", i)]
    if "referrals" not in {p.stem for p in data.iterdir()}:
        chosen = chosen[:-2]
    checks = [(["validate", str(data)], want_validate),
              (["compute", str(data), "--period", "year", *chosen, *extra], want_compute)]
    for argv, want in checks:
        if want is None:
            continue
        code, text_ = run(argv)
        assert "Traceback" not in text_, text_
        assert code == want[0], f"{argv[0]}: exit {code}\n{text_[-3000:]}"
        if want[1] is not None:
            assert want[1] in text_, f"{argv[0]}: {want[1]!r} not in\n{text_[-3000:]}"
        if code:
            assert "--debug" in text_ or argv[0] == "validate"


def test_corpus_is_large_enough():
    assert len(CASES) >= 40

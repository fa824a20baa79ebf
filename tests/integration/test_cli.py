"""The command line as a user runs it."""
import subprocess
import sys

import pandas as pd

from qcindicators.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "qcindicators.cli", *args], capture_output=True, text=True)


def test_demo_writes_results(tmp_path):
    proc = run("demo", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    region = pd.read_csv(tmp_path / "demo" / "result_region_year.csv", dtype={"period": str})
    aud = region[(region["indicator"] == "antibacterial_use_density") & (region["period"] == "2024")]
    assert len(aud) == 1 and 5 < aud["value"].iloc[0] < 60
    assert (tmp_path / "demo" / "result_by_facility_year.xlsx").stat().st_size > 0
    assert "全部通过 / all checks passed" in proc.stdout
    lines = proc.stdout.splitlines()
    assert len(lines) <= 40 and "antibacterial_use_density" not in proc.stdout     # a summary, not the region table
    assert "12 家医院 hospitals" in lines[1] and any("report.html" in line for line in lines)
    assert (tmp_path / "demo" / "report.html").stat().st_size > 0


def test_global_options_work_after_the_subcommand(sample_dir, tmp_path, monkeypatch):
    from qcindicators import progress
    from qcindicators.cli import build_parser
    monkeypatch.setattr(progress, "ENABLED", None)
    args = build_parser().parse_args(["report", str(sample_dir), "--out", "r.html", "--quiet", "--debug"])
    assert args.quiet and args.debug
    args = build_parser().parse_args(["--quiet", "drugs", "audit", "d.csv"])
    assert args.quiet and not args.debug                    # before the subcommand; not reset by the subparser
    assert main(["targets", "--quiet"]) == 0 and progress.ENABLED is False


def _actions(parser, path=("qci",)):
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, path + (name,))
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_has_help_that_states_its_default():
    from qcindicators.cli import build_parser
    for path, action in _actions(build_parser()):
        where = f"{' '.join(path)} {action.dest}"
        assert action.help and action.help.strip(), where
        if action.option_strings:
            assert "(default:" in action.help or "(required)" in action.help, where


def test_compute_writes_each_format(sample_dir, tmp_path):
    for suffix in ("csv", "xlsx", "parquet"):
        out = tmp_path / f"r.{suffix}"
        code = main(["compute", str(sample_dir), "--indicator", "antibacterial_use_density", "--indicator",
                     "ic_staff_per_250_beds", "--by", "county", "--period", "quarter", "--out", str(out)])
        assert code == 0 and out.stat().st_size > 0
    frame = pd.read_parquet(tmp_path / "r.parquet")
    assert list(frame.columns[:2]) == ["indicator", "county"] and set(frame["indicator"]) == {"antibacterial_use_density"}
    # annual staffing reports cannot be split into quarters: reported, not computed
    assert frame["period"].str.match(r"^\d{4}Q[1-4]$").all()


def test_region_grouping_and_unknown_indicator(sample_dir, capsys):
    assert main(["compute", str(sample_dir), "--indicator", "ic_staff_per_250_beds", "--by", "region", "--period", "year"]) == 0
    assert main(["compute", str(sample_dir), "--indicator", "antibacterial_use_densty"]) == 1
    err = capsys.readouterr().err
    assert "Did you mean: antibacterial_use_density" in err and "Traceback" not in err


def test_explain_and_catalog(capsys):
    assert main(["explain", "antibacterial_use_density"]) == 0
    assert "scan 1: drug_orders" in capsys.readouterr().out
    assert main(["catalog"]) == 0
    assert "抗菌药物使用强度" in capsys.readouterr().out


def test_validate_quarantine_directory(tmp_path, sample_dir):
    d = pd.read_parquet(sample_dir / "discharges.parquet")
    d.loc[0, "total_cost"] = -1
    data = tmp_path / "data"
    data.mkdir()
    for p in sample_dir.glob("*.parquet"):
        (d if p.stem == "discharges" else pd.read_parquet(p)).to_parquet(data / p.name)
    assert main(["validate", str(data)]) == 2
    assert main(["validate", str(data), "--quarantine", str(tmp_path / "q")]) == 0
    assert (tmp_path / "q" / "discharges.csv").exists()


def test_missing_table_message(tmp_path):
    pd.DataFrame({"facility_id": ["1"], "level": [2], "facility_type": ["general"], "ownership": ["public"]}).to_csv(
        tmp_path / "facilities.csv", index=False)
    proc = run("compute", str(tmp_path), "--indicator", "antibacterial_use_density")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "'discharges', 'drug_dictionary', 'drug_orders', which were not supplied" in proc.stderr

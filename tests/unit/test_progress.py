"""Progress bars: shown for long table passes when enabled, silent when quiet or when the count is unknown."""
import qcindicators as qci
from qcindicators import progress
from qcindicators.engine import pandas_engine


def _run(sample_dir):
    qci.compute(qci.read_tables(sample_dir), ["antibacterial_use_density"], period="year")


def test_bars_follow_the_setting(sample_dir, capsys, monkeypatch):
    monkeypatch.setattr(pandas_engine, "MIN_ROWS", 1)          # treat the sample as a long run
    try:
        progress.set_enabled(True)
        _run(sample_dir)
        shown = capsys.readouterr().err
        assert "drug_orders" in shown and "rows" in shown
        progress.set_enabled(False)                               # --quiet
        _run(sample_dir)
        assert capsys.readouterr().err == ""
    finally:
        progress.set_enabled(None)


def test_no_bar_for_short_tables_or_unknown_counts(sample_dir, capsys):
    progress.set_enabled(True)
    try:
        _run(sample_dir)                                          # the sample is far below MIN_ROWS
        assert capsys.readouterr().err == ""
        with progress.bar(None, "unknown", min_total=10) as b:    # a CSV's length is not read just for a bar
            assert b.disable
    finally:
        progress.set_enabled(None)

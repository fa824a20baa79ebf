"""Figures: Chinese renders without missing glyphs where a CJK font exists; English, with one warning, where not."""
import struct
import warnings

import pytest
from matplotlib.figure import Figure

import qcindicators as qci
from qcindicators.errors import QCIWarning
from qcindicators.plot import figures, fonts, to_bytes

IDS = ["inpatient_antibacterial_use_rate", "antibacterial_use_density"]


@pytest.fixture(scope="module")
def result(sample_dir):
    return qci.compute(qci.read_tables(sample_dir), IDS, period="month")


def _draw_all(result):
    fid = result.frame["facility_id"].iloc[0]
    figs = [result.plot.funnel(IDS[0]), result.plot.funnel(IDS[1], overdispersion="additive"),
            result.plot.trend(IDS[1], fid), result.plot.trend(IDS[0], fid, laney=True), result.plot.targets()]
    return figs, [to_bytes(f, "png") for f in figs] + [to_bytes(figs[0], "svg")]


@pytest.mark.skipif(fonts.cjk_font() is None, reason="no CJK font installed (.ci/run installs fonts-noto-cjk)")
def test_chinese_renders_without_missing_glyphs(result):
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # "Glyph ... missing from font(s)" is a UserWarning: it would fail here
        figs, data = _draw_all(result)
    assert all(isinstance(f, Figure) for f in figs)
    assert "住院患者抗菌药物使用率" in figs[0].axes[0].get_title()
    w, h = struct.unpack(">II", data[0][16:24])
    assert (w, h) == (800, 500)


def test_without_a_cjk_font_labels_fall_back_to_english_once(result, monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    fonts._warn_once.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figs, _ = _draw_all(result)
    ours = [w for w in caught if issubclass(w.category, QCIWarning)]
    glyphs = [w for w in caught if "Glyph" in str(w.message)]
    assert len(ours) == 1 and "fonts-noto-cjk" in str(ours[0].message)
    assert glyphs == []
    assert figs[0].axes[0].get_title().startswith("Inpatient")
    fonts._warn_once.cache_clear()


def test_funnel_marks_and_names_outliers(result):
    f = qci.funnel(result, IDS[1])
    fig = result.plot.funnel(IDS[1])
    ax = fig.axes[0]
    outside = f.units[f.units["position"] != "within"]
    names = list(result.unit_label(outside["facility_id"])) if fonts.cjk_font() else list(outside["facility_id"])
    labels = [t.get_text() for t in ax.texts]
    if len(names) > 3:      # crowded: numbered points, with the key under the axes
        assert labels == [str(k) for k in range(1, len(names) + 1)]
        assert all(f"{k} {n}" in ax.get_xlabel() for k, n in zip(labels, names))
    else:
        assert sorted(labels) == sorted(names) and len(labels) > 0
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # the legend sits outside the axes, under them
    assert not ax.get_legend() and fig.legends and fig.legends[0].get_window_extent().y1 <= ax.get_window_extent().y0


def test_crowded_funnel_labels_never_overlap(result, monkeypatch):
    """Twelve outliers at nearly the same place: numbered, nudged apart, keyed under the axes."""
    from matplotlib.figure import Figure as F
    fig = F(figsize=(8, 5), dpi=100)
    ax = fig.add_subplot()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    names = [f"医院{k:02d}" for k in range(12)]
    figures._label_points(fig, ax, [50.0] * 12, [50.0 + 0.1 * k for k in range(12)], names)
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert [t.get_text() for t in ax.texts] == [str(k) for k in range(1, 13)]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert "12 医院11" in ax.get_xlabel()


def test_trend_axis_starts_at_the_first_point(result):
    import numpy as np
    fid = result.frame["facility_id"].iloc[0]
    fig = result.plot.trend(IDS[1], fid)
    ax = fig.axes[0]
    first = np.nanmin(ax.lines[-1].get_xdata())
    assert ax.get_xlim()[0] == first - 0.5 and first == 0
    assert not ax.get_legend() and fig.legends


def test_ranking_sorts_units_and_shows_intervals(result):
    from qcindicators.plot.ranking import ranking_figure
    fig = ranking_figure(result, IDS[0])
    ax = fig.axes[0]
    rows = result.unit_rows(IDS[0])
    latest = rows[rows["period"] == rows["period"].max()].sort_values("value")
    shown = [t.get_text() for t in ax.get_yticklabels()]
    expected = list(result.unit_label(latest["facility_id"])) if fonts.cjk_font() else list(latest["facility_id"])
    assert shown == expected                       # lowest at the bottom, highest on top
    assert len(ax.collections[0].get_segments()) == len(latest)     # an interval per unit


def test_notebook_display(result):
    page = result._repr_html_()
    assert page.count("<table") >= 1 and "达标" in page and "CI 95%" in page
    assert 'class="unmet"' in page or 'class="met"' in page


def test_diagnostics_display_as_a_formatted_table():
    import pandas as pd
    from tests.unit.test_indicators_hand import aud_tables
    t = aud_tables()
    t["drug_orders"] = pd.concat([t["drug_orders"], pd.DataFrame([("E1", "F1", "inpatient", "2024-01-03", "ZZ", 7)],
                                                                 columns=t["drug_orders"].columns)], ignore_index=True)
    d = qci.compute(t, ["antibacterial_use_density"], period="month").diagnostics
    assert isinstance(d, pd.DataFrame) and type(d[d["rows"] > 0]) is pd.DataFrame   # derived frames are plain
    page = d._repr_html_()
    assert "诊断 / diagnostics" in page and "<table" in page and "ZZ" not in page.split("<table")[0]
    assert "unmapped" in page or "字典" in page

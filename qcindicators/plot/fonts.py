"""A font that has Chinese glyphs, found once; without one, figures fall back to English labels.

matplotlib's own fonts (DejaVu) have no CJK glyphs: Chinese titles would render as empty boxes
with a "Glyph … missing from font" warning per character. We look for the usual CJK fonts among
the fonts matplotlib knows, then on the system (fonts installed after matplotlib built its cache
are not in it), and configure them only inside our own figures (an rc_context), never globally.
"""
from __future__ import annotations

import functools
import warnings
from contextlib import contextmanager
from ..errors import QCIWarning

PREFERRED = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans CJK JP",
             "Noto Sans CJK TC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
             "PingFang SC", "Hiragino Sans GB", "Heiti SC", "Droid Sans Fallback", "AR PL UMing CN")
FILE_HINTS = ("notosanscjk", "notosanssc", "sourcehansans", "wqy", "msyh", "simhei", "pingfang", "droidsansfallback")


def _known() -> set[str]:
    from matplotlib import font_manager as fm
    return {f.name for f in fm.fontManager.ttflist}


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use, or None.

    Examples:
        >>> cjk_font() is None or isinstance(cjk_font(), str)
        True
    """
    from matplotlib import font_manager as fm
    names = _known()
    for name in PREFERRED:
        if name in names:
            return name
    for path in fm.findSystemFonts():
        if any(h in path.lower().replace("-", "").replace("_", "") for h in FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except (RuntimeError, OSError, ValueError):   # an unreadable font file is simply not used
                continue
    names = _known()
    return next((n for n in PREFERRED if n in names), None)


@functools.lru_cache(maxsize=1)
def _warn_once() -> None:
    warnings.warn("未找到中文字体，图表使用英文标签（可安装 fonts-noto-cjk）/ no CJK font found: figures use English "
                  "labels (install e.g. Debian's fonts-noto-cjk)", QCIWarning, stacklevel=3)


def text(zh: str, en: str) -> str:
    """Chinese where a CJK font exists, else English."""
    if cjk_font():
        return zh
    _warn_once()
    return en


@contextmanager
def figure_style():
    """rcParams for our figures only: the CJK font first, DejaVu for anything it lacks, ASCII minus signs."""
    import matplotlib as mpl
    font = cjk_font()
    rc = {"axes.unicode_minus": False, "font.family": "sans-serif", "svg.fonttype": "path",
          "axes.spines.top": False, "axes.spines.right": False}
    if font:   # named families, not the generic "sans-serif": generic names are resolved at draw time, outside this context
        rc["font.family"] = [font, "DejaVu Sans"]
    with mpl.rc_context(rc):
        yield

"""The wheel carries every subpackage and the catalog (indicator_defs/ at the top of the repository)."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "qcindicators").rglob("__init__.py")}
    assert found | {"qcindicators.indicator_defs"} == set(config["packages"])
    assert config["package-dir"] == {"qcindicators.indicator_defs": "indicator_defs"}
    assert (ROOT / "indicator_defs" / "__init__.py").exists()

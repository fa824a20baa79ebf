"""Loading definitions and target sets from YAML: everything checked before any data is touched."""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable

import yaml
from pydantic import ValidationError

from ..errors import DefinitionError, DefinitionIssue, UnknownIndicatorError, UnknownTargetSetError, did_you_mean
from .checks import check_definition
from .model import IndicatorSpec, TargetSetSpec
from .yaml_lines import line_of, load_file
from .model import IndicatorSpec as I, MeasureSpec as M, TargetSpec as T
from .checks import check_expression
from ..schemas.contract import FACILITY_ATTRIBUTES
from .model import UNIT_COLUMNS


@dataclass
class Catalog:
    """Definitions by id, with the file each came from, and the known target sets."""

    definitions: dict[str, IndicatorSpec] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    target_sets: dict[str, TargetSetSpec] = field(default_factory=dict)

    def __contains__(self, key: str) -> bool:
        return key in self.definitions

    def __getitem__(self, key: str) -> IndicatorSpec:
        if key not in self.definitions:
            raise UnknownIndicatorError(f"未知指标 / unknown indicator {key!r}." + did_you_mean(key, self.definitions))
        return self.definitions[key]

    def __iter__(self):
        return iter(self.definitions.values())

    def merged(self, other: "Catalog") -> "Catalog":
        """This catalog plus `other`; an id defined in both is an error."""
        clash = sorted(set(self.definitions) & set(other.definitions))
        if clash:
            raise DefinitionError([DefinitionIssue(other.origins[c], None, c, "id",
                                   f"与 {self.origins[c]} 中的指标重名 / duplicates the id in {self.origins[c]}") for c in clash])
        out = Catalog({**self.definitions, **other.definitions}, {**self.origins, **other.origins},
                      {**self.target_sets, **other.target_sets})
        _check_references(out)
        return out

    def target_set(self, name_or_path: str | Path) -> TargetSetSpec:
        if str(name_or_path) in self.target_sets:
            return self.target_sets[str(name_or_path)]
        path = Path(name_or_path)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            spec = _load_target_set(path)
            _check_target_set(spec, str(path), self)
            return spec
        raise UnknownTargetSetError(f"未知目标集 / unknown target set {str(name_or_path)!r}; shipped: "
                                    + ", ".join(sorted(self.target_sets)) + "." + did_you_mean(str(name_or_path), self.target_sets))


def _yaml_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.y*ml") if "targets" not in f.relative_to(p).parts)
        elif p.exists():
            files.append(p)
        else:
            raise DefinitionError([DefinitionIssue(str(p), None, None, None, "文件或目录不存在 / no such file or directory")])
    return files


def _pydantic_issues(err: ValidationError, file: str, lines: dict, ident: str | None) -> list[DefinitionIssue]:
    out = []
    for e in err.errors():
        path = tuple(x for x in e["loc"] if x not in ("function-after",))
        msg = e["msg"].replace("Value error, ", "")
        if e["type"] == "extra_forbidden":
            msg = f"未知的键 / unknown key {path[-1]!r}." + _key_hint(path)
        elif e["type"] == "missing":
            msg = f"缺少必需的键 / missing required key {path[-1]!r}"
        out.append(DefinitionIssue(file, line_of(lines, path), ident, ".".join(map(str, path)) or None, msg))
    return out


def _key_hint(path: tuple) -> str:
    fields = {"numerator": "MeasureSpec", "denominator": "MeasureSpec", "measure": "MeasureSpec"}
    model = M if len(path) > 1 and path[-2] in fields else (T if "targets" in path else I)
    return did_you_mean(str(path[-1]), model.model_fields)


def load_definition_file(path: Path) -> tuple[IndicatorSpec | None, list[DefinitionIssue]]:
    file = str(path)
    try:
        data, lines = load_file(path)
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        return None, [DefinitionIssue(file, line + 1 if line is not None else None, None, None, f"YAML 无法解析 / invalid YAML: {err}")]
    if not isinstance(data, dict):
        return None, [DefinitionIssue(file, 1, None, None, "定义应为键值映射 / a definition must be a YAML mapping")]
    ident = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        spec = IndicatorSpec.model_validate(data)
    except ValidationError as err:
        return None, _pydantic_issues(err, file, lines, ident)
    issues = [DefinitionIssue(file, line_of(lines, p), spec.id, ".".join(map(str, p)), msg)
              for p, msg in check_definition(spec, {k: list(v) for k, v in spec.extra_columns.items()})]
    if path.stem != spec.id:
        issues.append(DefinitionIssue(file, line_of(lines, ("id",)), spec.id, "id",
                                      f"文件名应与 id 一致 / the file should be named {spec.id}.yaml"))
    return spec, issues


def _check_references(cat: Catalog, unknown: bool = True) -> None:
    """References to unknown indicators (unless `unknown` is False: they may be in another catalog) and cycles."""
    issues = []
    for spec in cat.definitions.values() if unknown else ():
        for ref_key in ("of", "variant_of"):
            ref = getattr(spec, ref_key)
            if ref is not None and ref not in cat.definitions:
                issues.append(DefinitionIssue(cat.origins[spec.id], None, spec.id, ref_key,
                                              f"引用了不存在的指标 / refers to unknown indicator {ref!r}." + did_you_mean(ref, cat.definitions)))
    for ident in cat.definitions:
        seen, cur = [ident], cat.definitions[ident].of
        while cur is not None and cur in cat.definitions:
            if cur in seen:
                issues.append(DefinitionIssue(cat.origins[ident], None, ident, "of",
                                              "循环引用 / cycle: " + " → ".join(seen + [cur])))
                break
            seen.append(cur)
            cur = cat.definitions[cur].of
    if issues:
        raise DefinitionError(issues)


def load_definitions(*paths: str | Path) -> Catalog:
    """Load YAML definitions (files or folders). Every problem is raised together as `DefinitionError`.

    Examples:
        >>> import qcindicators as qci
        >>> cat = qci.load_definitions()          # no path: the built-in catalog
        >>> "antibacterial_use_density" in cat
        True
    """
    if not paths:
        return builtin_catalog()
    cat, issues = Catalog(), []
    for f in _yaml_files(paths):
        spec, found = load_definition_file(f)
        issues += found
        if spec is None:
            continue
        if spec.id in cat.definitions:
            issues.append(DefinitionIssue(str(f), None, spec.id, "id", f"id 重复 / duplicate id, also in {cat.origins[spec.id]}"))
            continue
        cat.definitions[spec.id] = spec
        cat.origins[spec.id] = str(f)
    if issues:
        raise DefinitionError(issues)
    _check_references(cat, unknown=False)   # a cycle is wrong whatever catalog these join
    return cat


def _load_target_set(path: Path) -> TargetSetSpec:
    try:
        data, lines = load_file(path)
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        raise DefinitionError([DefinitionIssue(str(path), line + 1 if line is not None else None, None, None,
                                               f"YAML 无法解析 / invalid YAML: {err}")]) from None
    if not isinstance(data, dict):
        raise DefinitionError([DefinitionIssue(str(path), 1, None, None, "目标集应为键值映射 / a target set must be a YAML mapping")])
    try:
        return TargetSetSpec.model_validate(data)
    except ValidationError as err:
        raise DefinitionError(_pydantic_issues(err, str(path), lines, data.get("id") if isinstance(data, dict) else None)) from None


def _check_target_set(spec: TargetSetSpec, file: str, cat: Catalog) -> None:
    issues = []
    for i, t in enumerate(spec.targets):
        if t.indicator not in cat.definitions:
            issues.append(DefinitionIssue(file, None, spec.id, f"targets.{i}.indicator",
                                          f"未知指标 / unknown indicator {t.indicator!r}." + did_you_mean(t.indicator, cat.definitions)))
        elif t.grain == "class_total" and cat[t.indicator].kind not in ("ratio", "proportion", "rate"):
            issues.append(DefinitionIssue(file, None, spec.id, f"targets.{i}.grain",
                                          "class_total 只适用于比值类指标（分子、分母可相加）/ class_total pools numerators and "
                                          f"denominators: it needs a ratio, proportion or rate, not kind {cat[t.indicator].kind!r}"))
        if t.when:
            issues += [DefinitionIssue(file, None, spec.id, f"targets.{i}.when", m)
                       for _, m in check_expression(t.when, (), set(FACILITY_ATTRIBUTES) | {"facility_id"} | set(UNIT_COLUMNS),
                                                    "a target condition (facility attributes, or a unit below the facility)")]
    if issues:
        raise DefinitionError(issues)


_BUILTIN: Catalog | None = None


def catalog_root():
    """The shipped catalog: the wheel's `qcindicators.indicator_defs`, else a checkout's top-level folder.

    The wheel maps the repository's `indicator_defs/` into the package; a source checkout on
    `sys.path` has no such subpackage (so it can never shadow the catalog away), and finds the folder
    beside the package instead.
    """
    try:
        return resources.files("qcindicators.indicator_defs")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "indicator_defs"


def builtin_catalog() -> Catalog:
    """The shipped catalog (indicator_defs/): see `catalog_root`."""
    global _BUILTIN
    if _BUILTIN is None:
        with resources.as_file(catalog_root()) as base:
            cat = load_definitions(base)
            for f in sorted((Path(base) / "targets").glob("*.yaml")):
                ts = _load_target_set(f)
                cat.target_sets[ts.id] = ts
        _check_references(cat)
        for ts in cat.target_sets.values():
            _check_target_set(ts, ts.id, cat)
        _BUILTIN = cat
    return _BUILTIN

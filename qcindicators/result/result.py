"""The result of a computation: the tidy frame, the diagnostics ledger and provenance."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from ..errors import QCIError
from ..display import CSS, html_table


@dataclass
class Result:
    """What `compute` returns. `to_frame()` is the tidy table of the interface contract."""

    frame: pd.DataFrame
    diagnostics: pd.DataFrame
    provenance: dict
    plan_text: str = ""
    not_computable: pd.DataFrame = field(default_factory=pd.DataFrame)
    specs: dict = field(default_factory=dict)            # indicator id → its definition
    by: list = field(default_factory=list)
    facility_names: pd.Series | None = None             # facility_id → facility_name, for labels
    # drug codes not counted, per code and reason (not in the dictionary, antibacterial without DDD)
    unmapped_drugs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    # -- selections the statistics and plots need -------------------------------------------
    def unit_rows(self, indicator: str) -> pd.DataFrame:
        """Rows of `indicator` for the units of `by` (region rows of a `check` result left out)."""
        f = self.frame[self.frame["indicator"] == indicator]
        if self.by:
            f = f[f[self.by].notna().all(axis=1)]
        return f.reset_index(drop=True)

    def series(self, indicator: str, unit=None) -> pd.DataFrame:
        """One unit's rows over time; `unit=None` is the region (or the only unit there is)."""
        f = self.frame[self.frame["indicator"] == indicator]
        if not self.by:
            return f.reset_index(drop=True)
        keys = f[self.by].astype(object)
        if unit is None:
            region = keys.isna().all(axis=1)
            if region.any():
                return f[region].reset_index(drop=True)
            units = keys.drop_duplicates()
            if len(units) == 1:
                return f.reset_index(drop=True)
            raise QCIError(f"请指定单位（{', '.join(self.by)}），共有 {len(units)} 个 / name the unit ({', '.join(self.by)}): "
                           f"the result has {len(units)}, e.g. {units.iloc[0].tolist()}")
        wanted = list(unit) if isinstance(unit, (tuple, list)) else [unit]
        mask = (keys.astype(str) == pd.Series([str(u) for u in wanted], index=self.by)).all(axis=1)
        if not mask.any():
            raise QCIError(f"结果中没有单位 {unit!r} / the result has no unit {unit!r} for {indicator!r}")
        return f[mask].reset_index(drop=True)

    def unit_label(self, values) -> pd.Series:
        """Facility names where known (else the id), for labels on plots and reports."""
        ids = pd.Series(values, dtype=object).astype(str)
        if self.facility_names is None or self.by != ["facility_id"]:
            return ids
        names = ids.map(self.facility_names)
        return names.where(names.notna() & (names != "nan") & (names != "<NA>"), ids)

    @property
    def plot(self):
        """`result.plot.funnel(indicator)` and `result.plot.trend(indicator, unit)`: matplotlib figures."""
        from ..plot import PlotAccessor
        return PlotAccessor(self)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        ids = self.frame["indicator"].nunique() if len(self.frame) else 0
        return (f"<qcindicators.Result: {len(self.frame)} rows, {ids} indicator(s), "
                f"{len(self.diagnostics)} diagnostic row(s)>")

    def _repr_html_(self) -> str:
        n_ind = self.frame["indicator"].nunique() if len(self.frame) else 0
        level = self.provenance.get("intervals", {}).get("level")
        head = (f"<p><b>qcindicators</b> · {len(self.frame)} 行 rows · {n_ind} 个指标 indicators · "
                f"{len(self.diagnostics)} 条诊断 diagnostics" + (f" · CI {level:.0%}" if level else "") + "</p>")
        parts = [f"<style>{CSS}</style>", head, html_table(self.frame, max_rows=60)]
        if len(self.diagnostics):
            parts += ["<p><b>诊断 / diagnostics</b></p>", html_table(self.diagnostics, max_rows=20)]
        if len(self.not_computable):
            parts += ["<p><b>无法计算 / not computable</b></p>", html_table(self.not_computable, max_rows=20)]
        return "".join(parts)

    def diagnostics_summary(self) -> str:
        """A short text summary of the ledger (what the CLI prints after a compute).

        A row that several measures could not use is one row: each (table, check, facility, period)
        counts once, at its largest, not once per measure."""
        d = self.diagnostics
        lines = ["诊断 / diagnostics (rows not used, or derived):" if len(d) else "诊断 / diagnostics: 无 / none"]
        if len(d):
            cells = (d.groupby(["table", "check", "facility_id", "period"], dropna=False, sort=False)
                     .agg(rows=("rows", "max"), message=("message_en", "first")).reset_index())
            agg = cells.groupby(["table", "check"], sort=False).agg(rows=("rows", "sum"), facilities=("facility_id", "nunique"),
                                                                     message=("message", "first"))
            for (table, check), r in agg.iterrows():
                where = f" in {int(r['facilities'])} facilities" if r["facilities"] else ""
                lines.append(f"  {table} [{check}]: {int(r['rows'])} rows{where} — {r['message']}")
        for rec in self.not_computable.itertuples(index=False):
            lines.append(f"  not computable: {rec.indicator} — {rec.reason}")
        codes = self.unmapped_drugs
        if len(codes):
            lines.append(f"  待修正药品编码 / drug codes to fix: {len(codes)} (result.unmapped_drugs, qci drugs unmapped), e.g. "
                         + "; ".join(f"{r.drug_code} {r.reason} {r.lines} lines" for r in codes.head(3).itertuples()))
        return "\n".join(lines)

    def to_sql(self, url_or_engine, table: str = "qci_results", run_id: str | None = None, schema: str | None = None,
               diagnostics_table: str | None = None) -> str:
        """Write the tidy rows to a database table under `run_id` (a new one when None) and return it.

        Rows carry run_id and computed_at; the provenance goes to the qci_runs table as JSON. Writing the
        same run_id again replaces that run in one transaction. Needs the `db` extra (SQLAlchemy).
        """
        from .sql import write_sql
        return write_sql(self, url_or_engine, table, run_id, schema, diagnostics_table)

    def write(self, path: str | Path) -> Path:
        """Write the tidy frame as .csv (UTF-8 with BOM, opens in Excel), .xlsx or .parquet."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            self.frame.to_csv(path, index=False, encoding="utf-8-sig")
        elif suffix == ".parquet":
            self.frame.to_parquet(path, index=False)
        elif suffix == ".xlsx":
            with pd.ExcelWriter(path) as xl:
                self.frame.to_excel(xl, sheet_name="result", index=False)
                self.diagnostics.to_excel(xl, sheet_name="diagnostics", index=False)
                if len(self.unmapped_drugs):
                    self.unmapped_drugs.to_excel(xl, sheet_name="unmapped_drugs", index=False)
                pd.DataFrame(flatten(self.provenance), columns=["key", "value"]).to_excel(xl, sheet_name="provenance", index=False)
        else:
            raise QCIError(f"不支持的输出格式 / unsupported output format {suffix!r}: use .csv, .xlsx or .parquet")
        return path


def flatten(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += flatten(v, key + ".")
        else:
            out.append((key, str(v)))
    return out

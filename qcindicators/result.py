"""The result of a computation: the tidy frame, the diagnostics ledger and provenance."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Result:
    """What `compute` returns. `to_frame()` is the tidy table of the interface contract."""

    frame: pd.DataFrame
    diagnostics: pd.DataFrame
    provenance: dict
    plan_text: str = ""
    not_computable: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        ids = self.frame["indicator"].nunique() if len(self.frame) else 0
        return (f"<qcindicators.Result: {len(self.frame)} rows, {ids} indicator(s), "
                f"{len(self.diagnostics)} diagnostic row(s)>")

    def _repr_html_(self) -> str:
        head = f"<p><b>{len(self.frame)}</b> rows · {self.frame['indicator'].nunique() if len(self.frame) else 0} indicators · " \
               f"{len(self.diagnostics)} diagnostics</p>"
        return head + self.frame.head(100).to_html(index=False, na_rep="")

    def diagnostics_summary(self) -> str:
        """A short text summary of the ledger (what the CLI prints after a compute)."""
        d = self.diagnostics
        if not len(d):
            return "诊断 / diagnostics: 无 / none"
        agg = d.groupby(["table", "check"], sort=False).agg(rows=("rows", "sum"), facilities=("facility_id", "nunique"))
        lines = ["诊断 / diagnostics (rows not used, or derived):"]
        for (table, check), r in agg.iterrows():
            msg = d[(d["table"] == table) & (d["check"] == check)]["message_en"].iloc[0]
            lines.append(f"  {table} [{check}]: {int(r['rows'])} rows in {int(r['facilities'])} facilities — {msg}")
        if len(self.not_computable):
            for rec in self.not_computable.itertuples(index=False):
                lines.append(f"  not computable: {rec.indicator} — {rec.reason}")
        return "\n".join(lines)

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
                pd.DataFrame(_flatten(self.provenance), columns=["key", "value"]).to_excel(xl, sheet_name="provenance", index=False)
        else:
            from .errors import QCIError
            raise QCIError(f"不支持的输出格式 / unsupported output format {suffix!r}: use .csv, .xlsx or .parquet")
        return path


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += _flatten(v, key + ".")
        else:
            out.append((key, str(v)))
    return out

"""Maintainer tool: rebuild qcindicators/data/ddd_antimicrobials.csv from a WHO ATC/DDD snapshot.

Usage: python tools/build_ddd_table.py PATH/TO/who_atc_ddd_antimicrobials_YYYY-MM-DD.csv
Keeps the ATC groups the package needs (J01, J02, J04, J05, P01AB, A07AA) with
their class headers, unchanged; the edition is taken from the file name.
"""
import re
import sys
from pathlib import Path

import pandas as pd

PREFIXES = ("J01", "J02", "J04", "J05", "P01AB", "A07AA")


def main(src: str) -> None:
    who = pd.read_csv(src, dtype=str, keep_default_na=False)
    keep = who[who["atc_code"].str.startswith(PREFIXES) | who["atc_code"].isin(["J", "P01", "P01A", "A07", "A07A"])]
    edition = re.search(r"(\d{4}-\d{2}-\d{2})", Path(src).name).group(1)
    names = dict(zip(who["atc_code"], who["atc_name"]))
    # the Chinese 抗菌药物 scope (J01, J02, P01AB; A07AA optional) and the pharmacological class (ATC 4th level)
    scope = keep["atc_code"].map(lambda c: "yes" if c.startswith(("J01", "J02", "P01AB")) and len(c) == 7 else
                                 ("optional" if c.startswith("A07AA") and len(c) == 7 else ("no" if len(c) == 7 else "")))
    klass = keep["atc_code"].map(lambda c: c[:5] if len(c) == 7 else "")
    out = keep.assign(cn_scope=scope, class_code=klass, class_name=klass.map(lambda k: names.get(k, "")), edition=edition)
    dest = Path(__file__).resolve().parents[1] / "qcindicators" / "data" / "ddd_antimicrobials.csv"
    out.to_csv(dest, index=False)
    print(f"{len(out)} rows ({(out['ddd'] != '').sum()} with a DDD) -> {dest}")


if __name__ == "__main__":
    main(sys.argv[1])

import os
from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def facilities(rows=None) -> pd.DataFrame:
    """Three facilities: a level-3 general hospital, a level-2 maternal-child hospital, a township centre."""
    return pd.DataFrame(rows or [
        {"facility_id": "F1", "level": 3, "facility_type": "general", "ownership": "public", "county": "A", "city": "X"},
        {"facility_id": "F2", "level": 2, "facility_type": "maternal_child", "ownership": "public", "county": "A", "city": "X"},
        {"facility_id": "F3", "level": 0, "facility_type": "primary", "ownership": "public", "county": "B", "city": "X"},
    ])


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    from qcindicators.synthetic import write_tables
    return write_tables(tmp_path_factory.mktemp("sample"))


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` (pyproject's addopts): the machine's cores, at most four — each worker starts its own session
    fixtures (a PostgreSQL cluster, the sample), so more would cost more than they save on this suite."""
    return max(1, min(os.cpu_count() or 1, 4))

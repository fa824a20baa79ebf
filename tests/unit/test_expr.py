"""The expression grammar: what it accepts, what it rejects, and that it never runs Python."""
import builtins

import pytest
from hypothesis import given, settings, strategies as st

from qcindicators.errors import ExpressionError
from qcindicators.spec.expr import Col, Lit, Op, columns, parse, to_text


@pytest.mark.parametrize("text,expected", [
    ('setting == "inpatient" and is_antibacterial', '((setting == "inpatient") and is_antibacterial)'),
    ("level >= 2", "(level >= 2)"),
    ('incision_class in ["I", "II"]', '(incision_class in ["I", "II"])'),
    ('not startswith(primary_dx, ["O", "P"])', '(not startswith(primary_dx, ["O", "P"]))'),
    ('primary_dx.startswith("O")', 'startswith(primary_dx, "O")'),
    ("between(age, 0, 28 / 365)", "between(age, 0, (28 / 365))"),
    ("coalesce(drug_cost, 0) * -1", "(coalesce(drug_cost, 0) * -1)"),
    ("1 < los_days <= 30", "((1 < los_days) and (los_days <= 30))"),
    ("isnull(record_grade) or year(discharge_date) == 2024", "(isnull(record_grade) or (year(discharge_date) == 2024))"),
])
def test_accepted(text, expected):
    assert to_text(parse(text)) == expected


@pytest.mark.parametrize("text", [
    '__import__("os")', "open('x')", "x.y", "x[0]", "lambda: 1", "a if b else c", "x ** 2", "x // 2", "[i for i in x]",
    "f'{x}'", "x in y", "startswith(x, y)", "isnull(x, y)", "eval('1')", "(", "x := 1", "x @ y", "{1: 2}", "...",
])
def test_rejected(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_columns_and_tree():
    node = parse("a > 1 and b in ['x']")
    assert columns(node) == {"a", "b"}
    assert node == Op("and", (Op("gt", (Col("a"), Lit(1))), Op("in", (Col("b"), Lit(("x",))))))


def test_depth_and_length_limits():
    with pytest.raises(ExpressionError, match="too deeply"):
        parse("not " * 60 + "x")
    with pytest.raises(ExpressionError, match="longer than"):
        parse("x + " * 1000 + "x")


ALPHABET = st.sampled_from(list("abcxyz_019 ()[]'\".,:+-*/<>=!") + ["and", "or", "not", "in", "__import__", "os",
                                                                       "system", "lambda", "startswith", "eval", "exec"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=25).map("".join))
def test_fuzz_never_executes_python(text):
    calls = []
    real = builtins.__import__

    def spy(name, *args, **kwargs):      # parsing must import nothing and call nothing
        calls.append(name)
        return real(name, *args, **kwargs)

    builtins.__import__ = spy
    try:
        try:
            node = parse(text)
        except ExpressionError:
            return
        finally:
            builtins.__import__ = real
        assert isinstance(node, (Col, Lit, Op))
        assert not calls
    finally:
        builtins.__import__ = real

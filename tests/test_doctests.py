"""Every public function's docstring has an example, and the example runs (doctest)."""
import doctest
import inspect

import pytest

import qcindicators
import qcindicators.docgen
import qcindicators.plot
import qcindicators.report
from qcindicators.report import format as report_format
from qcindicators.report import tables as report_tables
from qcindicators.plot import ranking


def _public_functions():
    spaces = [(qcindicators, qcindicators.__all__), (qcindicators.report, qcindicators.report.__all__),
              (qcindicators.plot, qcindicators.plot.__all__), (qcindicators.docgen, ["write_pages"]),
              (ranking, ["ranking_figure"]), (report_tables, ["display_frame"]),
              (report_format, [n for n in dir(report_format) if inspect.isfunction(getattr(report_format, n))
                               and not n.startswith("_")])]
    for module, names in spaces:
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


FUNCTIONS = dict(_public_functions())


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_public_function_has_a_running_example(name):
    obj = FUNCTIONS[name]
    tests = [t for t in doctest.DocTestFinder(recurse=False).find(obj, name, globs={}) if t.examples]
    assert tests, f"{name} has no example (>>>) in its docstring"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        t.globs.update(vars(inspect.getmodule(obj)))      # as --doctest-modules would: the module's names
        runner.run(t)
    assert runner.failures == 0, f"{name}: its example fails (run pytest --doctest-modules on its module)"

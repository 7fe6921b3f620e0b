"""Repository-wide pytest hooks.

With AC_REQUIRE_ALL=1 (set by the sessions whose dependencies are all installed, such as
the PyTorch parity session), a skip is an error: a comparison that did not run must not
pass as one that did.
"""

import os

import pytest

REQUIRE_ALL = os.environ.get("AC_REQUIRE_ALL") == "1"


def _fail_skips(report: pytest.CollectReport | pytest.TestReport) -> None:
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but AC_REQUIRE_ALL=1 forbids skips: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # module-level importorskip
    outcome = yield
    _fail_skips(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skips(outcome.get_result())

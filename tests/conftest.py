"""Shared pytest fixtures and the skip policy: temporary roots, the CLI runner.

Loaded by pytest for every test under tests/.  Unit tests (tests/unit) may
not start processes: the autouse guard there makes any attempt fail, so a
unit test cannot silently depend on the host's tools.

A skipped test is a test that did not run: any skip whose reason is not on
the allow-list of tests/support/skip_policy.py fails the whole run (exit status 1),
and every run ends by printing that list and the skips it allowed.
"""

import io

import pytest

# The skip policy's hooks (tests/support/skip_policy.py), registered for every test under tests/.
import skip_policy
from uec_clc_ha.host.system import System

pytest_runtest_logreport = skip_policy.pytest_runtest_logreport
pytest_sessionfinish = skip_policy.pytest_sessionfinish
pytest_terminal_summary = skip_policy.pytest_terminal_summary


@pytest.fixture
def root(tmp_path):
    """An empty target root."""
    path = tmp_path / "root"
    path.mkdir()
    return System(str(path))


class CliResult:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return f"CliResult(rc={self.rc}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def ctl():
    """Run uec-clc-ha-ctl through main(argv); returns CliResult."""
    from uec_clc_ha.cli import main

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        rc = main(list(argv), stdout=out, stderr=err)
        return CliResult(rc, out.getvalue(), err.getvalue())
    return run

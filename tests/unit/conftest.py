"""Unit tests run no external program: any attempt fails the test.

The refusal derives from BaseException, not Exception (as cloud-init's
guard does): code under test that catches every Exception (the postinst's
data steps, doctor's checks) must not swallow it and let a test pass on the
output of its error path.
"""

import subprocess

import pytest


class ProgramRefused(BaseException):
    """A unit test tried to start a program."""


@pytest.fixture(autouse=True)
def no_processes(monkeypatch):
    def refuse(*args, **kwargs):
        raise ProgramRefused(f"unit tests may not run programs: {args[0] if args else kwargs}")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)

"""The skip policy itself: a skip outside the allow-list fails a pytest run, an allowed one does not.

Runs pytest in a subprocess on throwaway test files with tests/support/skip_policy.py
as a plugin, exactly as tests/conftest.py registers it for `make test`.
"""

import os
import subprocess
import sys

import skip_policy

SUPPORT = os.path.dirname(os.path.abspath(skip_policy.__file__))


def run_pytest(tmp_path, body):
    (tmp_path / "test_sample.py").write_text("import pytest\nimport skip_policy\n\n" + body)
    env = dict(os.environ, PYTHONPATH=SUPPORT)
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "skip_policy", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)
    return done.returncode, done.stdout


def test_a_skip_for_a_missing_package_fails_the_run(tmp_path):
    rc, out = run_pytest(tmp_path, "def test_a():\n    pytest.skip('setfacl not installed')\n\n"
                                   "def test_b():\n    pass\n")
    assert rc == 1, out
    assert "refused skip: test_sample.py::test_a: setfacl not installed" in out
    assert "Skips allowed in this run" in out and "host-runs-systemd" in out


def test_an_allowed_skip_passes_and_is_printed(tmp_path):
    rc, out = run_pytest(tmp_path, "def test_a():\n    pytest.skip(skip_policy.reason('host-has-initctl'))\n")
    assert rc == 0, out
    assert "allowed skip: test_sample.py::test_a: [allowed: host-has-initctl]" in out


def test_a_skipif_mark_is_judged_the_same(tmp_path):
    rc, out = run_pytest(tmp_path, "@pytest.mark.skipif(True, reason='needs root')\ndef test_a():\n    pass\n")
    assert rc == 1 and "refused skip" in out, out


def test_an_unknown_key_is_not_allowed():
    assert skip_policy.allowed_key("[allowed: made-up] because") is None
    try:
        skip_policy.reason("made-up")
    except KeyError:
        pass
    else:
        raise AssertionError("reason() accepted a key that is not on the list")

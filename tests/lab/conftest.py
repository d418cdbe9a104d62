"""The lab tests' fixtures: the serving pair, brought up once per test session and reused.

Loaded by pytest for tests/lab/test_*.py.  The `pair` fixture runs the same
bring-up as `labctl up` (lablib.pair.up) unless a serving lab is there
already; a lab this session brought up is taken down again at the end of
the session, one that was there before is left as it was.
"""

import os
import sys

import pytest

from lablib import pair as lab_pair


@pytest.fixture(scope="session")
def pair():
    """The serving pair (lablib.observe.Lab: commands in the guests, the cluster's state, the client)."""
    from lablib.observe import Lab

    if os.geteuid() != 0:
        pytest.fail("the VM lab needs root (namespaces, taps, qemu)")
    already = lab_pair.same_lab() and lab_pair.serving()
    state = lab_pair.up(sys.stdout)
    yield Lab(state)
    if not already:
        lab_pair.down(sys.stdout)


def pytest_runtest_setup(item):
    """A scenario marked lab_two_node runs only on a pair brought up without the arbiter (it would otherwise
    prove something else than it says): `make lab-test` runs them in a pass of their own.  Checked before
    any fixture, so that no pair is brought up for it."""
    from lablib import config

    if item.get_closest_marker("lab_two_node") and config.WITH_ARBITER:
        pytest.fail("this scenario needs a pair without the arbiter: UEC_CLC_HA_LAB_ARBITER=0 (make lab-test's "
                    "second pass)")


@pytest.fixture(autouse=True)
def _writers_stopped():
    """A test that fails mid-scenario leaves no writer thread behind to run into the next tests."""
    yield
    from lablib.scenario import Writer

    Writer.stop_all()


# What a failed lab test leaves for whoever reads the CI log: each node's
# cluster view, fail counts and the scheduler's and controller's last words.
_DIAGNOSE = ("crm_mon -1 -rfA --output-as=text 2>&1 | head -60; "
             "echo '--- pacemaker, last 10 minutes'; "
             "journalctl --no-pager -o short-precise --since -10min -u pacemaker 2>&1 "
             "| grep -E 'pacemaker-(schedulerd|controld|fenced)' | grep -vE 'debug|trace' | tail -80")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or not {"pair", "recipe_pair"} & set(item.fixturenames):
        return
    from lablib import config, pair as lab_pair
    from lablib.observe import Lab

    lab = Lab()
    running = lab_pair.running_vms()
    text = []
    for node in config.NODES:
        if node not in running:
            text.append(f"=== {node}: not running")
            continue
        try:
            done = lab.sh(node, _DIAGNOSE, timeout=90, check=False)
            text.append(f"=== {node}\n{done.stdout}{done.stderr}")
        except Exception as e:               # a node that does not answer is itself the diagnosis
            text.append(f"=== {node}: no answer ({e})")
    body = "\n".join(text)
    os.makedirs(os.path.join(config.RUN, "diagnostics"), exist_ok=True)
    with open(os.path.join(config.RUN, "diagnostics", item.name.replace("/", "_") + ".txt"), "w") as fh:
        fh.write(body)
    report.sections.append(("lab diagnostics (both nodes)", body))

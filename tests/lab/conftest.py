"""The lab tests' fixtures: the serving pair, brought up once per test session and reused.

Loaded by pytest for tests/lab/test_*.py.  The `pair` fixture runs the same
bring-up as `labctl up` (lablib.pair.up) unless a serving lab is there
already; a lab this session brought up is taken down again at the end of
the session, one that was there before is left as it was.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lablib import pair as lab_pair  # noqa: E402


@pytest.fixture(scope="session")
def pair():
    """The serving pair (lablib.observe.Lab: commands in the guests, the cluster's state, the client)."""
    from lablib.observe import Lab

    if os.geteuid() != 0:
        pytest.fail("the VM lab needs root (namespaces, taps, qemu)")
    already = len(lab_pair.running_vms()) == 2 and lab_pair.serving()
    state = lab_pair.up(sys.stdout)
    yield Lab(state)
    if not already:
        lab_pair.down(sys.stdout)

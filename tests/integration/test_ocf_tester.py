"""ocf-tester (resource-agents) runs the agent through its own checks against the stand-in.

ocf-tester also runs the agent as nobody (its permissions check), so it is
given the world-readable copy of the agent (clc_standin.public_agent): the
checkout may be where only root can enter.
"""

import os
import shutil
import subprocess

import pytest

from clc_standin import Installation, make_cert, public_agent

pytestmark = pytest.mark.skipif(not shutil.which("ocf-tester", path="/usr/sbin:/usr/bin"),
                                reason="resource-agents not installed")


def test_ocf_tester_passes(tmp_path):
    inst = Installation(tmp_path / "euca", *make_cert(str(tmp_path)))
    argv = ["/usr/sbin/ocf-tester", "-n", "eucaclc"]
    for k, v in dict(inst.params, binary=inst.binary, pidfile=inst.pidfile, user="root").items():
        argv += ["-o", f"{k}={v}"]
    agent, pythonpath = public_agent()
    argv.append(agent)
    try:
        done = subprocess.run(argv, env=dict(inst.env(), PATH="/usr/sbin:/usr/bin:/sbin:/bin", PYTHONPATH=pythonpath),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                              cwd=os.path.dirname(pythonpath))
    finally:
        inst.kill_everything()
    assert done.returncode == 0, done.stdout
    assert "passed all tests" in done.stdout

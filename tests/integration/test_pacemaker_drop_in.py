"""pacemaker.service's drop-in (src/systemd/pacemaker.service.d/uec-clc-ha.conf) and the script it runs,
src/lib/cluster-priority: the fencer's and the executor's sessions get more of a busy CPU.

The drop-in's ExecStartPost is read from the file the package installs; the
script runs under /bin/sh with a fake pgrep (each daemon shows up after a
given number of looks) and an instant sleep first on PATH; renice and the
kernel's /proc/PID/autogroup are the real ones, on processes of this test's
own, each started in a session of its own (as pacemakerd starts its daemons)
so that no weight leaks into the test runner's session.  The lab once found
the first-installed node's fencer untouched: pacemakerd starts it only after
SBD's go, which on a busy node can take longer than the 30 s the command
used to wait.
"""

import os
import re
import subprocess
import sys

import pytest

from checkout import TOP

DROP_IN = os.path.join(TOP, "src/systemd/pacemaker.service.d/uec-clc-ha.conf")
SCRIPT = os.path.join(TOP, "src/lib/cluster-priority")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="lowering a process's nice needs root")


def test_the_drop_in_runs_the_installed_script_and_a_failure_never_fails_pacemakers_start():
    with open(DROP_IN) as f:
        lines = re.findall(r"^ExecStartPost=(.*)$", f.read(), re.M)
    assert lines == ["-/usr/lib/uec-clc-ha/cluster-priority"]
    with open(os.path.join(TOP, "debian/uec-clc-ha.install")) as f:
        assert "src/lib/cluster-priority usr/lib/uec-clc-ha/\n" in f.read()


def run(tmp_path, daemons, *args):
    """The script (with args) and daemons {comm: (pid, found at look n, or None: never)}; {comm: looks taken}."""
    fake = tmp_path / "bin"
    fake.mkdir()
    script = "#!/bin/sh\n"
    for name, (pid, at) in daemons.items():
        looks = tmp_path / f"looks-{name}"
        script += (f'if [ "$*" = "-x {name}" ]; then n=$(($(cat {looks} 2>/dev/null || echo 0) + 1)); '
                   f"echo $n > {looks}; " + (f"[ $n -ge {at} ] && echo {pid} && exit 0; " if at else "")
                   + "exit 1; fi\n")
    (fake / "pgrep").write_text(script + "exit 2\n")
    (fake / "sleep").write_text("#!/bin/sh\nexit 0\n")
    for f in ("pgrep", "sleep"):
        os.chmod(fake / f, 0o755)
    done = subprocess.run(["/bin/sh", SCRIPT, *args], env={"PATH": f"{fake}:/usr/bin:/bin"}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    looks = {}
    for name in daemons:
        path = tmp_path / f"looks-{name}"
        looks[name] = int(path.read_text()) if path.exists() else 0
    return done, looks


@pytest.fixture
def daemon():
    """Processes standing in for Pacemaker's daemons, each the leader of a session (an autogroup) of its own."""
    procs = []

    def start():
        procs.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                      start_new_session=True))
        return procs[-1].pid
    yield start
    for p in procs:
        p.kill()
        p.wait()


def nice_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def session_nice(pid):
    """The autogroup's nice (sched(7)); None on a kernel without autogroups."""
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            return int(f.read().split()[-1])
    except FileNotFoundError:
        return None


def test_a_fencer_that_shows_up_after_a_minute_and_the_executor_get_their_weights(tmp_path, daemon):
    fencer, executor = daemon(), daemon()
    assert nice_of(fencer) != -10 and session_nice(fencer) in (0, None)
    done, looks = run(tmp_path, {"pacemaker-fence": (fencer, 61), "pacemaker-execd": (executor, 1)})
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done
    assert looks == {"pacemaker-fence": 61, "pacemaker-execd": 1}
    assert nice_of(fencer) == -10 and nice_of(executor) == 0   # the executor's agents get nice 0 anyway
    if session_nice(fencer) is not None:
        assert session_nice(fencer) == -10 and session_nice(executor) == -5


def test_daemons_found_at_once_are_not_waited_for(tmp_path, daemon):
    fencer, executor = daemon(), daemon()
    done, looks = run(tmp_path, {"pacemaker-fence": (fencer, 1), "pacemaker-execd": (executor, 1)})
    assert done.returncode == 0 and looks == {"pacemaker-fence": 1, "pacemaker-execd": 1}
    assert nice_of(fencer) == -10


def test_the_start_stops_waiting_after_120_looks_and_still_weighs_the_executor(tmp_path, daemon):
    fencer, executor = daemon(), daemon()
    before = nice_of(fencer)
    done, looks = run(tmp_path, {"pacemaker-fence": (fencer, None), "pacemaker-execd": (executor, 1)})
    assert done.returncode == 0 and looks == {"pacemaker-fence": 120, "pacemaker-execd": 1}
    assert nice_of(fencer) == before
    if session_nice(executor) is not None:
        assert session_nice(fencer) == 0 and session_nice(executor) == -5


def test_the_postinsts_single_look_does_not_wait_for_a_pacemaker_still_starting(tmp_path, daemon):
    # `cluster-priority 1` on an upgrade: a fencer not there yet is left to the ExecStartPost of its start
    fencer, executor = daemon(), daemon()
    done, looks = run(tmp_path, {"pacemaker-fence": (fencer, None), "pacemaker-execd": (executor, 1)}, "1")
    assert done.returncode == 0 and looks == {"pacemaker-fence": 1, "pacemaker-execd": 1}

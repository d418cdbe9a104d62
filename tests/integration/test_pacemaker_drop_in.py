"""pacemaker.service's drop-in (src/systemd/pacemaker.service.d/uec-clc-ha.conf): its ExecStartPost renices the fencer.

The command line is taken from the file the package installs and run by
/bin/sh with a fake pgrep (the fencer shows up after a given number of
looks) and an instant sleep first on PATH; renice is the real one, on a
real process of this test's own.  The lab once found the first-installed
node's fencer at nice 0: pacemakerd starts it only after SBD's go, which
on a busy node can take longer than the 30 s the command used to wait.
"""

import os
import re
import shlex
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DROP_IN = os.path.join(TOP, "src/systemd/pacemaker.service.d/uec-clc-ha.conf")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="lowering a process's nice needs root")


def exec_start_post():
    with open(DROP_IN) as f:
        line = re.search(r"^ExecStartPost=-(.*)$", f.read(), re.M).group(1)
    return shlex.split(line)                     # systemd's quoting is the shell's for this line


def run(tmp_path, fencer_pid, shows_up_at):
    """The drop-in's command with the fencer found at look number shows_up_at (None: never); the looks taken."""
    fake = tmp_path / "bin"
    fake.mkdir()
    looks = tmp_path / "looks"
    (fake / "pgrep").write_text(
        "#!/bin/sh\n"
        f'[ "$*" = "-x pacemaker-fence" ] || exit 2\n'
        f"n=$(($(cat {looks} 2>/dev/null || echo 0) + 1)); echo $n > {looks}\n"
        + (f"[ $n -ge {shows_up_at} ] && echo {fencer_pid} && exit 0\n" if shows_up_at else "")
        + "exit 1\n")
    (fake / "sleep").write_text("#!/bin/sh\nexit 0\n")
    for f in ("pgrep", "sleep"):
        os.chmod(fake / f, 0o755)
    argv = exec_start_post()
    done = subprocess.run(argv, env={"PATH": f"{fake}:/usr/bin:/bin"}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    return done, int(looks.read_text())


@pytest.fixture
def fencer():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def nice_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def test_a_fencer_that_shows_up_after_a_minute_is_reniced(tmp_path, fencer):
    assert nice_of(fencer) != -10
    done, looks = run(tmp_path, fencer, 61)
    assert done.returncode == 0, done.stderr
    assert looks == 61 and nice_of(fencer) == -10


def test_a_fencer_found_at_once_is_reniced_without_waiting(tmp_path, fencer):
    done, looks = run(tmp_path, fencer, 1)
    assert done.returncode == 0 and looks == 1 and nice_of(fencer) == -10


def test_the_start_stops_waiting_after_120_looks(tmp_path, fencer):
    before = nice_of(fencer)
    done, looks = run(tmp_path, fencer, None)
    assert looks == 120 and nice_of(fencer) == before

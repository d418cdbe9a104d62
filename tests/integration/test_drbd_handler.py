"""src/lib/drbd-handler and its pacemaker-compat/cibadmin against the real cibadmin, on a CIB file.

drbd-utils' crm-fence-peer scripts read a peer's node_state from `cibadmin
-Q`: "true"/"online" up to Pacemaker 2.1.6, the time the node joined (or
"0") from 2.1.7, which the scripts of drbd-utils 9.22 do not understand
(they froze the lab's cloud for the whole fence-peer timeout on Debian 13).
The compat cibadmin must translate exactly those two attributes of a
query's node_state lines, pass every other call and byte through, and keep
cibadmin's exit status.  Runs on Debian 12's cibadmin here and on Debian
13's in test_debian13.py.

The fence-peer handler is held to corosync's quorum (a node without it must
not resume DRBD's I/O without its peer): Held runs a copy of the handler
against a scripted corosync-quorumtool, /proc/drbd and crm-fence-peer.sh.
"""

import os
import shutil
import subprocess
import time

import pytest

from checkout import TOP

COMPAT = os.path.join(TOP, "src", "lib", "pacemaker-compat", "cibadmin")
HANDLER = os.path.join(TOP, "src", "lib", "drbd-handler")
pytestmark = pytest.mark.skipif(not shutil.which("cibadmin", path="/usr/sbin:/usr/bin"),
                                reason="pacemaker-cli-utils not installed")

STATUS = """<status>
      <node_state id="1" uname="clc1" in_ccm="1796436450" crmd="1796436449" join="member" expected="member"/>
      <node_state id="2" uname="clc2" in_ccm="0" crmd="0" crm-debug-origin="send_stonith_update" join="down" expected="down"/>
    </status>"""


def cib_file(tmp_path, status):
    empty = subprocess.run(["cibadmin", "--empty"], stdout=subprocess.PIPE, text=True, check=True).stdout
    path = tmp_path / "cib.xml"
    path.write_text(empty.replace("<status/>", status))
    return path


@pytest.fixture
def cib(tmp_path):
    """A CIB whose node states are 2.1.7+'s (a query reads them; Pacemaker 2.1.5's schema would refuse an
    update of it: that schema wants booleans there)."""
    return cib_file(tmp_path, STATUS)


def cibadmin(argv, cib, tool=COMPAT):
    return subprocess.run([tool, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CIB_file": str(cib)}, timeout=60)


@pytest.mark.parametrize("query", [["-Q"], ["-Ql"], ["--query", "--local"], ["-l", "-Q", "-t", "1"]])
def test_a_query_shows_node_states_as_drbd_utils_reads_them(cib, query):
    done = cibadmin(query, cib)
    assert done.returncode == 0, done.stderr
    one = next(line for line in done.stdout.splitlines() if 'uname="clc1"' in line)
    two = next(line for line in done.stdout.splitlines() if 'uname="clc2"' in line)
    assert 'in_ccm="true"' in one and 'crmd="online"' in one and 'join="member"' in one
    assert 'in_ccm="false"' in two and 'crmd="offline"' in two and 'expected="down"' in two
    real = cibadmin(query, cib, tool="cibadmin")
    assert len(done.stdout.splitlines()) == len(real.stdout.splitlines())
    assert [a for a in done.stdout.splitlines() if "<node_state " not in a] == \
        [a for a in real.stdout.splitlines() if "<node_state " not in a]


def test_other_calls_and_failures_are_cibadmins_own(tmp_path):
    cib = cib_file(tmp_path, "<status/>")
    primitive = '<primitive id="res_drbd_uec-clc" class="ocf" provider="linbit" type="drbd"/>'
    assert cibadmin(["-C", "-o", "resources", "-X", primitive], cib).returncode == 0
    constraint = '<rsc_location rsc="res_drbd_uec-clc" id="drbd-fence-by-handler-uec-clc" node="clc2" score="-INFINITY"/>'
    assert cibadmin(["-C", "-o", "constraints", "-X", constraint], cib).returncode == 0
    assert "drbd-fence-by-handler-uec-clc" in cib.read_text()
    again = cibadmin(["-C", "-o", "constraints", "-X", constraint], cib)
    real = cibadmin(["-C", "-o", "constraints", "-X", constraint], cib, tool="cibadmin")
    assert again.returncode == real.returncode != 0
    missing = cibadmin(["-Q", "--xpath", "//nosuch"], cib)
    assert missing.returncode == cibadmin(["-Q", "--xpath", "//nosuch"], cib, tool="cibadmin").returncode != 0


def test_the_handler_runs_only_drbd_utils_scripts():
    done = subprocess.run([HANDLER, "../../bin/sh", "-c", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=30)
    assert done.returncode == 1 and "unknown handler" in done.stderr


class Held:
    """src/lib/drbd-handler copied with its drbd-utils directory, /proc/drbd and PATH pointed at a
    temporary tree: corosync-quorumtool answers from a file (quorate or not), /proc/drbd is a file, the
    crm-fence-peer.sh there records its run and answers what the test says, logger records what was said."""

    def __init__(self, tmp_path, corosync=True):
        self.dir = tmp_path
        bin_dir, scripts = tmp_path / "bin", tmp_path / "drbd"
        bin_dir.mkdir()
        scripts.mkdir()
        self.quorate, self.proc, self.said, self.ran = (tmp_path / n for n in ("quorate", "proc", "said", "ran"))
        self.answer = tmp_path / "answer"
        self.proc.write_text(" 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n")
        if corosync:
            self._tool(bin_dir / "corosync-quorumtool", f'[ "$1" = -s ] && [ -e {self.quorate} ] && exit 0\nexit 2\n')
        self._tool(bin_dir / "logger", f'shift 4; echo "$*" >> {self.said}\n')
        for name in ("crm-fence-peer.sh", "crm-unfence-peer.sh"):
            self._tool(scripts / name, f'echo "{name} $*" >> {self.ran}\nexit $(cat {self.answer} 2>/dev/null || echo 7)\n')
        text = open(HANDLER).read()
        for old, new in (("scripts=/usr/lib/drbd\n", f"scripts={scripts}\n"),
                         ("proc_drbd=/proc/drbd\n", f"proc_drbd={self.proc}\n"),
                         ("PATH=/usr/lib/uec-clc-ha/pacemaker-compat:/usr/sbin:/usr/bin:/sbin:/bin\n",
                          f"PATH={bin_dir}:/usr/bin:/bin\n")):
            assert old in text
            text = text.replace(old, new)
        self.handler = tmp_path / "drbd-handler"
        self._tool(self.handler, text.split("\n", 1)[1])

    @staticmethod
    def _tool(path, body):
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)

    def start(self, handler="crm-fence-peer.sh"):
        return subprocess.Popen([str(self.handler), handler, "--timeout", "90"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={"PATH": "/usr/bin:/bin", "DRBD_RESOURCE": "uec-clc", "DRBD_MINOR": "0"})

    def text(self, path):
        return path.read_text() if path.exists() else ""

    def wait_said(self, words, seconds=30):
        deadline = time.monotonic() + seconds
        while words not in self.text(self.said):
            assert time.monotonic() < deadline, f"the handler never said {words!r}: {self.text(self.said)!r}"
            time.sleep(0.2)


def test_with_quorum_the_fence_peer_script_answers_at_once(tmp_path):
    held = Held(tmp_path)
    held.quorate.touch()
    run = held.start()
    assert run.wait(timeout=30) == 7
    assert held.text(held.ran) == "crm-fence-peer.sh --timeout 90\n" and held.text(held.said) == ""


def test_without_quorum_io_stays_frozen_until_quorum_returns(tmp_path):
    held = Held(tmp_path)
    run = held.start()
    held.wait_said("no quorum: I/O stays frozen until quorum returns or the peer reconnects")
    time.sleep(3)
    assert run.poll() is None and held.text(held.ran) == "", "answered DRBD without quorum"
    held.quorate.touch()
    assert run.wait(timeout=30) == 7 and held.text(held.ran) == "crm-fence-peer.sh --timeout 90\n"


def test_without_quorum_the_peers_return_ends_the_wait_and_the_script_never_runs(tmp_path):
    held = Held(tmp_path)
    run = held.start()
    held.wait_said("no quorum")
    held.proc.write_text(" 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n")
    assert run.wait(timeout=30) == 4       # ignored by DRBD: the connection is back
    assert held.text(held.ran) == "" and "the peer is connected again" in held.text(held.said)


def test_peer_unreachable_is_answered_only_while_quorum_holds(tmp_path):
    # quorum when the script started, gone by the time it gave up on the peer (5 would resume I/O)
    held = Held(tmp_path)
    held.quorate.touch()
    held._tool(tmp_path / "drbd" / "crm-fence-peer.sh", f"rm {held.quorate}\necho ran >> {held.ran}\nexit 5\n")
    run = held.start()
    held.wait_said("quorum lost while the peer was unreachable")
    time.sleep(3)
    assert run.poll() is None, "answered 5 without quorum"
    held.quorate.touch()
    assert run.wait(timeout=30) == 5 and "quorum again" in held.text(held.said)


def test_unfencing_and_nodes_without_a_running_corosync_are_not_held(tmp_path):
    for name in ("corosync", "heartbeat"):
        (tmp_path / name).mkdir()
    held = Held(tmp_path / "corosync")
    assert held.start("crm-unfence-peer.sh").wait(timeout=30) == 7     # no quorum, not held
    assert held.text(held.ran) == "crm-unfence-peer.sh --timeout 90\n" and held.text(held.said) == ""
    heartbeat = Held(tmp_path / "heartbeat", corosync=False)
    assert heartbeat.start().wait(timeout=30) == 7 and heartbeat.text(heartbeat.said) == ""
    # corosync installed but not running (corosync-quorumtool: 1, cannot connect): the script decides
    held._tool(held.dir / "bin" / "corosync-quorumtool", "exit 1\n")
    (held.dir / "ran").unlink()
    assert held.start().wait(timeout=30) == 7 and held.text(held.ran) == "crm-fence-peer.sh --timeout 90\n"

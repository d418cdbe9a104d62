"""src/lib/drbd-handler and its pacemaker-compat/cibadmin against the real cibadmin, on a CIB file.

drbd-utils' crm-fence-peer scripts read a peer's node_state from `cibadmin
-Q`: "true"/"online" up to Pacemaker 2.1.6, the time the node joined (or
"0") from 2.1.7, which the scripts of drbd-utils 9.22 do not understand
(they froze the lab's cloud for the whole fence-peer timeout on Debian 13).
The compat cibadmin must translate exactly those two attributes of a
query's node_state lines, pass every other call and byte through, and keep
cibadmin's exit status.  Runs on Debian 12's cibadmin here and on Debian
13's in test_debian13.py.
"""

import os
import shutil
import subprocess

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

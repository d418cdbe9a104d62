"""A node that starts alone while its arbiter answers waits for its peer: real corosync, corosync-qdevice, corosync-qnetd.

The package's corosync.conf for a pair with an arbiter (the corosync-arbiter
golden file: what `apply` writes on clc1) runs in a private network and mount
namespace the test makes: a veth whose end holds clc1's two ring addresses
and the arbiter's, no route out, and tmpfs over /etc/corosync, /run,
/var/lib/corosync and /var/log/corosync, so this host's own are never
touched.  Two things differ from a real node: TLS is off (the test enrols
no certificates; TLS plays no part in the vote) and the heuristics command
is /bin/true (the node reaches its ping hosts).  clc2 never starts.

corosync-qnetd gives the lone node's partition the arbiter's vote.  With the
package's file (expected_votes 3) the node counts 2 votes of 3 and stays in
wait_for_all, not quorate: it would start and fence nothing.  The same file
without expected_votes (what 0.7.3 wrote) is the control: votequorum then
expects only the nodelist's 2 votes, and the node is quorate alone, which
on the lab made the first node ask to fence its never-seen peer.
"""

import re
import subprocess
import textwrap

from golden import golden_bytes

CONF = "/etc/corosync/corosync.conf"
SCRIPT = textwrap.dedent("""\
    set -e
    ip link set lo up
    ip link add cq0 type veth peer name cq1
    for a in {addresses}; do ip addr add "$a/24" dev cq0; done
    ip link set cq0 up; ip link set cq1 up
    for d in /etc/corosync /run /var/lib/corosync /var/log/corosync; do mount -t tmpfs uec-clc-ha-test "$d"; done
    mkdir -p /run/corosync /run/corosync-qdevice /run/corosync-qnetd /etc/corosync/qnetd /etc/corosync/qdevice/net
    cat > {conf}
    head -c 256 /dev/urandom > /etc/corosync/authkey; chmod 600 /etc/corosync/authkey
    corosync-qnetd -f -s off -l {arbiter} >/dev/null 2>&1 & qnetd=$!
    corosync -f >/dev/null 2>&1 & cs=$!
    trap 'kill $qdevice $cs $qnetd 2>/dev/null; wait' EXIT
    for i in $(seq 60); do corosync-quorumtool -s >/dev/null 2>&1 && break; sleep 0.5; done
    corosync-qdevice -f >/dev/null 2>&1 & qdevice=$!
    # until the arbiter's vote counts (Total votes 2), then a little longer for votequorum to decide
    for i in $(seq 60); do
        corosync-quorumtool -s 2>/dev/null | grep -Eq '^Total votes: +2' && break; sleep 0.5
    done
    sleep 3
    corosync-quorumtool -s || true
    """)


def _lone_node(text):
    """corosync-quorumtool -s of clc1 started alone with ``text`` as corosync.conf, its arbiter answering."""
    text = re.sub(r"tls: required", "tls: off", text).replace("to_syslog: yes", "to_syslog: no")
    text = re.sub(r"(exec_\w+:) .*", r"\1 /bin/true", text)
    addresses = [re.search(rf"ring{n}_addr: (\S+)", text).group(1) for n in (0, 1)]
    arbiter = re.search(r"^\s*host: (\S+)", text, re.M).group(1)
    script = SCRIPT.format(addresses=" ".join(addresses + [arbiter]), conf=CONF, arbiter=arbiter)
    done = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script],
                          input=text, capture_output=True, text=True, timeout=180)
    return done.stdout + done.stderr


def _field(out, name):
    m = re.search(rf"^{name}:\s+(.*?)\s*$", out, re.M)
    return m.group(1) if m else None


def test_the_packages_file_keeps_a_lone_node_waiting_although_the_arbiter_votes_for_it():
    out = _lone_node(golden_bytes("corosync-arbiter", CONF).decode())
    assert _field(out, "Total votes") == "2", out                    # the node's own and the arbiter's
    assert _field(out, "Expected votes") == "3", out
    assert _field(out, "Quorate") == "No" and "WaitForAll" in _field(out, "Flags"), out


def test_without_expected_votes_the_same_node_is_quorate_alone():
    text = golden_bytes("corosync-arbiter", CONF).decode()
    assert "expected_votes: 3" in text
    out = _lone_node(text.replace("expected_votes: 3", ""))
    assert _field(out, "Total votes") == "2" and _field(out, "Expected votes") == "2", out
    assert _field(out, "Quorate") == "Yes", out

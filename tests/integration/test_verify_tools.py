"""uec_clc_ha.config.verify against the real checkers: what each accepts and what it rejects.

Runs drbdadm, corosync -t, crmsh + crm_verify and heartbeat on sample files
(addresses from RFC 5737).  Each checker's tests are skipped only where its
tool is missing, or, for the checkers that run in private namespaces, where
the tests do not run as root.
"""

import os
import re
import shutil
import subprocess

import pytest

import golden
from uec_clc_ha.config import verify
from uec_clc_ha.host.system import SYSTEM_PATH, System

NODES = ["clc1", "clc2"]
IS_ROOT = os.geteuid() == 0


def installed(*tools):
    return all(shutil.which(t, path=SYSTEM_PATH) for t in tools)


needs_drbd = pytest.mark.skipif(not installed("drbdadm"), reason="drbd-utils not installed")
needs_corosync = pytest.mark.skipif(not (installed("corosync", "unshare") and IS_ROOT),
                                    reason="corosync not installed, or not root")
needs_crm = pytest.mark.skipif(not (installed("crm", "cibadmin", "crm_verify", "unshare") and IS_ROOT),
                               reason="crmsh/pacemaker not installed, or not root")
needs_heartbeat = pytest.mark.skipif(
    not (any(os.access(b, os.X_OK) for b in verify.HEARTBEAT_BINARIES) and installed("ip", "unshare") and IS_ROOT),
    reason="heartbeat not installed, or not root")


@pytest.fixture
def system():
    return System("/")


def rules(problems):
    return " | ".join(p.rule for p in problems)


# -- DRBD -----------------------------------------------------------------
SECRET = "abc123-drbd-secret"

DRBD_84 = f"""\
resource uec-clc {{
    net {{
        protocol C;
        cram-hmac-alg sha256;
        shared-secret "{SECRET}";
        after-sb-0pri discard-zero-changes;
        after-sb-1pri discard-secondary;
        after-sb-2pri disconnect;
    }}
    disk {{
        fencing resource-only;
        resync-rate 10M;
    }}
    handlers {{
        fence-peer "/usr/lib/drbd/crm-fence-peer.sh";
        after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";
    }}
    on clc1 {{
        device /dev/drbd0 minor 0;
        disk /dev/vdb1;
        address 203.0.113.1:7788;
        meta-disk internal;
    }}
    on clc2 {{
        device /dev/drbd0 minor 0;
        disk /dev/vdb1;
        address 203.0.113.2:7788;
        meta-disk internal;
    }}
}}
"""

DRBD_9 = f"""\
resource uec-clc {{
    net {{
        protocol C;
        cram-hmac-alg sha256;
        shared-secret "{SECRET}";
        fencing resource-only;
        after-sb-0pri discard-zero-changes;
        after-sb-1pri discard-secondary;
        after-sb-2pri disconnect;
    }}
    disk {{
        resync-rate 10M;
    }}
    handlers {{
        fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";
        unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";
    }}
    on clc1 {{
        node-id 0;
        device /dev/drbd0 minor 0;
        disk /dev/vdb1;
        address 203.0.113.1:7788;
        meta-disk internal;
    }}
    on clc2 {{
        node-id 1;
        device /dev/drbd0 minor 0;
        disk /dev/vdb1;
        address 203.0.113.2:7788;
        meta-disk internal;
    }}
}}
"""


@needs_drbd
@pytest.mark.parametrize("version, text", [("8.4", DRBD_84), ("9", DRBD_9)])
def test_drbd_accepts_each_versions_syntax(system, version, text):
    # The backing disk /dev/vdb1 need not exist: drbdadm dump only parses.
    assert verify.verify_drbd(system, text, "uec-clc", NODES, version) == []


@needs_drbd
@pytest.mark.parametrize("scenario, version", [("corosync-drbd84", "8.4"), ("corosync-drbd9-ipmi", "9")])
def test_the_packages_drbd_file_resyncs_at_the_settings_rate_and_never_slows_down(system, scenario, version,
                                                                                  tmp_path):
    # DRBD's defaults held the lab's initial sync and an online verify at ~260 KiB/s (c-min-rate 250k, with
    # nothing writing to the device): drbdadm itself must read a fixed rate and no slow-down from the file
    text = golden.rendered(scenario)["/etc/drbd.d/uec-clc.res"].content.decode()
    assert verify.verify_drbd(system, text, "uec-clc", NODES, version) == []
    res = tmp_path / "uec-clc.res"
    res.write_text(text)
    conf = tmp_path / "drbd.conf"
    conf.write_text(f'include "{res}";\n')
    dump = subprocess.run(["drbdadm", "-c", str(conf), "dump", "uec-clc"], check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, __DRBD_NODE__="clc1",
                                   DRBD_DRIVER_VERSION_OVERRIDE=verify.DRBD_DRIVER_OVERRIDE[version])).stdout
    options = dict(re.findall(r"^\s*(resync-rate|c-plan-ahead|c-min-rate)\s+(\S+?);", dump, re.M))
    assert options == {"resync-rate": "40M", "c-plan-ahead": "0", "c-min-rate": "0"}, dump


@needs_drbd
def test_drbd_parses_with_the_chosen_versions_parser(system):
    problems = verify.verify_drbd(system, DRBD_84, "uec-clc", NODES, "9")
    assert problems and problems[0].field == "/etc/drbd.d/uec-clc.res"
    assert "but got 'fencing'" in rules(problems)
    assert verify.verify_drbd(system, DRBD_9, "uec-clc", NODES, "8.4")


@needs_drbd
@pytest.mark.parametrize("old, new, expected", [
    ("resync-rate 10M;", "resync-rate 10M; bogus-keyword 1;", "bogus-keyword"),
    ("203.0.113.2:7788", "203.0.113.2:70000", "out of range"),
    ("203.0.113.2:7788", "203.0.113.1:7788", "203.0.113.1:7788"),
    ("protocol C;", "protocol Z;", "unknown protocol"),
    ("        disk /dev/vdb1;\n", "", "'disk' keyword missing"),
])
def test_drbd_rejects_broken_files(system, old, new, expected):
    problems = verify.verify_drbd(system, DRBD_84.replace(old, new), "uec-clc", NODES, "8.4")
    assert expected in rules(problems)
    assert all(p.field == "/etc/drbd.d/uec-clc.res" for p in problems)
    assert "(as clc1 and clc2)" in rules(problems)


@needs_drbd
def test_drbd_rejects_a_node_the_file_does_not_name(system):
    problems = verify.verify_drbd(system, DRBD_84, "uec-clc", ["clc1", "clc3"], "8.4")
    assert rules(problems) == "drbdadm (as clc3): 'uec-clc' not defined in your config (for this host)."


@needs_drbd
def test_drbd_problems_never_quote_the_secret(system):
    broken = DRBD_84.replace(f'"{SECRET}";', f'"{SECRET}" {SECRET};')
    problems = verify.verify_drbd(system, broken, "uec-clc", NODES, "8.4")
    assert problems
    assert SECRET not in rules(problems)


# -- Corosync -------------------------------------------------------------
COROSYNC = """\
totem {
    version: 2
    cluster_name: uec-clc
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    token: 1000
    interface {
        linknumber: 0
    }
    interface {
        linknumber: 1
    }
}
nodelist {
    node {
        name: clc1
        nodeid: 1
        ring0_addr: 198.51.100.11
        ring1_addr: 203.0.113.1
    }
    node {
        name: clc2
        nodeid: 2
        ring0_addr: 198.51.100.12
        ring1_addr: 203.0.113.2
    }
}
quorum {
    provider: corosync_votequorum
    two_node: 1
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/uec-clc-ha-verify-test.log
    to_syslog: yes
}
"""
AUTHKEY = bytes(range(256))


@needs_corosync
def test_corosync_accepts_a_good_configuration_and_writes_no_log(system):
    assert verify.verify_corosync(system, COROSYNC, AUTHKEY, NODES) == []
    assert not os.path.exists("/var/log/corosync/uec-clc-ha-verify-test.log")


@needs_corosync
def test_corosync_rejects_an_unknown_cipher(system):
    problems = verify.verify_corosync(system, COROSYNC.replace("aes256", "aes999"), AUTHKEY, NODES)
    assert [p.field for p in problems] == ["/etc/corosync/corosync.conf"]
    assert "Invalid cipher type" in problems[0].rule
    assert "/etc/corosync/corosync.conf:5" in problems[0].rule


@needs_corosync
def test_corosync_rejects_a_duplicate_nodeid(system):
    problems = verify.verify_corosync(system, COROSYNC.replace("nodeid: 2", "nodeid: 1"), AUTHKEY, NODES)
    assert "Nodeid 1 appears twice" in rules(problems)


@needs_corosync
def test_corosync_rejects_two_node_yes(system):
    problems = verify.verify_corosync(system, COROSYNC.replace("two_node: 1", "two_node: yes"), AUTHKEY, NODES)
    assert "quorum.two_node" in rules(problems)


@needs_corosync
def test_corosync_rejects_a_short_key(system):
    problems = verify.verify_corosync(system, COROSYNC, AUTHKEY[:100], NODES)
    assert [p.field for p in problems] == ["/etc/corosync/authkey"]
    assert "minimum 1024 bits" in problems[0].rule


@needs_corosync
def test_corosync_rejects_a_node_missing_from_the_nodelist(system):
    problems = verify.verify_corosync(system, COROSYNC, AUTHKEY, ["clc1", "clc3"])
    assert rules(problems) == "corosync -t (as clc3): parse error in config: No valid name found for local host"


# -- Pacemaker (crm shell) ------------------------------------------------
STUB_AGENT = """\
#!/bin/sh
# Stub of ocf:ubuntu:eucaclc: valid meta-data, no required parameter.
case "$1" in
meta-data)
    cat <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="eucaclc" version="0.1">
<version>1.0</version>
<longdesc lang="en">Stub of the Eucalyptus Cloud Controller agent.</longdesc>
<shortdesc lang="en">Stub eucaclc</shortdesc>
<parameters>
<parameter name="start_method" unique="0" required="0">
<longdesc lang="en">How to start the cloud controller.</longdesc>
<shortdesc lang="en">Start method</shortdesc>
<content type="string" default="auto"/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="300s"/>
<action name="stop" timeout="300s"/>
<action name="monitor" timeout="30s" interval="30s"/>
<action name="meta-data" timeout="5s"/>
<action name="validate-all" timeout="30s"/>
</actions>
</resource-agent>
EOF
    exit 0;;
*) exit 3;;
esac
"""

STUB_INIT = """\
#!/bin/sh
### BEGIN INIT INFO
# Provides:          image-store-proxy
# Required-Start:    $remote_fs
# Required-Stop:     $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Stub of Eucalyptus' image store proxy
### END INIT INFO
exit 0
"""

CRM = """\
primitive res_drbd ocf:linbit:drbd \\
    params drbd_resource=uec-clc \\
    op monitor interval=29s role=Promoted timeout=20s \\
    op monitor interval=31s role=Unpromoted timeout=20s
clone ms_drbd res_drbd \\
    meta promotable=true promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true
primitive res_fs ocf:heartbeat:Filesystem \\
    params device=/dev/drbd0 directory=/mnt/uecdata fstype=ext4 options=noatime \\
    op monitor interval=20s timeout=40s
primitive res_ip ocf:heartbeat:IPaddr2 \\
    params ip=198.51.100.100 cidr_netmask=24 nic=eth0 \\
    op monitor interval=10s timeout=20s
primitive res_uec ocf:ubuntu:eucaclc \\
    params start_method=auto \\
    op monitor interval=30s timeout=30s
group rg_uec res_fs res_ip res_uec
location l_uec_connected rg_uec \\
    rule -inf: not_defined pingd or pingd lte 0
order o_drbd_before_uec Mandatory: ms_drbd:promote rg_uec:start
colocation c_uec_on_drbd inf: rg_uec ms_drbd:Promoted
rsc_defaults rsc-options: \\
    resource-stickiness=100
property cib-bootstrap-options: \\
    stonith-enabled=false \\
    no-quorum-policy=stop
"""


def _script(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def agents(tmp_path):
    return {"ocf:ubuntu:eucaclc": _script(tmp_path / "eucaclc", STUB_AGENT)}


@needs_crm
def test_crm_accepts_a_good_configuration_without_installing_the_agent(system, agents):
    host_agent = os.path.join(verify.OCF_RESOURCE_D, "ubuntu", "eucaclc")
    was_there = os.path.exists(host_agent)
    assert verify.verify_crm(system, CRM, agents) == []
    assert os.path.exists(host_agent) == was_there


@needs_crm
def test_crm_warnings_are_not_problems(system, agents):
    # A location naming a node the CIB does not list is only a crmsh WARNING.
    assert verify.verify_crm(system, CRM + "location l_pref rg_uec 100: clc1\n", agents) == []


@needs_crm
def test_crm_sees_an_lsb_stand_in(system, agents, tmp_path):
    with_proxy = CRM + "primitive res_isp lsb:image-store-proxy op monitor interval=30s timeout=30s\n"
    if not os.path.exists("/etc/init.d/image-store-proxy"):
        assert "image-store-proxy" in rules(verify.verify_crm(system, with_proxy, agents))
    agents["lsb:image-store-proxy"] = _script(tmp_path / "image-store-proxy", STUB_INIT)
    assert verify.verify_crm(system, with_proxy, agents) == []


@needs_crm
def test_crm_rejects_a_dangling_reference(system, agents):
    broken = CRM.replace("inf: rg_uec ms_drbd:Promoted", "inf: rg_nothere ms_drbd:Promoted")
    problems = verify.verify_crm(system, broken, agents)
    assert [p.field for p in problems] == ["/etc/uec-clc-ha/cluster.crm"]
    assert "references a resource rg_nothere which doesn't exist" in problems[0].rule


@needs_crm
def test_crm_rejects_an_unknown_agent(system, agents):
    problems = verify.verify_crm(system, CRM.replace("ocf:ubuntu:eucaclc", "ocf:ubuntu:no-such-agent"), agents)
    assert "ocf:ubuntu:no-such-agent: no such resource agent" in rules(problems)


@needs_crm
def test_crm_rejects_stonith_without_a_fencing_device(system, agents):
    problems = verify.verify_crm(system, CRM.replace("stonith-enabled=false", "stonith-enabled=true"), agents)
    assert "no STONITH resources have been defined" in rules(problems)


@needs_crm
def test_crm_rejects_an_unknown_parameter_without_quoting_passwords(system, agents):
    broken = CRM.replace("params start_method=auto", "params start_method=auto password=hunter2-secret")
    problems = verify.verify_crm(system, broken, agents)
    assert 'parameter "password" is not known' in rules(problems)
    assert "hunter2-secret" not in rules(problems)


@needs_crm
def test_crm_rejects_a_syntax_error(system, agents):
    problems = verify.verify_crm(system, CRM.replace("ms_drbd:promote", "ms_drbd:bogus"), agents)
    assert "Invalid action 'bogus'" in rules(problems)


# -- Heartbeat (legacy) ---------------------------------------------------
HA_CF = """\
logfacility daemon
autojoin none
mcast eth0 239.0.0.43 694 1 0
ucast eth1 203.0.113.1
ucast eth1 203.0.113.2
warntime 5
deadtime 15
initdead 60
keepalive 2
node clc1
node clc2
crm respawn
"""
HB_KEY = "0123456789abcdef0123456789abcdef01234567"
AUTHKEYS = f"auth 1\n1 sha1 {HB_KEY}\n"


def heartbeat_processes():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "heartbeat":
                    found.append(pid)
        except OSError:
            pass
    return found


@pytest.fixture
def no_heartbeat_left():
    before = heartbeat_processes()
    yield
    assert heartbeat_processes() == before


@needs_heartbeat
def test_heartbeat_accepts_the_recipes_configuration(system, no_heartbeat_left):
    assert verify.verify_heartbeat(system, HA_CF, AUTHKEYS, NODES) == []


@needs_heartbeat
def test_heartbeat_rejects_an_unknown_auth_method(system, no_heartbeat_left):
    problems = verify.verify_heartbeat(system, HA_CF, f"auth 1\n1 sha512 {HB_KEY}\n", NODES)
    assert {p.field for p in problems} == {"/etc/ha.d/authkeys"}
    assert "Invalid authtype [sha512]" in rules(problems)
    assert HB_KEY not in rules(problems)


@needs_heartbeat
def test_heartbeat_rejects_a_missing_key(system, no_heartbeat_left):
    problems = verify.verify_heartbeat(system, HA_CF, f"auth 2\n1 sha1 {HB_KEY}\n", NODES)
    assert "Auth Key [2] not found" in rules(problems)


@needs_heartbeat
def test_heartbeat_rejects_deadtime_below_keepalive(system, no_heartbeat_left):
    problems = verify.verify_heartbeat(system, HA_CF.replace("deadtime 15", "deadtime 1"), AUTHKEYS, NODES)
    assert [p.field for p in problems] == ["/etc/ha.d/ha.cf"]
    assert "Dead time [1000] is too small" in problems[0].rule


@needs_heartbeat
def test_heartbeat_rejects_a_local_node_missing_from_node_lines(system, no_heartbeat_left):
    problems = verify.verify_heartbeat(system, HA_CF, AUTHKEYS, ["clc1", "clc3"])
    assert rules(problems) == "heartbeat (as clc3): Current node [clc3] not in configuration!"


@needs_heartbeat
def test_heartbeat_rejects_an_unknown_directive(system, no_heartbeat_left):
    problems = verify.verify_heartbeat(system, HA_CF + "bogus_directive 1\n", AUTHKEYS, NODES)
    assert "Illegal directive [bogus_directive]" in rules(problems)

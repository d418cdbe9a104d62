"""doctor's checks against a temporary node tree and scripted tools (the crm_mon XML is one recorded on the lab).

A healthy node of the lab's shape must be all ok; each thing an admin can
get wrong must be named with its fix and the right exit code; the settings
digest must be the same on both nodes of a consistent pair (each sees itself
as Local) and differ when anything shared or the secret differs.
"""

import io
import json
import os

import pytest

from cib_model import Cib
from checkout import TOP
from fake_clock import Clock
from scenarios import QDEVICE_SV, full_raw, write_settings
from uec_clc_ha.cluster import cluster_init, corosync_cmap, live_apply, node_facts
from uec_clc_ha.config import keyring, pipeline, settings, settings_file
from uec_clc_ha.errors import CommandFailure, Waiting
from uec_clc_ha.cli import doctor as doctor_cmd
from uec_clc_ha.cluster import quorum_device
from uec_clc_ha.host.system import Completed, System
from uec_clc_ha.host import applied, paths

NORMAL = os.path.join(TOP, "tests", "fixtures", "status", "bookworm", "normal", "clc1.json")
PEER_SWAP = {"Local-Node": "Peer-Node", "Local-Address": "Peer-Address",
             "Replication-Local-Address": "Replication-Peer-Address"}


def peer_raw(raw):
    other = dict(raw)
    for a, b in PEER_SWAP.items():
        other[a], other[b] = raw[b], raw[a]
    return other


# clc2's own settings: the scenario's with the node names and addresses swapped
AS_CLC2 = {k: v for k, v in peer_raw(full_raw("corosync-drbd84")).items() if k in (*PEER_SWAP, *PEER_SWAP.values())}


def digest(raw):
    return node_facts.settings_digest(raw, keyring.derive(raw["Cluster-Secret"], raw["Cluster-Name"]))


def test_digest_is_the_same_on_both_nodes_and_changes_with_what_they_share():
    raw = dict(full_raw("corosync-drbd84"))
    assert digest(raw) == digest(peer_raw(raw))
    assert digest(raw) == digest(dict(raw, **{"DRBD-Disk": "/dev/sdb1", "VIP-Interface": "bond0"}))
    for key, value in (("VIP", "198.51.100.101"), ("Fencing-Delay", "7"), ("Cluster-Secret", "another-secret-x"),
                       ("Peer-Address", "198.51.100.13")):
        assert digest(raw) != digest(dict(raw, **{key: value})), key
    assert raw["Cluster-Secret"] not in json.dumps(digest(raw))


class Node(System):
    """One node: files under a temporary root, tools answering from a table.  The node attributes are its Cib's
    (tests/support/cib_model): peer_digest, peer_disk and peer_release stand for what the peer published there,
    ``published`` is what this node did; a test gives two nodes one Cib for the pair's one CIB."""

    def __init__(self, root, local="clc1", cib=None, cluster=True, peer_digest=None, peer_disk="134217728",
                 policy="stop", ntp="yes", enabled="disabled", ping=0, fencer_nice=-10, sessions=(-10, -5),
                 peer_release="debian=12 pacemaker=2.1.5", pacemaker="2.1.5", bmc=(0, "Status: ON\n", ""), arbiter=None,
                 qdevice=None):
        super().__init__(root)
        self.cib = cib if cib is not None else Cib()
        self.local, self.peer = local, {"clc1": "clc2", "clc2": "clc1"}[local]
        self.arbiter, self.qdevice = arbiter, qdevice     # corosync's device ("host:port"), qdevice-tool -sv
        self.cmap_changed = {}                            # {key: value} corosync holds unlike corosync.conf
        self.reach = 0                                    # reach-any's exit status (the heuristics run now)
        self.bmc, self.bmc_asked = bmc, []
        self.peer_release, self.pacemaker = peer_release, pacemaker
        self.fencer_nice = fencer_nice
        self.sessions = sessions      # the nice of the fencer's and the executor's autogroups; None: no autogroups
        self.write_atomic("/proc/sys/kernel/sched_autogroup_enabled", b"0\n" if sessions is None else b"1\n")
        with open(NORMAL) as fh:
            self.crm_xml = json.load(fh)["sources"]["crm_mon"]["stdout"]
        self.cluster, self.peer_digest, self.peer_disk = cluster, peer_digest, peer_disk
        self.policy, self.ntp, self.enabled, self.ping = policy, ntp, enabled, ping
        self.disk_bytes = "134217728"
        self.attrd = {}                                   # transient attributes this node set (attrd_updater -U)

    def _peer_attr(name):
        def get(self):
            return self.cib.node_attrs.get(self.peer, {}).get(name)

        def put(self, value):
            attrs = self.cib.node_attrs.setdefault(self.peer, {})
            if value is None:
                attrs.pop(name, None)
            else:
                attrs[name] = value
        return property(get, put)

    peer_digest = _peer_attr(node_facts.DIGEST_ATTR)
    peer_disk = _peer_attr(node_facts.DISK_ATTR)
    peer_release = _peer_attr(node_facts.RELEASE_ATTR)
    del _peer_attr

    @property
    def published(self):
        return dict(self.cib.node_attrs.get(self.local, {}))

    def which(self, tool):
        # no sbd here whatever this host has (live_apply's own tests play sbd's states)
        return None if tool == "sbd" else super().which(tool)

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        rc, out = 0, ""
        cib = self.cib.answer(self, argv) if self.cluster else None
        if cib is not None:
            rc, out = cib
        elif argv[0] == "corosync-cfgtool":
            rc = 0 if self.cluster else 1
        elif argv[:2] == ["attrd_updater", "-Q"]:
            value = (f"arbiter {self.arbiter}" if self.arbiter else "two_node") if argv[3] == quorum_device.WORD \
                else "1"
            rc, out = (0, f'name="{argv[3]}" host="{argv[-1]}" value="{value}"') if self.cluster else (1, "")
        elif argv[:2] == ["attrd_updater", "-n"]:
            self.attrd[argv[2]] = argv[-1]
        elif argv[:2] == ["corosync-cmapctl", "-g"]:
            host, _, port = (self.arbiter or "").partition(":")
            value = host if argv[2].endswith(".host") else port
            rc, out = (0, f"{argv[2]} (str) = {value}\n") if self.cluster and self.arbiter else (1, "")
        elif argv[:2] == ["corosync-qdevice-tool", "-sv"]:
            rc, out = (0, self.qdevice) if self.qdevice else (1, "")
        elif argv[:2] == ["drbdsetup", "show"]:
            rc = 10                                   # (what the kernel runs: live_apply's own tests)
        elif argv[:2] == ["drbdadm", "role"]:
            out = "Primary/Secondary\n"
        elif argv[0] == "crm_mon":
            rc, out = (0, self.crm_xml) if self.cluster else (102, "")
        elif argv[0] == "crm_attribute" and argv[argv.index("--name") + 1] == "no-quorum-policy":
            out = self.policy + "\n"
        elif argv[:2] == ["pacemakerd", "--version"]:
            out = f"Pacemaker {self.pacemaker}\nWritten by Andrew Beekhof and the Pacemaker project contributors\n"
        elif argv[0] == "corosync-cmapctl" and argv[1] != "runtime.votequorum.":
            # corosync holds the keys of the corosync.conf on disk (what the lab shows: test_corosync_cmap),
            # unless the test changed one of them
            held = dict(corosync_cmap.flat(self.read_bytes(paths.COROSYNC_CONF).decode()), **self.cmap_changed)
            rc, out = (0, "".join(f"{k} (str) = {v}\n" for k, v in held.items() if k.startswith(argv[1]))) \
                if self.cluster else (1, "")
        elif argv[0] == "corosync-cmapctl":
            two_node = "0" if self.arbiter else "1"
            rc, out = (0, f"runtime.votequorum.two_node (u8) = {two_node}\n") if self.cluster else (1, "")
        elif argv[0] == "getent":
            out = {"clc1": "198.51.100.11   STREAM clc1\n", "clc2": "198.51.100.12   STREAM clc2\n"}[argv[2]]
        elif argv[0] == "ping":
            rc = self.ping
        elif argv[0] == paths.REACH_ANY:
            assert argv[1:] == ["198.51.100.1"], argv
            rc = self.reach
        elif argv[0] == "blockdev":
            rc, out = (0, self.disk_bytes + "\n") if self.disk_bytes else (1, "")
        elif argv[0] == "modinfo":
            out = "8.4.11\n"
        elif argv[0] == "systemctl" and argv[-1] == quorum_device.UNIT:
            out = {"is-enabled": "enabled", "is-active": "active"}[argv[1]] if self.qdevice else "inactive"
        elif argv[0] == "systemctl":
            out = self.enabled + "\n"
            rc = 0 if self.enabled == "enabled" else 1
        elif argv == ["/usr/sbin/fence_ipmilan"]:
            self.bmc_asked.append(kwargs["input"])
            return Completed(tuple(argv), *self.bmc)
        elif argv[0] == "timedatectl":
            out = self.ntp + "\n"
        elif argv[0] == "pgrep" and argv[1:] in (["-x", "pacemaker-fence"], ["-x", "pacemaker-execd"]):
            pid, session = (1581, 0) if argv[2] == "pacemaker-fence" else (1582, 1)
            rc, out = (0, f"{pid}\n") if self.cluster else (1, "")
            # /proc/PID/stat: the 19th field is the nice value
            self.write_atomic(f"/proc/{pid}/stat", f"{pid} ({argv[2]}) S 1 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 "
                                                   f"10 {self.fencer_nice if pid == 1581 else 0} 1 0 100 0\n".encode())
            if self.sessions is not None:
                self.write_atomic(f"/proc/{pid}/autogroup", f"/autogroup-{40 + session} nice "
                                                            f"{self.sessions[session]}\n".encode())
        else:
            raise AssertionError(f"doctor ran an unexpected command: {argv}")
        return Completed(tuple(argv), rc, out, "")


@pytest.fixture
def healthy(tmp_path, monkeypatch):
    """A node laid out as uec-clc-ha leaves clc1 of the lab: settings, generated files, data on DRBD."""
    monkeypatch.setattr(node_facts, "is_block_device", lambda system, path: system.exists(path))

    def make(settings=None, local="clc1", loaded=True, **node_args):
        """``local``: the node it is (clc2: the names and addresses swapped); ``loaded``: its CIB holds cluster.crm
        (False: cluster-init has not loaded it yet)."""
        root = tmp_path / local
        system = Node(str(root), local=local, **node_args)
        write_settings(system, "corosync-drbd84", **dict(AS_CLC2 if local == "clc2" else {}, **(settings or {})))
        raw = pipeline.load_raw(system)
        built = pipeline.build(system, raw)
        for f in built.files.values():
            system.write_atomic(f.path, f.content, mode=f.mode)
            applied.record(system, f.path, f.content)          # the running services took every file
        crm = built.files[paths.CRM_FILE].content
        if loaded:
            system.cib.load_text(crm.decode())
            system.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: live_apply.stamp_value(built.config, crm)}}
        for path, data in (("/proc/sys/kernel/hostname", f"{local}\n".encode()), ("/dev/vdb1", b""), ("/dev/watchdog", b""),
                           ("/dev/disk/by-id/virtio-sbdshared", b""), ("/proc/drbd", b"version: 8.4.11\n"),
                           ("/usr/sbin/fence_uec_clc_ha_probe", b"#!/usr/bin/python3\n"),
                           ("/etc/os-release", b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n')):
            system.write_atomic(path, data)
        os.chmod(system.path(paths.SETTINGS_PATH), 0o600)
        system.makedirs("/mnt/uecdata")
        for d in built.config.data_directories:
            system.makedirs(os.path.dirname(d))
            os.symlink("/mnt/uecdata" + d, system.path(d))
        if system.peer_digest == "same":
            system.peer_digest = digest(peer_raw(raw))
        return system
    return make


def run_doctor(system):
    out = io.StringIO()

    class Args:
        settings = None
    rc = doctor_cmd.run(Args, system, out)
    return rc, out.getvalue()


def test_a_healthy_node_is_all_ok_and_publishes_its_digest_and_disk(healthy):
    system = healthy(peer_digest="same")
    rc, text = run_doctor(system)
    assert rc == 0, text
    assert all(line.startswith(("ok ", " ")) for line in text.splitlines()), text
    assert "fix:" not in text
    raw = pipeline.load_raw(system)
    assert system.published == {node_facts.DIGEST_ATTR: digest(raw), node_facts.DISK_ATTR: "134217728",
                                node_facts.RELEASE_ATTR: "debian=12 pacemaker=2.1.5"}
    assert "both nodes run Debian 12 (Pacemaker 2.1.5)" in text
    assert raw["Cluster-Secret"] not in text and raw["Cluster-Secret"] not in json.dumps(system.published)


@pytest.mark.parametrize("peer, older", [("debian=13 pacemaker=3.0.0", "clc1"), ("debian=11 pacemaker=2.0.5", "clc2")])
def test_a_pair_on_two_debian_releases_is_a_warning_naming_the_node_to_upgrade_next(healthy, peer, older):
    """The middle of a rolling 12 -> 13 upgrade: said, and the way to finish it, for the older node."""
    system = healthy(peer_digest="same", peer_release=peer)
    rc, text = run_doctor(system)
    assert rc == 1, text
    line = next(line for line in text.splitlines() if line.startswith("warn") and " release " in line)
    assert "different Debian releases: Debian 12 (Pacemaker 2.1.5) here" in line
    assert f"Debian {peer.split()[0][7:]} (Pacemaker {peer.split()[1][10:]}) on clc2" in line
    fix = text[text.index(line):].splitlines()[1]
    assert f"uec-clc-ha-ctl standby {older}" in fix and f"uec-clc-ha-ctl unstandby {older}" in fix


def test_a_peer_that_has_not_published_its_release_is_a_warning(healthy):
    rc, text = run_doctor(healthy(peer_digest="same", peer_release=None))
    assert rc == 1 and "clc2 has not published its release" in text


@pytest.mark.parametrize("change, check, words", [
    (dict(peer_digest="0" * 64), "same-settings", "differ"),
    (dict(policy="ignore"), "cib", "no-quorum-policy=ignore"),
    (dict(enabled="enabled"), "eucalyptus", "starts at boot"),
    (dict(ping=1), "links", "does not answer on the public link"),
    (dict(peer_disk="268435456"), "drbd-disk", "134217728 bytes here, 268435456 on clc2"),
])
def test_each_failure_is_named_with_its_fix(healthy, change, check, words):
    system = healthy(**dict(dict(peer_digest="same"), **change))
    rc, text = run_doctor(system)
    assert rc == 2, text
    line = next(line for line in text.splitlines() if line.startswith("fail") and f" {check} " in line)
    assert words in line
    following = text.splitlines()[text.splitlines().index(line) + 1]
    assert following.strip().startswith("fix: ")


def test_files_an_admin_can_break(healthy):
    system = healthy(peer_digest="same")
    os.chmod(system.path("/etc/corosync/authkey"), 0o644)
    system.write_atomic("/etc/corosync/corosync.conf.ucf-dist", b"old")
    os.remove(system.path("/var/lib/image-store-proxy"))
    system.makedirs("/var/lib/image-store-proxy")
    system.write_atomic("/proc/sys/kernel/hostname", b"cloud7\n")
    rc, text = run_doctor(system)
    assert rc == 2
    assert "fail secrets" in text.replace("  ", " ") and "/etc/corosync/authkey (0644)" in text
    assert "warn leftovers" in text.replace("  ", " ") and "corosync.conf.ucf-dist" in text
    assert "/var/lib/image-store-proxy is a real directory" in text
    assert "this host is cloud7" in text


def test_fencing_none_is_loud(healthy):
    system = healthy(peer_digest="same")
    text = settings_file.updated_text(system.read(paths.SETTINGS_PATH), {"Fencing": "none"})
    settings_file.save(system, text)
    rc, out = run_doctor(system)
    assert rc == 2 and "FENCING IS OFF" in out


def test_where_the_cluster_is_down_it_warns_and_compares_nothing(healthy):
    system = healthy(cluster=False, ntp="no")
    rc, text = run_doctor(system)
    assert rc == 1, text
    assert "corosync does not run here" in text and "the peer's settings not compared" in text
    assert system.published == {}
    assert "fail" not in text.split()


def test_agents_sessions_at_their_weights_are_ok(healthy):
    rc, text = run_doctor(healthy(peer_digest="same"))
    assert rc == 0, text
    assert "ok   priority" in text, text
    assert "the fencer's session -10 and the executor's session -5" in text


@pytest.mark.parametrize("sessions, said", [((0, -5), "the fencer's session 0 and the executor's session -5"),
                                            ((-10, 0), "the fencer's session -10 and the executor's session 0")])
def test_a_session_at_the_default_weight_is_a_warning_with_the_fix(healthy, sessions, said):
    # a fencer that pacemakerd restarted (a new session), or a node whose Pacemaker started before the package
    rc, text = run_doctor(healthy(peer_digest="same", sessions=sessions))
    assert rc == 1, text
    assert "warn" in text and said in text and "/usr/lib/uec-clc-ha/cluster-priority" in text


@pytest.mark.parametrize("fencer_nice, rc", [(-10, 0), (0, 1)])
def test_without_autogroups_the_fencer_process_nice_is_what_counts(healthy, fencer_nice, rc):
    # the agents' nice is 0 whatever their daemon's: only the fencer itself gains by its nice
    got, text = run_doctor(healthy(peer_digest="same", sessions=None, fencer_nice=fencer_nice))
    line = next(x for x in text.splitlines() if "priority" in x)
    assert got == rc and f"the fencer's process {fencer_nice}" in line and "executor" not in line, text


def test_a_cib_that_differs_from_the_files_is_a_warning_naming_apply(healthy):
    # an old fencing device left behind (what a reconfigure by an earlier version left), and a corosync.conf
    # written but not taken
    system = healthy(peer_digest="same")
    system.cib.load_text('primitive st_ipmi_clc1 stonith:fence_ipmilan params ip=203.0.113.201\n')
    applied.record(system, "/etc/corosync/corosync.conf", b"what corosync ran before")
    system.cmap_changed = {"totem.token": "3000"}
    rc, text = run_doctor(system)
    assert rc == 1, text
    line = next(line for line in text.splitlines() if line.startswith("warn") and " applied " in line)
    assert "st_ipmi_clc1" in line and "corosync re-reads corosync.conf" in line, line
    # the same file record, but corosync holds the file already (the peer's reload): nothing to apply for it
    system.cmap_changed = {}
    rc, text = run_doctor(system)
    line = next(line for line in text.splitlines() if line.startswith("warn") and " applied " in line)
    assert "st_ipmi_clc1" in line and "corosync" not in line, line
    assert "uec-clc-ha-ctl apply" in text.splitlines()[text.splitlines().index(line) + 1]


def test_a_probe_without_its_agent_fails(healthy):
    system = healthy(peer_digest="same")
    rc, out = run_doctor(system)
    assert "fence_uec_clc_ha_probe is missing" not in out and "the delay is paid only in a split" in out
    system.remove("/usr/sbin/fence_uec_clc_ha_probe")
    rc, out = run_doctor(system)
    assert rc == 2 and "fence_uec_clc_ha_probe is missing" in out


IPMI = {"Fencing": "ipmilan", "IPMI-Local-Address": "192.0.2.11", "IPMI-Peer-Address": "192.0.2.12",
        "IPMI-User": "fence", "IPMI-Password": "bmc-pw-for-tests", "IPMI-Cipher": "3"}


def test_ipmi_fencing_asks_the_peers_bmc_as_the_fencer_would(healthy):
    system = healthy(settings=IPMI, peer_digest="same")
    rc, text = run_doctor(system)
    assert "ok   bmc" in text and "clc2's BMC at 192.0.2.12 answers fence_ipmilan (power on)" in text, text
    # the device's parameters on standard input, never on the command line
    assert system.bmc_asked == ["ip=192.0.2.12\nusername=fence\npassword=bmc-pw-for-tests\nlanplus=1\n"
                                "cipher=3\naction=status\n"]
    assert "bmc-pw-for-tests" not in text


def test_a_bmc_that_refuses_fails_naming_the_fields_and_masks_the_password(healthy):
    said = "2026-12-05 21:06:20,237 ERROR: Failed: Unable to obtain correct plug status (ipmitool -P bmc-pw-for-tests)\n"
    rc, text = run_doctor(healthy(settings=IPMI, peer_digest="same", bmc=(1, "", said)))
    assert rc == 2, text
    line = next(line for line in text.splitlines() if line.split()[:2] == ["fail", "bmc"])
    assert "does not answer fence_ipmilan" in line and "fencing clc2 would fail" in line, text
    assert "IPMI-Password" in text and "bmc-pw-for-tests" not in text and "********" in text
    assert "(ERROR: Failed: Unable to obtain" in line and "21:06:20" not in line


def test_a_peer_powered_off_is_a_warning(healthy):
    rc, text = run_doctor(healthy(settings=IPMI, peer_digest="same", bmc=(2, "Status: OFF\n", "")))
    assert rc == 1 and "clc2 is powered off" in text, text


def test_sbd_fencing_does_not_ask_a_bmc(healthy):
    system = healthy(peer_digest="same")
    run_doctor(system)
    assert system.bmc_asked == []


def test_with_the_arbiter_doctor_checks_its_connection_instead_of_two_node(healthy):
    arbiter = {"Arbiter": "198.51.100.13", "Ping-Hosts": "198.51.100.1"}
    system = healthy(arbiter, peer_digest="same", arbiter="198.51.100.13:5403", qdevice=QDEVICE_SV)
    system.peer_digest = digest(peer_raw(pipeline.load_raw(system)))
    rc, text = run_doctor(system)
    assert rc == 0, text
    assert "ok   quorum" in text and "the arbiter 198.51.100.13:5403 is connected (TLS on, heuristics Pass)" in text
    system.qdevice = QDEVICE_SV.replace("State:\t\t\tConnected", "State:\t\t\tConnect failed")
    rc, text = run_doctor(system)
    assert rc == 1 and "198.51.100.13:5403 is not connected (Connect failed)" in text and "corosync-qnetd" in text
    system.qdevice = None
    rc, text = run_doctor(system)
    assert rc == 2 and "corosync-qdevice does not run here" in text
    system.arbiter = None                                   # the files have it, corosync does not yet
    rc, text = run_doctor(system)
    assert "still counts two_node votes" in text


def test_heuristics_that_failed_at_the_last_membership_change_are_run_again(healthy):
    """qdevice runs them in sync mode (at membership changes only): its Fail can be older than the network."""
    arbiter = {"Arbiter": "198.51.100.13", "Ping-Hosts": "198.51.100.1"}
    system = healthy(arbiter, peer_digest="same", arbiter="198.51.100.13:5403",
                     qdevice=QDEVICE_SV.replace("result:\tPass (regular: Undefined, membership: Pass",
                                                "result:\tFail (regular: Undefined, membership: Fail"))
    system.peer_digest = digest(peer_raw(pipeline.load_raw(system)))
    rc, text = run_doctor(system)
    assert rc == 0, text
    assert "failed at the last membership change (they run only then), and this node reaches a Ping-Host now" \
        in text, text
    system.reach = 1
    rc, text = run_doctor(system)
    assert rc == 1 and "this node's heuristics fail (it reaches none of the Ping-Hosts)" in text, text


def test_corosync_running_other_values_than_its_file_is_a_warning_naming_them(healthy):
    # a reload that failed on this node, or a value changed by hand with corosync-cmapctl: apply's record says
    # the file was taken, corosync's cmap says otherwise
    system = healthy(peer_digest="same")
    rc, text = run_doctor(system)
    assert "ok   corosync       corosync runs with every value of /etc/corosync/corosync.conf" in text, text
    system.cmap_changed = {"totem.token": "3000", "quorum.device.net.host": "198.51.100.13"}
    rc, text = run_doctor(system)
    assert rc == 1, text
    line = next(line for line in text.splitlines() if line.startswith("warn corosync"))
    assert f"totem.token: file {system.read_bytes(paths.COROSYNC_CONF).decode().split('token: ')[1].split()[0]}, " \
        "corosync 3000" in line, line
    assert "quorum.device.net.host: file (none), corosync 198.51.100.13" in line, line
    assert "uec-clc-ha-ctl apply (it reloads corosync" in text
    # and apply, whose record says the file was taken, reloads it: the file is what counts
    applied_line = next(line for line in text.splitlines() if line.startswith("warn applied"))
    assert "corosync re-reads corosync.conf on every node (it runs with other values" in applied_line


# -- a fresh pair: what doctor compares was published when each node was configured -------------------------------
class BroughtUp(cluster_init.Stages):
    """cluster-init on a node of the pair the test plays: its bring-up (SBD, DRBD, the arbiter, the stack) is
    test_cluster_init's; the CIB's load and what init does after it run for real against the pair's one Cib.
    ``joined``: the peer is a member (False on the first node, which goes on to wait for it)."""

    joined = True

    def files(self):
        pass

    foreign = sbd = drbd = arbiter = stack = files

    def membership(self, seconds):
        return self.joined

    def serving(self, seconds):
        return "clc1"


def cluster_init_on(system, joined):
    clock = Clock()

    def staged(*args):
        s = BroughtUp(*args, clock=clock, sleep=clock.sleep)
        s.joined = joined
        return s
    out = io.StringIO()
    config = settings.require_valid(pipeline.load_raw(system))
    try:
        cluster_init.init(system, config, out, yes=True, stages_class=staged)
    except Waiting:
        assert not joined
    return out.getvalue()


@pytest.fixture
def fresh_pair(healthy):
    """clc1 and clc2 as the package leaves them: installed, cluster-init run on clc1 (which waited) then on clc2,
    one CIB; no doctor run anywhere yet."""
    cib = Cib()
    pair = {n: healthy(local=n, cib=cib, loaded=False, peer_digest=None, peer_disk=None, peer_release=None)
            for n in ("clc1", "clc2")}
    said = {n: cluster_init_on(pair[n], joined=n == "clc2") for n in pair}
    for n, text in said.items():
        assert "cluster-init: published for doctor on" in text, text
    return pair


def test_on_a_fresh_pair_doctor_on_either_node_finds_what_the_other_published_at_cluster_init(fresh_pair):
    cib = fresh_pair["clc1"].cib
    assert set(cib.node_attrs) == {"clc1", "clc2"}
    writes = list(cib.node_writes)
    for node in ("clc1", "clc2"):                           # either one first: each already compares
        rc, text = run_doctor(fresh_pair[node])
        assert rc == 0, text
        assert "fix:" not in text and "warn" not in text.split()
        for check in ("drbd-disk", "same-settings", "release"):
            line = next(line for line in text.splitlines() if line.split()[1:2] == [check])
            assert line.startswith("ok "), text
    # what cluster-init published is exactly what doctor computes: its own publication writes nothing
    assert cib.node_writes == writes


def test_a_change_applied_on_one_node_is_a_difference_until_the_other_has_it(fresh_pair):
    clc1, clc2 = fresh_pair["clc1"], fresh_pair["clc2"]
    for node in (clc1, clc2):
        assert run_doctor(node)[0] == 0
    change = {"Fencing-Delay": "7"}
    for node in (clc1, clc2):
        settings_file.save(node, settings_file.updated_text(node.read(paths.SETTINGS_PATH), change))
        node_facts.publish_here(node, lambda message: None)      # what apply and the postinst do once they ran
        if node is clc1:
            rc, text = run_doctor(clc2)
            assert rc == 2 and "clc1's settings (or cluster secret) differ" in text, text
    for node in (clc1, clc2):
        rc, text = run_doctor(node)
        assert "ok   same-settings" in text, text


def test_a_peer_that_has_published_nothing_names_where_it_is_published(healthy):
    rc, text = run_doctor(healthy(peer_digest=None, peer_disk=None, peer_release=None))
    assert rc == 1
    for check, what in (("drbd-disk", "its disk's size"), ("same-settings", "its settings' digest"),
                        ("release", "its release")):
        line = next(line for line in text.splitlines() if line.split()[:2] == ["warn", check])
        assert f"clc2 has not published {what}" in line, text
        fix = text.splitlines()[text.splitlines().index(line) + 1]
        assert "`uec-clc-ha-ctl apply` on clc2 publishes it" in fix, fix


def test_facts_the_cib_does_not_take_are_a_warning(healthy):
    system = healthy(peer_digest="same")
    run = system.run

    def refusing(argv, rcs=(0,), **kwargs):
        if argv[0] == "crm_attribute" and "--update" in argv:
            raise CommandFailure(list(argv), 13, "Error performing operation: Permission denied")
        return run(argv, rcs, **kwargs)
    system.run = refusing
    rc, text = run_doctor(system)
    assert rc == 1, text
    line = next(line for line in text.splitlines() if line.startswith("warn publish"))
    assert "could not be published for clc2's doctor: uec-clc-ha-settings: command crm_attribute" in line
    assert "Permission denied" in line


def test_a_disk_that_cannot_be_read_publishes_no_size(healthy):
    system = healthy(peer_digest="same")
    run_doctor(system)
    assert node_facts.DISK_ATTR in system.published
    system.disk_bytes = None
    rc, text = run_doctor(system)
    assert "the size of /dev/vdb1 could not be read" in text
    assert node_facts.DISK_ATTR not in system.published          # the peer compares with nothing stale

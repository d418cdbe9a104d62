"""The .deb installed, reconfigured, removed and purged in throwaway Debian 12 roots.

Every test gets a fresh overlay on a cached debootstrap root (lab/lablib/chroot.py)
with stand-ins of the Eucalyptus services that boot start-up is about: LSB
init scripts enabled with update-rc.d, a systemd unit enabled with systemctl,
and an upstart job file.  Nothing is installed on the host.
"""

import json
import os
import re
import shutil

import pytest

from lablib import chroot
from lablib.chroot import CLC_PACKAGES, ChrootRoot, diff_snapshots
from checkout import TOP, package_version
from clc_roots import QUESTIONS, SERVICES, install, preseed, stand_in_services
from scenarios import SCENARIOS
from golden import golden_bytes as golden
from uec_clc_ha.config import settings_file

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("debootstrap", path="/usr/sbin:/usr/bin"),
                                reason="needs root and debootstrap")

@pytest.fixture(scope="module")
def base():
    return chroot.base_root(CLC_PACKAGES)


@pytest.fixture
def plain_clc(base, tmp_path):
    """The same CLC as a plain directory: "/" is not a mount point inside, as in an image built by chroot."""
    with ChrootRoot(base, tmp_path, plain=True) as root:
        stand_in_services(root)
        yield root


@pytest.fixture
def clc(base, tmp_path):
    """A throwaway CLC: Debian 12 with stand-in Eucalyptus services enabled at boot."""
    with ChrootRoot(base, tmp_path) as root:
        stand_in_services(root)
        yield root


def boot_state(root):
    """Per service: its rc2.d link name, systemd state, and upstart override."""
    links = sorted(n for n in os.listdir(root.host_path("/etc/rc2.d")) if any(s in n for s in SERVICES))
    unit = root.run(["systemctl", "is-enabled", "eucalyptus-cloud.service"], check=False).stdout.strip()
    return links, unit, root.exists("/etc/init/eucalyptus.override")


def rendered_from(settings_text, path, name="corosync-drbd84"):
    """The file the package renders from a settings file's text (missing keys at their defaults, "auto" as the
    golden scenario `name` resolves it)."""
    from scenarios import full_raw
    from uec_clc_ha.config import keyring, render, settings, settings_file

    raw = settings_file.parse(settings_text.decode())
    raw.update({k: v for k, v in full_raw(name).items() if raw.get(k) == "auto"})
    config = settings.require_valid(raw)
    return render.render_all(config, keyring.derive(config.cluster_secret, config.cluster_name))[path].content


def generated(name):
    with open(os.path.join(TOP, "tests", "golden", name, "MANIFEST"), encoding="utf-8") as fh:
        return [line.split() for line in fh]


def test_preseeded_install_writes_every_file(clc, deb):
    preseed(clc)
    install(clc, deb)
    for mode, owner, path in generated("corosync-drbd84"):
        assert clc.read(path) == golden("corosync-drbd84", path), path
        st = os.stat(clc.host_path(path))
        assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == (oct(int(mode, 8)), 0, 0), path
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert "VIP: 198.51.100.100" in settings and "# The virtual IP" in settings
    assert os.stat(clc.host_path("/etc/uec-clc-ha/uec-clc-ha.conf")).st_mode & 0o777 == 0o600
    diversion = clc.run(["dpkg-divert", "--list", "/etc/corosync/corosync.conf"]).stdout
    assert "to /etc/corosync/corosync.conf.distrib by uec-clc-ha" in diversion
    assert clc.exists("/etc/corosync/corosync.conf.distrib")
    assert os.stat(clc.host_path("/usr/lib/ocf/resource.d/ubuntu/eucaclc")).st_mode & 0o777 == 0o755
    registered = [line.split() for line in clc.read("/var/lib/ucf/registry").decode().splitlines()]
    for _, _, path in generated("corosync-drbd84"):
        assert ["uec-clc-ha", path] in registered


def test_the_base_holds_the_depends_and_no_recommends(base):
    """The package tests' root is built from debian/control's Depends alone (chroot.CLC_PACKAGES),
    so the preseeded default install (SBD fencing: crmsh must find fence_sbd) proves nothing is missing."""
    listed = chroot.run_in(base, ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n"]).stdout
    installed = {line.split()[0] for line in listed.splitlines() if line.split()[1:2] == ["ii"]}
    for relation in chroot.control_depends():
        assert set(chroot.relation_names(relation)) & installed, relation
    assert "heartbeat" not in installed and "libxml2-utils" not in installed


def test_install_in_a_plain_chroot(plain_clc, deb):
    """unshare --propagation private cannot work where / is not a mount point: the checkers must do without."""
    probe = plain_clc.run(["unshare", "--mount", "--propagation", "private", "true"], check=False)
    assert probe.returncode != 0 and "cannot change root filesystem propagation" in probe.stderr
    preseed(plain_clc)
    done = install(plain_clc, deb)
    assert "WARNING" not in done.stdout + done.stderr          # everything was verified, nothing skipped
    for _, _, path in generated("corosync-drbd84"):
        assert plain_clc.read(path) == golden("corosync-drbd84", path), path


def test_install_takes_eucalyptus_out_of_boot_startup_and_remove_restores_it(clc, deb):
    before = boot_state(clc)
    assert before == (sorted(f"S01{s}" for s in SERVICES), "enabled", False)
    preseed(clc)
    install(clc, deb)
    links, unit, override = boot_state(clc)
    assert all(n.startswith("K") for n in links) and unit == "disabled" and override
    assert clc.read("/etc/init/eucalyptus.override").decode().splitlines()[-1] == "manual"
    clc.run(["apt-get", "remove", "-y", "uec-clc-ha"])
    assert boot_state(clc) == before
    assert not clc.exists("/usr/lib/ocf/resource.d/ubuntu/eucaclc")
    assert clc.exists("/etc/uec-clc-ha/cluster.crm") and clc.exists("/etc/corosync/authkey")


def test_the_secret_does_not_stay_in_debconf(clc, deb):
    preseed(clc)
    install(clc, deb)
    secret = SCENARIOS["corosync-drbd84"]["Cluster-Secret"].encode()
    for path in ("/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat"):
        if clc.exists(path):
            assert secret not in clc.read(path), path


def snapshot_files(root):
    return {p: v for p, v in root.snapshot().items() if not p.startswith("/var/cache/debconf/")}


def test_reconfigure_with_the_same_answers_changes_nothing(clc, deb):
    preseed(clc)
    install(clc, deb)
    before = snapshot_files(clc)
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert diff_snapshots(before, snapshot_files(clc)) == ([], [], [])


def test_a_new_vip_changes_only_the_files_that_name_it(clc, deb):
    preseed(clc)
    install(clc, deb)
    before = snapshot_files(clc)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/vip string 198.51.100.101\n")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    added, removed, changed = diff_snapshots(before, snapshot_files(clc))
    assert (added, removed) == ([], [])
    assert [p for p in changed if p.startswith("/etc/")] == [
        "/etc/uec-clc-ha/cluster.crm", "/etc/uec-clc-ha/eucalyptus-vnet.conf", "/etc/uec-clc-ha/uec-clc-ha.conf"]
    assert b'VNET_CLOUDIP="198.51.100.101"' in clc.read("/etc/uec-clc-ha/eucalyptus-vnet.conf")


def test_hand_edits_survive_reconfigure(clc, deb):
    preseed(clc)
    install(clc, deb)
    res = clc.read("/etc/drbd.d/uec-clc.res") + b"# admin: checked 2026-11-25\n"
    clc.write("/etc/drbd.d/uec-clc.res", res, mode=0o600)
    crm = clc.read("/etc/uec-clc-ha/cluster.crm") + b"# admin note\n"
    clc.write("/etc/uec-clc-ha/cluster.crm", crm, mode=0o600)
    text = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert "\n#Monitor-Interval: 10\n" in text                         # follows the default
    settings = text.replace("#Monitor-Interval: 10", "Monitor-Interval: 25")
    clc.write("/etc/uec-clc-ha/uec-clc-ha.conf", settings, mode=0o600)
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert clc.read("/etc/drbd.d/uec-clc.res") == res                 # unchanged upstream: kept as is
    assert clc.read("/etc/uec-clc-ha/cluster.crm") == crm              # changed upstream: kept ...
    assert b"interval=25s" in clc.read("/etc/uec-clc-ha/cluster.crm.ucf-dist")   # ... new one beside it
    assert "Monitor-Interval: 25" in clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()


def test_invalid_preseed_fails_and_changes_nothing(clc, deb):
    before = snapshot_files(clc)
    preseed(clc, **{"VIP": "10.10.10.300", "Peer-Node": "clc1"})
    done = install(clc, deb, check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "VIP: must be an IPv4 address" in output and "Peer-Node: must differ from Local-Node" in output
    added, removed, changed = diff_snapshots(before, snapshot_files(clc))
    shipped = set(clc.run(["dpkg", "-L", "uec-clc-ha"]).stdout.split())
    written = [p for p in added + changed + removed
               if p.startswith(("/etc/", "/var/lib/ucf", "/var/lib/uec-clc-ha")) and p not in shipped]
    assert written == []
    assert not clc.exists("/etc/corosync/corosync.conf.distrib")
    assert "uec-clc-ha" not in clc.run(["dpkg-divert", "--list"]).stdout
    assert not clc.exists("/etc/drbd.d/uec-clc.res")


def test_purge_puts_the_root_back(clc, deb):
    corosyncs_own = clc.read("/etc/corosync/corosync.conf")
    before = clc.snapshot()
    preseed(clc)
    install(clc, deb)
    clc.write("/etc/uec-clc-ha/cluster.crm", clc.read("/etc/uec-clc-ha/cluster.crm") + b"# edit\n", mode=0o600)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/vip string 198.51.100.101\n")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])     # leaves a .ucf-dist behind
    assert clc.exists("/etc/uec-clc-ha/cluster.crm.ucf-dist")
    clc.run(["apt-get", "purge", "-y", "uec-clc-ha", "python3-uec-clc-ha"])
    after = clc.snapshot()
    assert diff_snapshots(before, after) == ([], [], ["/var/cache/debconf/config.dat"])
    assert b"Name: uec-clc-ha/" not in clc.read("/var/cache/debconf/config.dat")   # only ucf's own prompt
    assert clc.read("/etc/corosync/corosync.conf") == corosyncs_own
    assert "uec-clc-ha" not in clc.run(["dpkg-divert", "--list"]).stdout


def test_heartbeat_stack_needs_no_diversion(clc, deb):
    preseed(clc, "heartbeat-legacy")
    done = install(clc, deb)
    # heartbeat is only a Suggests (it serves Pacemaker 1.x systems): its files are not passed unchecked
    assert "WARNING: /etc/ha.d/ha.cf and /etc/ha.d/authkeys were not checked: heartbeat is not installed" \
        in done.stdout + done.stderr
    assert clc.read("/etc/ha.d/ha.cf") == golden("heartbeat-legacy", "/etc/ha.d/ha.cf")
    assert os.stat(clc.host_path("/etc/ha.d/authkeys")).st_mode & 0o777 == 0o600
    assert "uec-clc-ha" not in clc.run(["dpkg-divert", "--list"]).stdout
    assert not clc.exists("/etc/corosync/authkey")


def test_switching_stacks_retires_the_old_files(clc, deb):
    corosyncs_own = clc.read("/etc/corosync/corosync.conf")
    preseed(clc)
    install(clc, deb)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/cluster-stack select heartbeat\n")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert clc.exists("/etc/ha.d/ha.cf") and not clc.exists("/etc/corosync/authkey")
    assert clc.read("/etc/corosync/corosync.conf") == corosyncs_own
    diversions = clc.run(["dpkg-divert", "--list"]).stdout
    assert "/etc/corosync/corosync.conf to" not in diversions
    assert "diversion of /etc/default/sbd to /etc/default/sbd.distrib by uec-clc-ha" in diversions   # still SBD


def test_unanswered_install_is_left_unconfigured(clc, deb):
    before = clc.snapshot()
    done = install(clc, deb)
    assert "not configured yet" in done.stdout + done.stderr
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert "Local-Node:" in settings and not clc.exists("/etc/drbd.d/uec-clc.res")
    clc.run(["apt-get", "purge", "-y", "uec-clc-ha", "python3-uec-clc-ha"])
    assert diff_snapshots(before, clc.snapshot()) == ([], [], [])


def test_a_cluster_that_cannot_start_here_leaves_the_package_configured(clc, deb):
    preseed(clc)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/start-cluster boolean true\n")
    done = install(clc, deb)
    output = done.stdout + done.stderr
    assert "NOT DONE: `uec-clc-ha-ctl cluster-init --yes`" in output and "there is no watchdog" in output
    assert "install ok installed" in clc.run(["dpkg-query", "-W", "-f", "${Status}", "uec-clc-ha"]).stdout


def test_agreed_drbd_init_is_refused_here_and_the_install_still_completes(clc, deb):
    preseed(clc)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/initialize-drbd boolean true\n")
    done = install(clc, deb)
    output = done.stdout + done.stderr
    assert "NOT DONE: `uec-clc-ha-ctl drbd-init --yes`" in output
    assert "/dev/vdb1 (DRBD-Disk) does not exist" in output
    assert clc.exists("/etc/drbd.d/uec-clc.res") and not clc.exists("/var/lib/uec-clc-ha/drbd-init.json")


def test_first_node_without_a_secret_gets_one_generated(clc, deb):
    values = dict(SCENARIOS["corosync-drbd84"])
    del values["Cluster-Secret"]
    lines = [f"uec-clc-ha uec-clc-ha/{q} {t} {values[key]}" for key, (q, t) in QUESTIONS.items() if key in values]
    lines.append("uec-clc-ha uec-clc-ha/initial-primary boolean true")
    clc.run(["debconf-set-selections"], input="\n".join(lines) + "\n")
    install(clc, deb)
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    secret = [line.split(":", 1)[1].strip() for line in settings.splitlines() if line.startswith("Cluster-Secret:")][0]
    assert len(secret) >= 40
    for path in ("/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat"):
        if clc.exists(path):
            assert secret.encode() not in clc.read(path), path
    assert clc.exists("/etc/corosync/authkey")


def test_the_second_node_without_a_secret_is_refused_and_changes_nothing(clc, deb):
    before = snapshot_files(clc)
    values = dict(SCENARIOS["corosync-drbd84"])
    del values["Cluster-Secret"]
    lines = [f"uec-clc-ha uec-clc-ha/{q} {t} {values[key]}" for key, (q, t) in QUESTIONS.items() if key in values]
    lines.append("uec-clc-ha uec-clc-ha/initial-primary boolean false")
    clc.run(["debconf-set-selections"], input="\n".join(lines) + "\n")
    done = install(clc, deb, check=False)
    assert done.returncode != 0
    assert "Cluster-Secret: is required on this node" in done.stdout + done.stderr
    _, _, changed = diff_snapshots(before, snapshot_files(clc))
    assert not clc.exists("/etc/drbd.d/uec-clc.res") and not clc.exists("/etc/corosync/authkey")
    assert "uec-clc-ha" not in clc.run(["dpkg-divert", "--list"]).stdout


def test_an_arbiter_that_does_not_answer_fails_the_install_and_changes_nothing(clc, deb):
    """uec-clc-ha/arbiter preseeded, nothing listening there: configure fails naming it, before any file."""
    # the arbiter's name is a loopback address, looked up in files only: no traffic leaves this host
    clc.write("/etc/hosts", "127.0.0.1 localhost\n127.0.0.2 cc-arbiter\n")
    clc.write("/etc/nsswitch.conf", "hosts: files\n")
    before = snapshot_files(clc)
    preseed(clc)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/arbiter string cc-arbiter\n")
    done = install(clc, deb, check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "the arbiter cc-arbiter does not answer on TCP port 5406" in said, said
    assert "Nothing was changed" in said
    assert not clc.exists("/etc/uec-clc-ha/uec-clc-ha.conf") and not clc.exists("/etc/drbd.d/uec-clc.res")
    assert not clc.exists("/etc/corosync/qdevice/net/nssdb") and not clc.exists("/etc/uec-clc-ha/arbiter-ca.crt")
    assert "uec-clc-ha" not in clc.run(["dpkg-divert", "--list"]).stdout
    added, _, changed = diff_snapshots(before, snapshot_files(clc))
    assert not [p for p in added + changed if p.startswith(("/etc/corosync", "/etc/drbd.d"))], (added, changed)
    # the admin leaves the arbiter out for now (and adds it later with set + apply): configured
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/arbiter string\n")
    clc.run(["dpkg", "--configure", "-a"])
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert "Arbiter: cc-arbiter" not in settings and "two_node: 1" in clc.read("/etc/corosync/corosync.conf").decode()


def test_a_postinst_failing_after_prepare_leaves_no_secret_in_debconf(clc, deb):
    """ucf breaks in the middle of install: the secret and the generated-secret note must be gone anyway."""
    clc.run(["dpkg-divert", "--local", "--rename", "--divert", "/usr/bin/ucf.real", "--add", "/usr/bin/ucf"])
    clc.write("/usr/bin/ucf", "#!/bin/sh\necho 'ucf: simulated failure' >&2\nexit 1\n", mode=0o755)
    values = dict(SCENARIOS["corosync-drbd84"])
    del values["Cluster-Secret"]                  # the first node: one is generated, then install fails
    lines = [f"uec-clc-ha uec-clc-ha/{q} {t} {values[key]}" for key, (q, t) in QUESTIONS.items() if key in values]
    lines.append("uec-clc-ha uec-clc-ha/initial-primary boolean true")
    lines.append("uec-clc-ha uec-clc-ha/ipmi-password password typed-bmc-password-1234")
    clc.run(["debconf-set-selections"], input="\n".join(lines) + "\n")
    done = install(clc, deb, check=False)
    assert done.returncode != 0 and "simulated failure" in done.stdout + done.stderr
    pending = clc.read("/var/lib/uec-clc-ha/pending-settings").decode()
    generated = [line.split(":", 1)[1].strip() for line in json.loads(pending)["text"].splitlines()
                 if line.startswith("Cluster-Secret:")][0]
    for path in ("/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat",
                 "/var/cache/debconf/templates.dat"):
        if clc.exists(path):
            data = clc.read(path)
            assert generated.encode() not in data and b"typed-bmc-password-1234" not in data, path
    assert os.stat(clc.host_path("/var/lib/uec-clc-ha/pending-settings")).st_mode & 0o777 == 0o600
    assert not clc.exists("/etc/corosync/corosync.conf.distrib")       # the diversion of this run was undone
    clc.run(["rm", "/usr/bin/ucf"])
    clc.run(["dpkg-divert", "--local", "--rename", "--remove", "/usr/bin/ucf"])
    clc.run(["dpkg", "--configure", "-a"])                              # the rerun finishes with the same secret
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert f"Cluster-Secret: {generated}" in settings


def ctl(root, *argv, check=True):
    return root.run(["uec-clc-ha-ctl", *argv], check=check)


def ucf_leftovers(root):
    found = []
    for top in ("/etc",):
        for dirpath, _, names in os.walk(root.host_path(top)):
            found += [os.path.join(dirpath, n) for n in names if ".ucf-" in n]
    return found


def test_set_and_apply_then_a_changed_debconf_answer_agree(clc, deb):
    """One writer: set and apply go through ucf, so the postinst does not mistake them for hand edits."""
    preseed(clc)
    install(clc, deb)
    ctl(clc, "set", "VIP=198.51.100.101")
    ctl(clc, "apply")
    ctl(clc, "set", "Monitor-Interval=25")                   # set, not yet applied
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/ping-hosts string 198.51.100.2\n")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert ucf_leftovers(clc) == []
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert "VIP: 198.51.100.101" in settings and "Monitor-Interval: 25" in settings
    assert "Ping-Hosts: 198.51.100.2" in settings
    crm = clc.read("/etc/uec-clc-ha/cluster.crm").decode()
    assert "ip=198.51.100.101" in crm and "interval=25s" in crm and 'host_list="198.51.100.2"' in crm
    assert ctl(clc, "diff").returncode == 0                  # settings and generated files agree


def test_a_setting_set_back_to_its_default_is_not_brought_back_by_a_reconfigure(clc, deb):
    """debconf still holds the answer the postinst last acted on; `set --default` since must win (an arbiter
    removed so must stay removed through the next upgrade)."""
    preseed(clc, **{"Replication-Prefix": "29"})
    install(clc, deb)
    assert "Replication-Prefix: 29" in clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    ctl(clc, "set", "--default", "Replication-Prefix")
    ctl(clc, "apply")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert "\nReplication-Prefix: 29" not in settings, settings
    assert clc.run(["debconf-show", "uec-clc-ha"]).stdout.count("replication-prefix: 30") == 1
    assert ctl(clc, "diff").returncode == 0
    # a value preseeded since is kept (the answer no longer is the one the postinst acted on)
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/replication-prefix string 28\n")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert "Replication-Prefix: 28" in clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()


def test_apply_replaces_a_hand_edit_keeping_a_copy_and_purge_removes_what_apply_created(clc, deb):
    preseed(clc)
    install(clc, deb)
    edited = clc.read("/etc/uec-clc-ha/cluster.crm") + b"# admin: tried something\n"
    clc.write("/etc/uec-clc-ha/cluster.crm", edited, mode=0o600)
    ctl(clc, "set", "Replication-Link-Config=ifupdown")
    done = ctl(clc, "apply")
    assert "had been edited by hand" in done.stdout
    kept = [n for n in os.listdir(clc.host_path("/var/lib/uec-clc-ha/replaced")) if "cluster.crm" in n]
    assert len(kept) == 1
    assert clc.read(f"/var/lib/uec-clc-ha/replaced/{kept[0]}") == edited
    assert os.stat(clc.host_path(f"/var/lib/uec-clc-ha/replaced/{kept[0]}")).st_mode & 0o777 == 0o600
    assert clc.read("/etc/uec-clc-ha/cluster.crm") == golden("corosync-drbd84", "/etc/uec-clc-ha/cluster.crm")
    assert clc.exists("/etc/network/interfaces.d/uec-clc-ha-eth1") and ucf_leftovers(clc) == []
    # a hand edit of the stanza, then a change the postinst renders: ucf keeps the edit, and its
    # .ucf-dist must not land in interfaces.d, which ifupdown sources whole
    stanza = clc.read("/etc/network/interfaces.d/uec-clc-ha-eth1") + b"# mtu 9000 here\n"
    clc.write("/etc/network/interfaces.d/uec-clc-ha-eth1", stanza)
    clc.run(["debconf-set-selections"],
            input="uec-clc-ha uec-clc-ha/replication-local-address string 203.0.113.1\n"
                  "uec-clc-ha uec-clc-ha/replication-prefix string 29\n")
    done = clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert os.listdir(clc.host_path("/etc/network/interfaces.d")) == ["uec-clc-ha-eth1"]
    assert clc.read("/etc/network/interfaces.d/uec-clc-ha-eth1") == stanza
    assert clc.exists("/var/lib/uec-clc-ha/ucf-kept/uec-clc-ha-eth1.ucf-dist")
    assert "/var/lib/uec-clc-ha/ucf-kept/uec-clc-ha-eth1.ucf-dist" in done.stdout + done.stderr
    clc.run(["apt-get", "purge", "-y", "uec-clc-ha"])
    assert not clc.exists("/etc/network/interfaces.d/uec-clc-ha-eth1")
    assert not clc.exists("/var/lib/uec-clc-ha")
    assert "uec-clc-ha-eth1" not in clc.read("/var/lib/ucf/registry").decode()


def fake_cluster(root, xml, node="clc1", members=None, quorate=None, configuration=None):
    """crm_mon, crm_node and cibadmin answering with a recorded state (real crm_mon XML and CIB configuration from
    crm_simulate).  crm_node -n names ``node``; -l lists ``members`` ({name: "member" or "lost"}) and -q says
    ``quorate`` (crm_node asks a running controller, which crm_simulate has not: what corosync would say); without
    them, and cibadmin without a ``configuration``, the stand-ins fail as the real tools do with no cluster."""
    root.write("/tmp/crm_mon.xml", xml)
    node_lines = "".join(f"{i} {n} {state}\n" for i, (n, state) in enumerate(sorted((members or {}).items()), 1))
    root.write("/tmp/crm_node.l", node_lines)
    crm_node = (f'case "$1" in\n-n) echo {node} ;;\n'
                + ("-l) cat /tmp/crm_node.l ;;\n" if members else "")
                + (f"-q) echo {1 if quorate else 0} ;;\n" if quorate is not None else "")
                + '*) echo "crm_node: Could not connect to controller" >&2; exit 102 ;;\nesac')
    tools = [("crm_mon", "cat /tmp/crm_mon.xml"), ("crm_node", crm_node)]
    if configuration is not None:
        root.write("/tmp/cib-configuration.xml", configuration)
        tools.append(("cibadmin", "cat /tmp/cib-configuration.xml"))
    for tool, body in tools:
        root.run(["dpkg-divert", "--local", "--rename", "--divert", f"/usr/sbin/{tool}.real", "--add",
                  f"/usr/sbin/{tool}"])
        root.write(f"/usr/sbin/{tool}", f"#!/bin/sh\n# recorded cluster state (test stand-in)\n{body}\n",
                   mode=0o755)


def test_remove_is_refused_while_the_cluster_needs_the_agent_here(clc, deb, tmp_path):
    import crm_sim

    preseed(clc)
    install(clc, deb)
    sim = crm_sim.running_pair(tmp_path)
    fake_cluster(clc, crm_sim.crm_mon_xml(sim), node=sim.active)
    links_before = boot_state(clc)
    done = clc.run(["apt-get", "remove", "-y", "uec-clc-ha"], check=False)
    assert done.returncode != 0
    assert "NOT REMOVED: the running cluster uses ocf:ubuntu:eucaclc" in done.stdout + done.stderr
    assert f"crm node standby {sim.active}" in done.stdout + done.stderr
    assert clc.exists("/usr/lib/ocf/resource.d/ubuntu/eucaclc")
    assert "install ok installed" in clc.run(["dpkg-query", "-W", "-f", "${Status}", "uec-clc-ha"]).stdout
    assert boot_state(clc) == links_before                   # still out of boot start-up
    subprocess_standby(sim)
    clc.write("/tmp/crm_mon.xml", crm_sim.crm_mon_xml(sim))
    clc.run(["apt-get", "remove", "-y", "uec-clc-ha"])
    assert not clc.exists("/usr/lib/ocf/resource.d/ubuntu/eucaclc")


STACK_UNITS = ("corosync.service", "pacemaker.service", "sbd.service", "drbd.service", "corosync-qdevice.service")


def enablement(root):
    """{unit: what `systemctl is-enabled` says} of the cluster stack's units."""
    return {u: root.run(["systemctl", "is-enabled", u], check=False).stdout.strip() for u in STACK_UNITS}


def test_purge_of_a_node_that_never_formed_a_pair_goes_ahead_and_puts_the_stack_back(clc, deb, tmp_path):
    import subprocess

    import crm_sim

    # as on a host whose cluster stack is not enabled until cluster-init (the lab's image); Debian enables sbd
    clc.run(["systemctl", "disable", "corosync.service", "pacemaker.service"])
    before = enablement(clc)
    assert before == {"corosync.service": "disabled", "pacemaker.service": "disabled", "sbd.service": "enabled",
                      "drbd.service": "disabled", "corosync-qdevice.service": "disabled"}
    # A chroot starts no daemon: `service NAME start` is refused, as policy-rc.d refuses invoke-rc.d's (a stand-in
    # in front of the real service, which does everything else).  Started for real here, corosync and Pacemaker
    # would only keep cluster-init waiting for a CIB for minutes.
    clc.run(["dpkg-divert", "--local", "--rename", "--divert", "/usr/sbin/service.real", "--add", "/usr/sbin/service"])
    clc.write("/usr/sbin/service", '#!/bin/sh\n# test stand-in: a chroot starts no daemon\ncase "$2" in\n'
              'start | restart) echo "service: $1 $2: no daemon starts in this chroot" >&2; exit 1 ;;\nesac\n'
              'exec /usr/sbin/service.real "$@"\n', mode=0o755)
    # the install: start-cluster's default answer, the peer never came (Fencing none: a chroot has no
    # watchdog for SBD).  cluster-init goes the way it goes without systemd (update-rc.d, service): it records
    # each unit before it changes it, disables sbd, enables corosync and pacemaker, and fails to start corosync
    preseed(clc, Fencing="none")
    clc.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/start-cluster boolean true\n")
    done = install(clc, deb)
    assert "NOT DONE: `uec-clc-ha-ctl cluster-init --yes`: command service corosync start exited 1" in \
        done.stdout + done.stderr
    record = clc.read("/var/lib/uec-clc-ha/cluster-units").decode().splitlines()
    assert [line for line in record if not line.startswith("#")] == [
        "sbd.service enabled inactive", "drbd.service disabled inactive", "corosync-qdevice.service disabled inactive",
        "corosync.service disabled inactive", "pacemaker.service disabled inactive"]
    assert enablement(clc) == dict(before, **{"corosync.service": "enabled", "pacemaker.service": "enabled",
                                              "sbd.service": "disabled"})
    # its cluster as it then runs: the CIB loaded and stamped here, the peer down from the start, no quorum
    lone = crm_sim.alone(tmp_path / "sim")
    subprocess.run(["crm_attribute", "--type", "crm_config", "--set-name", "uec-clc-ha", "--name",
                    "uec-clc-ha-loaded", "--update", "0123abcd node=clc1 image-store-proxy=no source-address-route=no"],
                   env=lone.env(), check=True, stdout=subprocess.DEVNULL)
    configuration = subprocess.run(["cibadmin", "-Q", "-o", "configuration"], env=lone.env(), check=True,
                                   stdout=subprocess.PIPE, text=True).stdout
    fake_cluster(clc, crm_sim.crm_mon_xml(lone), node="clc1", members={"clc1": "member", "clc2": "lost"},
                 quorate=False, configuration=configuration)
    # Pacemaker's stored CIB is this pair's; the one Debian's own cluster left was set aside at cluster-init
    cib = "/var/lib/pacemaker/cib"
    for name, text in {"cib.xml": f"<cib>{configuration}<status/></cib>", "cib.xml.sig": "ours\n",
                       "cib-3.raw": "<cib/>", "cib-3.raw.sig": "ours\n", "cib.last": "3\n"}.items():
        clc.write(f"{cib}/{name}", text)
    debians = ('<cib><configuration><crm_config/><nodes><node id="1" uname="node1"/></nodes><resources/>'
               '</configuration></cib>')
    clc.run(["mkdir", "-p", "/var/lib/uec-clc-ha/replaced/pacemaker-cib"])
    clc.write("/var/lib/uec-clc-ha/replaced/pacemaker-cib/cib.xml", debians)
    clc.write("/var/lib/uec-clc-ha/replaced/pacemaker-cib/cib.xml.sig", "debians\n")
    done = clc.run(["apt-get", "purge", "-y", "uec-clc-ha"])
    output = done.stdout + done.stderr
    assert f"uec-clc-ha: removed this pair's CIB from {cib}" in output
    assert f"uec-clc-ha: the CIB of the cluster that ran here before uec-clc-ha is back in {cib}" in output
    assert sorted(os.listdir(clc.host_path(cib))) == ["cib.xml", "cib.xml.sig"]
    assert (clc.read(f"{cib}/cib.xml").decode(), clc.read(f"{cib}/cib.xml.sig").decode()) == (debians, "debians\n")
    assert "uec-clc-ha: removal goes ahead although the CIB uses ocf:ubuntu:eucaclc: clc1 never formed a pair " \
           "with clc2: no quorum, clc2 not a member" in output
    said = [line for line in output.splitlines() if line.startswith("uec-clc-ha: ") and "as before" in line]
    assert said == ["uec-clc-ha: sbd.service enabled again, as before uec-clc-ha",
                    "uec-clc-ha: corosync.service disabled again, as before uec-clc-ha",
                    "uec-clc-ha: pacemaker.service disabled again, as before uec-clc-ha"]
    assert "stopped" not in output                 # nothing runs in a chroot, and no systemd to ask
    assert enablement(clc) == before
    links = {n[3:]: n[0] for n in os.listdir(clc.host_path("/etc/rc2.d"))}          # the init scripts' too
    assert (links["corosync"], links["pacemaker"], links["sbd"]) == ("K", "K", "S")
    assert not clc.exists("/var/lib/uec-clc-ha") and not clc.exists("/var/lib/dpkg/info/uec-clc-ha.postrm")


def test_remove_is_refused_on_a_node_that_was_one_of_a_pair_even_alone(clc, deb, tmp_path):
    import crm_sim

    preseed(clc)
    install(clc, deb)
    lone = crm_sim.alone(tmp_path / "sim")
    clc.write("/var/lib/uec-clc-ha/paired", "2026-12-04 00:01:02 UTC: clc1 with clc2\n")
    fake_cluster(clc, crm_sim.crm_mon_xml(lone), node="clc1", members={"clc1": "member", "clc2": "lost"},
                 quorate=False)
    done = clc.run(["apt-get", "purge", "-y", "uec-clc-ha"], check=False)
    assert done.returncode != 0
    assert "NOT REMOVED: the running cluster uses ocf:ubuntu:eucaclc" in done.stdout + done.stderr
    assert "it is or was one of a running pair: /var/lib/uec-clc-ha/paired records" in done.stdout + done.stderr
    assert "install ok installed" in clc.run(["dpkg-query", "-W", "-f", "${Status}", "uec-clc-ha"]).stdout


def subprocess_standby(sim):
    import subprocess

    subprocess.run(["crm_attribute", "-N", sim.active, "-n", "standby", "-v", "on"], env=sim.env(), check=True)
    assert sim.simulate()["rg_uec"] == sim.other


def test_remove_keeps_eucalyptus_out_of_boot_while_its_data_is_on_drbd(clc, deb):
    preseed(clc)
    install(clc, deb)
    disabled = boot_state(clc)
    os.makedirs(clc.host_path("/mnt/uecdata/eucalyptus"))
    assert not clc.exists("/var/lib/eucalyptus")
    os.symlink("/mnt/uecdata/eucalyptus", clc.host_path("/var/lib/eucalyptus", follow=False))
    done = clc.run(["apt-get", "remove", "-y", "uec-clc-ha"])
    output = done.stdout + done.stderr
    assert "boot start-up of Eucalyptus is left disabled: /var/lib/eucalyptus still point" in output
    assert "uec-clc-ha-ctl restore-data --yes" in output
    assert boot_state(clc) == disabled


def test_upgrade_from_0_1_0_keeps_what_the_admin_set_and_follows_new_defaults(clc, deb):
    old = os.path.join(TOP, "tests", "fixtures", "uec-clc-ha_0.1.0_all.deb")
    preseed(clc)
    install(clc, old)
    res = clc.read("/etc/drbd.d/uec-clc.res") + b"# admin: checked 2026-11-25\n"
    clc.write("/etc/drbd.d/uec-clc.res", res, mode=0o600)
    settings = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf")
    unchanged = ["/etc/corosync/corosync.conf", "/etc/corosync/authkey", "/etc/modules-load.d/uec-clc-ha.conf",
                 "/etc/uec-clc-ha/eucalyptus-vnet.conf"]
    stats = {p: os.stat(clc.host_path(p)) for p in unchanged}
    done = install(clc, deb)
    assert clc.run(["dpkg-query", "-W", "-f", "${Version}", "uec-clc-ha"]).stdout == package_version()
    for path in unchanged:                                                      # not even rewritten
        st = os.stat(clc.host_path(path))
        assert (st.st_ino, st.st_mtime_ns) == (stats[path].st_ino, stats[path].st_mtime_ns), path
        assert clc.read(path) == golden("corosync-drbd84", path), path
    # 0.1.0 wrote every value out: what equals a default some release shipped now follows today's default
    # (a comment), what the preseed answered differently stays written out
    assert b"\nMonitor-Interval: 20\n" in settings and b"Load-Threshold" not in settings
    now = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()
    assert now == settings_file.following_defaults(settings.decode())
    assert "\n#Monitor-Interval: 10\n" in now and "\nVIP: 198.51.100.100\n" in now
    assert clc.read("/etc/uec-clc-ha/cluster.crm") == rendered_from(now.encode(), "/etc/uec-clc-ha/cluster.crm")
    # ... except where the admin edited: kept, the new version beside it
    assert clc.read("/etc/drbd.d/uec-clc.res") == res
    assert clc.read("/etc/drbd.d/uec-clc.res.ucf-dist") == golden("corosync-drbd84", "/etc/drbd.d/uec-clc.res")
    assert "kept your changed /etc/drbd.d/uec-clc.res" in done.stdout + done.stderr


DROP_IN = "/usr/lib/systemd/system/pacemaker.service.d/uec-clc-ha.conf"


def test_upgrade_from_0_3_0_keeps_the_pacemaker_drop_in_that_moved_to_usr(clc, deb):
    """0.3.0 shipped the drop-in under /lib (an alias of /usr/lib on merged /usr): dpkg must not
    delete the old path's file, which is the new one, when it removes 0.3.0's obsolete files."""
    preseed(clc)
    install(clc, os.path.join(TOP, "tests", "fixtures", "uec-clc-ha_0.3.0_all.deb"))
    assert clc.exists("/lib/systemd/system/pacemaker.service.d/uec-clc-ha.conf")
    install(clc, deb)
    assert clc.read(DROP_IN) == open(os.path.join(TOP, "src/systemd/pacemaker.service.d/uec-clc-ha.conf"), "rb").read()
    owner = clc.run(["dpkg-query", "-S", DROP_IN]).stdout
    assert owner.startswith("uec-clc-ha: ")
    clc.run(["apt-get", "purge", "-y", "uec-clc-ha"])
    assert not clc.exists(DROP_IN) and not clc.exists("/usr/lib/systemd/system/pacemaker.service.d")


def fake_package(root, name, version):
    """A .deb of NAME at VERSION (empty, no maintainer scripts) in the root's /tmp, for apt to upgrade to."""
    build = f"/tmp/fake-{name}"
    root.run(["mkdir", "-p", f"{build}/DEBIAN"])
    root.write(f"{build}/DEBIAN/control", f"Package: {name}\nVersion: {version}\nArchitecture: amd64\n"
                                          "Maintainer: test <test@example.org>\nDescription: stand-in upgrade\n")
    root.run(["dpkg-deb", "--build", "--root-owner-group", build, f"/tmp/{name}_{version}.deb"])
    return f"/tmp/{name}_{version}.deb"


def test_apt_does_not_upgrade_the_stack_under_the_cloud(clc, deb, tmp_path):
    import crm_sim

    preseed(clc)
    install(clc, deb)
    assert clc.exists("/etc/apt/apt.conf.d/60uec-clc-ha")
    sim = crm_sim.running_pair(tmp_path)
    fake_cluster(clc, crm_sim.crm_mon_xml(sim), node=sim.active)
    version = clc.run(["dpkg-query", "-W", "-f", "${Version}", "pacemaker"]).stdout
    newer = fake_package(clc, "pacemaker", version + "+test1")
    done = clc.run(["apt-get", "install", "-y", newer], check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "NOT RUN: apt would upgrade or remove pacemaker" in said
    assert f"`uec-clc-ha-ctl standby {sim.active}`" in said
    assert clc.run(["dpkg-query", "-W", "-f", "${Version}", "pacemaker"]).stdout == version     # dpkg never ran
    # on the standby node (the same state seen from the other node) apt goes on
    clc.write("/usr/sbin/crm_node", f"#!/bin/sh\necho {sim.other}\n", mode=0o755)
    done = clc.run(["apt-get", "install", "-y", newer], check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert clc.run(["dpkg-query", "-W", "-f", "${Version}", "pacemaker"]).stdout == version + "+test1"


def test_apt_holds_a_stopped_stack_stopped_while_dpkg_upgrades_it(clc, deb):
    """The admin stopped the stack (as for a release upgrade): apt's run holds it stopped and releases it after.

    The root has no systemd: systemctl is a stand-in that records its calls and says the units are inactive;
    crm_mon is Pacemaker's own, which finds no cluster here.  Real apt runs the hook and its Post-Invoke.
    """
    preseed(clc)
    install(clc, deb)
    clc.run(["dpkg-divert", "--local", "--rename", "--divert", "/usr/bin/systemctl.real", "--add",
             "/usr/bin/systemctl"])
    clc.write("/usr/bin/systemctl", "#!/bin/sh\n# test stand-in: records its calls\necho \"$*\" >> /tmp/systemctl.log\n"
              "case \"$1\" in is-active) exit 3;; esac\nexit 0\n", mode=0o755)
    version = clc.run(["dpkg-query", "-W", "-f", "${Version}", "pacemaker"]).stdout
    newer = fake_package(clc, "pacemaker", version + "+test2")
    done = clc.run(["apt-get", "install", "-y", newer], check=False)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "are held stopped while dpkg upgrades pacemaker" in said
    calls = clc.read("/tmp/systemctl.log").decode().splitlines()
    units = "corosync.service pacemaker.service sbd.service"
    assert f"mask --runtime --quiet {units}" in calls and f"unmask --runtime --quiet {units}" in calls
    assert calls.index(f"mask --runtime --quiet {units}") < calls.index(f"unmask --runtime --quiet {units}")
    assert not clc.exists("/run/uec-clc-ha/apt-held")
    assert clc.run(["dpkg-query", "-W", "-f", "${Version}", "pacemaker"]).stdout == version + "+test2"


def test_the_second_node_joins_from_a_two_line_preseed(clc, deb):
    """uec-clc-ha/join-token + uec-clc-ha/cluster-secret: a wrong secret fails configure with nothing written;
    the right one writes the first node's settings swapped, and debconf holds them, not the token."""
    from scenarios import full_raw
    from uec_clc_ha.cluster import node_facts
    from uec_clc_ha.config import join_token, keyring

    here = os.uname().nodename                     # the chroot's `uname -n`: the name the token is made for
    first = dict(full_raw("corosync-drbd84"), **{"Peer-Node": here})
    token = join_token.make(first, package_version())
    secret = first["Cluster-Secret"]

    before = snapshot_files(clc)
    clc.run(["debconf-set-selections"], input=f"uec-clc-ha uec-clc-ha/join-token string {token}\n"
                                              "uec-clc-ha uec-clc-ha/cluster-secret password "
                                              "another-pairs-secret-of-some-length\n")
    done = install(clc, deb, check=False)
    assert done.returncode != 0
    assert "is not the one of the pair 'uec-clc'" in done.stdout + done.stderr
    _, _, changed = diff_snapshots(before, snapshot_files(clc))
    assert not clc.exists("/etc/uec-clc-ha/uec-clc-ha.conf") and not clc.exists("/etc/corosync/authkey")
    # what debian/config (sh: base64 and gzip) read out of the token and offered as answers before the postinst
    # refused the secret
    offered = clc.run(["debconf-show", "uec-clc-ha"]).stdout
    for question, value in (("local-node", here), ("peer-node", "clc1"), ("local-address", first["Peer-Address"]),
                            ("replication-peer-address", first["Replication-Local-Address"]),
                            ("drbd-disk", first["DRBD-Disk"]), ("sbd-device", first["SBD-Device"]),
                            ("initial-primary", "false")):
        assert f"uec-clc-ha/{question}: {value}\n" in offered, (question, offered)

    clc.run(["debconf-set-selections"], input=f"uec-clc-ha uec-clc-ha/cluster-secret password {secret}\n")
    clc.run(["dpkg", "--configure", "-a"])
    raw = settings_file.parse(clc.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode())
    assert (raw["Local-Node"], raw["Peer-Node"], raw["Local-Address"], raw["Peer-Address"]) == \
        (here, "clc1", first["Peer-Address"], first["Local-Address"])
    assert raw["Replication-Local-Address"] == first["Replication-Peer-Address"]
    keys = keyring.derive(secret, first["Cluster-Name"])
    assert node_facts.settings_digest(raw, keys) == node_facts.settings_digest(first, keys)
    assert clc.exists("/etc/corosync/authkey")
    shown = clc.run(["debconf-show", "uec-clc-ha"]).stdout
    assert f"uec-clc-ha/local-address: {first['Peer-Address']}\n" in shown
    assert re.search(r"uec-clc-ha/join-token:\s*$", shown, re.M) and token not in shown
    for path in ("/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat"):
        assert secret.encode() not in clc.read(path), path
    settings_before = clc.read("/etc/uec-clc-ha/uec-clc-ha.conf")
    clc.run(["dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha"])
    assert clc.read("/etc/uec-clc-ha/uec-clc-ha.conf") == settings_before

"""The live pair through its own administration: fencing changed and changed back, a new ping host.

Each change is made the admin's way on both nodes (debconf's answer and
`dpkg-reconfigure`, or `uec-clc-ha-ctl set`, then `uec-clc-ha-ctl apply`
on each node) while a client writes through the VIP.  What counts: the live
CIB equals what the files say (no leftover object, nothing held back), the
Cloud Controller keeps its PID, the controllers' journals show no start or
stop of anything the change does not need, nothing acknowledged is lost,
and the client's longest gap is printed.

Fencing goes sbd -> ipmilan -> sbd.  The lab has no BMCs yet (they come
with the arbiter issue): the IPMI addresses are on a network no guest has a
route to, so while the pair is on ipmilan its fencing devices cannot reach
anything; the test checks the CIB after each step and, once back on sbd,
that sbd fences again (the power-loss scenario proves it end to end).
"""

import re
import pytest

from lablib import config, scenario
from lablib.observe import wait_for

# Run by `make lab-test`; `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = pytest.mark.lab_extended

IPMI = {"clc1": "203.0.113.201", "clc2": "203.0.113.202"}    # no guest has a route there: nothing is sent
def cib_objects(lab, node):
    """The ids of the live CIB's resources (primitives, groups, clones)."""
    xml = lab.exec(node, "cibadmin", "--query", "--scope", "resources", timeout=60).stdout
    return set(re.findall(r'<(?:primitive|group|clone|master) id="([^"]+)"', xml))


def reconfigure(lab, answers):
    """The admin's way: the answers preseeded and `dpkg-reconfigure` on both nodes, then apply on each."""
    said = {}
    for node in config.NODES:
        ipmi = {"ipmi-local-address": IPMI[node], "ipmi-peer-address": IPMI[config.peer(node)]}
        lines = "".join(f"uec-clc-ha uec-clc-ha/{q} {'password' if q == 'ipmi-password' else 'string'} "
                        f"{ipmi.get(q, v)}\n" for q, v in answers.items())
        lab.exec(node, "debconf-set-selections", stdin=lines, timeout=60)
        done = lab.exec(node, "dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha", timeout=600)
        said[node] = done.stdout + done.stderr
    return said


def apply_everywhere(lab):
    """`apply` on each node, then on the first again (what the first one held back, the second may load)."""
    out = []
    for node in (*config.NODES, next(iter(config.NODES))):
        out.append(lab.exec(node, "uec-clc-ha-ctl", "apply", timeout=600).stdout)
    return "\n".join(out)


def nothing_left(lab):
    for node in config.NODES:
        dry = lab.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=300).stdout
        assert "would run" not in dry and "not loaded yet" not in dry, dry


def test_fencing_sbd_to_ipmilan_and_back_leaves_no_device_behind_and_restarts_nothing(pair):
    watch = scenario.Watch(pair, "fencing-change")
    active = watch.active
    try:
        reconfigure(pair, {"fencing": "ipmilan", "ipmi-local-address": "", "ipmi-peer-address": "",
                           "ipmi-user": "fence", "ipmi-password": "lab-bmc-password"})
        apply_everywhere(pair)
        for node in config.NODES:
            objects = cib_objects(pair, node)
            assert {"st_ipmi_clc1", "st_ipmi_clc2"} <= objects and "st_sbd" not in objects, objects
            assert pair.exec(node, "systemctl", "is-enabled", "sbd.service", check=False).stdout.strip() == \
                "disabled"
        nothing_left(pair)
    finally:
        reconfigure(pair, {"fencing": "sbd"})
        apply_everywhere(pair)
    # sbd never stopped (the stacks were not restarted, and both nodes said so): st_sbd is loaded at once
    for node in config.NODES:
        objects = cib_objects(pair, node)
        assert "st_sbd" in objects and not [o for o in objects if o.startswith("st_ipmi")], objects
        assert pair.exec(node, "systemctl", "is-enabled", "sbd.service").stdout.strip() == "enabled"
    nothing_left(pair)
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, active) == watch.pid and pair.active(active) == active
    assert not set(touched) & scenario.CLOUD, touched                  # the fencing devices only
    # fencing works again through the disk: st_sbd runs (its monitor, fence_sbd list, succeeds)
    wait_for("st_sbd started", lambda: 'id="st_sbd" resource_agent="stonith:fence_sbd" role="Started"' in
             pair.exec(active, "crm_mon", "-1", "--output-as=xml").stdout, 300, step=3)
    print(f"\nfencing sbd -> ipmilan -> sbd on the live pair: client's longest gap {gap:.1f} s, "
          f"{len(watch.writer.acked)} records acknowledged, none lost; started/stopped: {touched}")


def test_a_new_ping_host_restarts_only_the_ping_clone(pair):
    old = pair.exec("clc1", "uec-clc-ha-ctl", "show", "Ping-Hosts").stdout.split(":", 1)[1].strip()
    watch = scenario.Watch(pair, "ping-host")
    active = watch.active
    try:
        scenario.set_on_both(pair, f"Ping-Hosts={old} {config.CLIENT}")
        apply_everywhere(pair)
        resources = pair.exec(active, "cibadmin", "--query", "--scope", "resources").stdout
        assert f'value="{old} {config.CLIENT}"' in resources
        nothing_left(pair)
    finally:
        scenario.set_on_both(pair, f"Ping-Hosts={old}")
        apply_everywhere(pair)
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, active) == watch.pid and pair.active(active) == active
    assert set(touched) <= {"res_ping"}, touched
    print(f"\na new ping host on the live pair: client's longest gap {gap:.1f} s; started/stopped: {touched}")


def test_new_sbd_timeouts_are_refused_on_the_live_pair_and_change_nothing(pair):
    scenario.restore(pair)
    before = pair.exec("clc1", "cat", "/etc/uec-clc-ha/cluster.crm").stdout
    settings = pair.exec("clc1", "cat", "/etc/uec-clc-ha/uec-clc-ha.conf").stdout
    pair.exec("clc1", "uec-clc-ha-ctl", "set", "SBD-Watchdog-Timeout=15", "SBD-Msgwait-Timeout=30", timeout=120)
    try:
        done = pair.exec("clc1", "uec-clc-ha-ctl", "apply", timeout=300, check=False)
        assert done.rc == 6 and "maintenance-mode=true" in done.stderr and "Nothing was written" in done.stderr
        assert pair.exec("clc1", "cat", "/etc/uec-clc-ha/cluster.crm").stdout == before
    finally:
        back = []
        for key in ("SBD-Watchdog-Timeout", "SBD-Msgwait-Timeout"):
            m = re.search(rf"^{key}: (\S+)$", settings, re.M)       # written out: the lab's; else the default
            back += [f"{key}={m.group(1)}"] if m else ["--default", key]
        pair.exec("clc1", "uec-clc-ha-ctl", "set", *back, timeout=120)
    assert pair.exec("clc1", "cat", "/etc/uec-clc-ha/uec-clc-ha.conf").stdout == settings
    nothing_left(pair)


def test_a_new_mount_option_is_remounted_in_place_and_restarts_nothing(pair):
    old = pair.exec("clc1", "uec-clc-ha-ctl", "show", "Mount-Options").stdout.split(":", 1)[1].strip()
    watch = scenario.Watch(pair, "mount-option")
    active = watch.active
    standby = config.peer(active)
    scenario.set_on_both(pair, f"Mount-Options={old},nodiratime")
    # from the standby node the CIB waits (a load there would restart the filesystem); from the active
    # node it is remounted in place and taken in maintenance mode
    held = pair.exec(standby, "uec-clc-ha-ctl", "apply", timeout=600).stdout
    assert f"run `uec-clc-ha-ctl apply` on {active} first" in held, held
    done = pair.exec(active, "uec-clc-ha-ctl", "apply", timeout=600).stdout
    assert "remount" in done, done
    pair.exec(standby, "uec-clc-ha-ctl", "apply", timeout=600)
    mounts = pair.exec(active, "findmnt", "-no", "OPTIONS", "/mnt/uecdata").stdout
    assert "nodiratime" in mounts, mounts
    crm_config = pair.exec(active, "cibadmin", "--query", "--scope", "crm_config").stdout
    assert 'name="maintenance-mode" value="true"' not in crm_config
    nothing_left(pair)
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, active) == watch.pid and pair.active(active) == active
    assert not set(touched) & scenario.CLOUD, touched
    print(f"\na new mount option on the live pair: remounted in place, client's longest gap {gap:.1f} s; "
          f"started/stopped: {touched}")
    # dropping it again needs the filesystem mounted afresh: refused, nothing written
    scenario.set_on_both(pair, f"Mount-Options={old}")
    refused = pair.exec(active, "uec-clc-ha-ctl", "apply", timeout=600, check=False)
    assert refused.rc == 6 and "drops nodiratime" in refused.stderr
    # accepted with --force: Pacemaker mounts it afresh (the cloud restarts, said beforehand)
    pair.exec(active, "uec-clc-ha-ctl", "apply", "--force", timeout=600)
    pair.exec(standby, "uec-clc-ha-ctl", "apply", timeout=600)
    scenario.wait_normal(pair, 900)
    assert "nodiratime" not in pair.exec(active, "findmnt", "-no", "OPTIONS", "/mnt/uecdata").stdout
    nothing_left(pair)

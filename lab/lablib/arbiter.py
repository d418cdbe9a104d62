"""The arbiter host (cc1, the cloud's Cluster Controller host) on a serving pair: booted, given
uec-clc-ha-arbiter with apt, and added to or removed from the pair the way an admin does it.

Called by `labctl boot cc1` / `kill cc1` (lablib.cli: the host like any VM)
and by the arbiter scenarios (tests/lab/test_lab_arbiter.py, on a pair
brought up without it: UEC_CLC_HA_LAB_ARBITER=0).  The lab's default pair
has its arbiter from the install on (lablib.pair.up: cc1 is installed
before the nodes, whose preseed names it).

The host gets what an admin's would (lablib.pair.install_arbiter_host):
its answers with debconf-set-selections (the pair's name and its
Cluster-Secret, which the postinst turns into the enrolment key and clears
from debconf), then `apt-get install` of corosync-qnetd (from the image's
local archive, config.LOCAL_ARCHIVE, as an air-gapped site carries one)
with python3-uec-clc-ha and uec-clc-ha-arbiter (the labdist share).  A pair
without it takes it live: `uec-clc-ha-ctl set Arbiter=ADDRESS` and `apply`
on clc1, then on clc2 (the first apply enrols clc1 and holds corosync's
reload, the second reloads both nodes at once:
uec_clc_ha.cluster.quorum_device), then on clc1 once more (it records what
clc2's reload made live), with the cloud serving throughout.
"""

import time

from . import config, guest, pair, state, vm


def running():
    return vm.pid_of(config.ARBITER) is not None


def boot(out, fresh=True):
    """Power the arbiter host on (a fresh disk unless ``fresh`` is False) and wait for its agent."""
    st = state.load()
    if running():
        return
    began = time.monotonic()
    pair.boot(config.ARBITER, st["image"], st["accel"], fresh=fresh)
    guest.wait_up(config.ARBITER, 600)
    out.write(f"{config.ARBITER}: booted in {time.monotonic() - began:.1f} s\n")


def install(out):
    """debconf-set-selections + apt-get install of corosync-qnetd and uec-clc-ha-arbiter on the arbiter host."""
    seconds = pair.install_arbiter_host()
    out.write(f"{config.ARBITER}: uec-clc-ha-arbiter installed in {seconds:.1f} s\n")


def set_on_pair(value, out):
    """`uec-clc-ha-ctl set Arbiter=VALUE` (or --default) and `apply` on clc1, then on clc2 (whose apply reloads
    both nodes and loads the CIB), then clc1 again (it notes the CIB clc2 loaded: without that note, a later
    change from clc1 is refused as loading over another node's file); {node: [what each apply said]}."""
    args = ["--default", "Arbiter"] if value is None else [f"Arbiter={value}"]
    for node in config.NODES:
        guest.exec_(node, ["uec-clc-ha-ctl", "set", *args], timeout=180).check()
    said = {}
    for node in (*config.NODES, next(iter(config.NODES))):
        began = time.monotonic()
        done = guest.exec_(node, ["uec-clc-ha-ctl", "apply"], timeout=900).check()
        said.setdefault(node, []).append(done.stdout + done.stderr)
        out.write(f"{node}: Arbiter {'removed' if value is None else value}: apply took "
                  f"{time.monotonic() - began:.1f} s\n")
    return said


def add(out):
    return set_on_pair(config.ARBITER_HOST["public"], out)


def remove(out):
    return set_on_pair(None, out)


def power_off():
    """The arbiter host's power cut (its qemu killed); True when it ran."""
    return vm.kill(vm.pid_of(config.ARBITER), config.ARBITER)

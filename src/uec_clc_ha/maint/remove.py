"""remove: what the prerm runs when the package goes (prerm-remove).

Called by uec_clc_ha.maint.__main__ for debian/prerm remove.  Refuses while
the running cluster needs the agent on this node, which it does on a node
that is or was one of a running pair (cluster.pairing), then gives boot
start-up of Eucalyptus back (unless its data lives on DRBD).  The cluster
configuration stays; purge (debian/postrm, in sh) removes it and puts the
cluster stack's units back as they were (host.unit_record).
"""

import os

from uec_clc_ha.cluster import crm_mon, pairing
from uec_clc_ha.data import drbd_state
from uec_clc_ha.errors import Refused, UecError
from uec_clc_ha.host import boot
from uec_clc_ha.host.paths import AGENT
from uec_clc_ha.maint import apt_guard
from uec_clc_ha.maint.configure import log


def prerm_remove(system, db=None):
    """The package goes: refuse while the running cluster needs the agent here; then boot start-up back.

    Removing the agent from under Pacemaker makes its next stop or monitor
    fail, and a failed stop gets the node fenced: while the live CIB uses
    ocf:ubuntu:eucaclc and this node still runs it, or is not in standby
    while it is or was one of a running pair, removal is refused with the
    commands to run first.  A node that never formed a pair (installed
    alone, the peer never came: no quorum ever, so the cluster could start
    nothing there) removes without refusal, saying why in one line; when
    that cannot be told (crm_node or the CIB does not answer), the refusal
    stands, as it always did.  Boot start-up of Eucalyptus is put back
    exactly as it was, except while its data directories are symlinks into
    the DRBD mount: Eucalyptus would then start at boot on whichever node,
    on an unmounted or stale copy, so it is left disabled and the way out
    is said.  The cluster configuration stays.
    """
    view = crm_mon.read(system)
    if view is not None and view.using(AGENT):
        node = _local_node(system)
        standby = view.nodes.get(node, {}).get("standby", False)
        running = view.active_on(node, AGENT)
        if running or not standby:
            found = None if running else pairing.verdict(system, node, view)
            if found is None or found.state != pairing.ALONE:
                raise Refused(_refusal(view, node, running, found))
            log(f"removal goes ahead although the CIB uses {AGENT}: {found.reason}; the cluster can start "
                "nothing here, so it needs no agent here")
    apt_guard.remove_hook(system)
    apt_guard.release(system)               # apt's Post-Invoke that would have done it goes with the package
    linked = drbd_state.data_on_drbd(system)
    if linked:
        log(f"boot start-up of Eucalyptus is left disabled: {', '.join(linked)} still point into the DRBD "
            "filesystem, so Eucalyptus started at boot would run on an unmounted or stale copy. To run "
            "Eucalyptus without the cluster: reinstall uec-clc-ha and run `uec-clc-ha-ctl restore-data "
            "--yes` (it copies the data back and puts real directories in place), then remove the package "
            f"again; what was disabled is recorded in {boot.STATE}.")
        return 0
    boot.restore(system, log)
    return 0


def _refusal(view, node, running, found):
    """The refusal's text: what needs the agent here, why, and the ways out."""
    ids = ", ".join(sorted({r.id for r in view.using(AGENT)}))
    why = ""
    if found is not None and found.state == pairing.PAIR:
        why = f"; it is or was one of a running pair: {found.reason}"
    elif found is not None:
        why = f"; whether it ever formed a pair cannot be told: {found.reason}"
    return (f"NOT REMOVED: the running cluster uses {AGENT} ({ids}) and this node ({node}) "
            f"{'still runs it' if running else 'is not in standby'}{why}. Without the agent its next stop "
            "fails, and a failed stop gets this node fenced. First move the cloud away and keep it "
            f"away: `crm node standby {node}` (wait until `crm_mon -1` shows nothing running on "
            f"{node}; `crm node online {node}` once uec-clc-ha is back), or take the resources out of "
            "the cluster (`crm resource stop rg_uec`, then `crm configure delete res_uec`), or stop "
            f"the cluster on this node (`systemctl stop pacemaker`). Then remove the package again.")


def _local_node(system):
    try:
        done = system.run(["crm_node", "-n"], rcs=None, timeout=15)
        if done.rc == 0 and done.stdout.strip():
            return done.stdout.strip()
    except UecError:
        pass
    return os.uname().nodename

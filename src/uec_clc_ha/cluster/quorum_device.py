"""This node's quorum on a live pair: two_node, or the arbiter's vote through corosync-qdevice, and how apply changes it.

Called by uec_clc_ha.cluster.live_apply.plan (`uec-clc-ha-ctl apply`, and
doctor's `applied` check, which lists what apply would run) when corosync
runs here, to order the CIB steps and corosync's reload.

Adding or removing the arbiter changes the quorum section of both nodes'
corosync.conf, and votequorum takes it on a reload (`corosync-cfgtool -R`
makes every node re-read its own file).  Reloaded while only one node's
file has the change, the two nodes would count votes differently (one
with two_node, one expecting the arbiter), and a node lost in that window
could leave the survivor without quorum.  So the change is reloaded once,
by the second node's apply, when both files have it, the way pcs pushes
the file to every node before its one reload:

  first node's apply    writes corosync.conf, tells its peer which quorum
                        its file has (a transient node attribute, as for
                        sbd), and holds the reload and the CIB; adding the
                        arbiter, it enables corosync-qdevice and starts it
                        (it cannot connect before the reload gives corosync
                        the device, and systemd restarts it until then:
                        the package's drop-in), removing it, it stops
                        corosync-qdevice (the peer's still votes).
  second node's apply   sees its peer's word: adding, reloads both nodes,
                        starts corosync-qdevice here, then loads the CIB
                        (priority-fencing-delay 0: from now on the
                        arbiter's vote decides a split); removing, loads the
                        CIB first (the fencing delay back before two_node
                        returns), reloads both nodes, then stops
                        corosync-qdevice here.

A node enrols with the arbiter before any of this (uec_clc_ha.cluster.arbiter,
from apply), so corosync-qdevice has its certificate when it starts.  An
arbiter replaced by another on a running pair is refused: remove it, then add
the new one.
"""

import re

from uec_clc_ha.cluster import node_word
from uec_clc_ha.errors import Refused
from uec_clc_ha.host import units

WORD = "uec-clc-ha-quorum"          # transient node attribute: the quorum this node's corosync.conf file has
UNIT = "corosync-qdevice.service"
TWO_NODE = "two_node"


def wanted(config):
    """The quorum the settings call for, as the nodes' word says it."""
    return f"arbiter {config.arbiter_host}:{config.arbiter_port}" if config.arbiter_host else TWO_NODE


def running(system):
    """The quorum corosync runs with here (its cmap), as the nodes' word says it."""
    def key(name):
        key = f"quorum.device.net.{name}"
        done = system.run(["corosync-cmapctl", "-g", key], rcs=None, timeout=15)
        m = re.search(rf"^{re.escape(key)} \(\w+\) = (\S+)$", done.stdout, re.M) if done.rc == 0 else None
        return m.group(1) if m else None
    host = key("host")
    if host is None:
        return TWO_NODE
    return f"arbiter {host}:{key('port') or '5403'}"


def said(system, node):
    """The quorum ``node`` last said its corosync.conf has, or None (nothing since it joined)."""
    return node_word.said(system, node, WORD)


def arrange(system, config, cib_steps, reload_step, reload_needed, step):
    """(steps, notes): the CIB steps and corosync's reload in the order the quorum needs, with corosync-qdevice's.

    ``cib_steps``: the steps that load cluster.crm (and what goes with it);
    ``reload_step``: `corosync-cfgtool -R` (with the file it applies when
    corosync.conf changed), ``reload_needed`` whether the file changed;
    ``step(what, argv)`` makes a live_apply.Step.  Only called when
    corosync runs here.
    """
    want, now = wanted(config), running(system)
    up = units.active(system, UNIT, starting=True)
    at_boot = units.enabled(system, UNIT)
    start = [step(f"{UNIT} enabled and started (it votes through the arbiter {config.arbiter_host})",
                  ("systemctl", "enable", UNIT)),
             step(f"{UNIT} started", ("systemctl", "start", "--no-block", UNIT))]
    stop = [step(f"{UNIT} stopped and disabled (no arbiter)", ("systemctl", "disable", "--now", UNIT))]
    if want == now:
        if config.arbiter_host:
            qdevice = [] if at_boot and up else start
        else:
            qdevice = stop if at_boot or up else []
        return cib_steps + ([reload_step] if reload_needed else []) + qdevice, []
    if now != TWO_NODE and want != TWO_NODE:
        raise Refused(f"the arbiter changes from {now[len('arbiter '):]} to {want[len('arbiter '):]} on a running "
                      "pair: corosync-qdevice keeps its connection to the arbiter it started with. Remove the "
                      "arbiter first (`uec-clc-ha-ctl set --default Arbiter` and `uec-clc-ha-ctl apply` on both "
                      "nodes), then set the new one and apply on both nodes. Nothing was written.")
    reload = [reload_step]
    tell = [] if said(system, config.local_node) == want else [
        step(f"tell {config.peer_node} that corosync.conf here has {want}", node_word.tell_argv(WORD, want))]
    adding = want != TWO_NODE
    if said(system, config.peer_node) != want:
        what = f"the arbiter {config.arbiter_host}" if adding else "two_node (no arbiter)"
        notes = [f"corosync.conf here now has {what}, and corosync keeps its quorum ({now}) until "
                 f"{config.peer_node}'s corosync.conf has it too: run `uec-clc-ha-ctl apply` on "
                 f"{config.peer_node}; that apply reloads both nodes at once (corosync-cfgtool -R) and loads "
                 f"the new cluster.crm. Until then the pair keeps its present quorum and fencing."]
        qdevice = (start if not (at_boot and up) else []) if adding else (stop if at_boot or up else [])
        return tell + qdevice, notes
    if adding:
        return tell + reload + start + cib_steps, []
    # corosync-qdevice leaves before the reload: stopped after it, the daemon
    # that lost its device section left votequorum's Qdevice flag on this node
    # (seen on the lab in two runs; the node that stopped it first never had
    # it).  Quorum holds meanwhile: both nodes' votes are 2 of the 3 expected.
    return tell + cib_steps + stop + reload, []

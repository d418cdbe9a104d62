"""After a second loss: let the node that waits for every vote have quorum, fence the node that is gone, serve.

Called by `uec-clc-ha-ctl unblock` (uec_clc_ha.cli.unblock).  Corosync's
votequorum arms wait_for_all whenever a node is not quorate: a node that
was left alone (the arbiter down and then the peer lost; or, either stack,
a node that started alone) is quorate again only once it has seen every
node at the same time.  That is what keeps a node that boots
alone from fencing a peer that still runs the cloud; it also means that a
pair whose other node is dead for good waits for it forever.  The admin
who knows the lost node is off (or cut off from the data and from the
arbiter) lifts the wait, the way pcs's `quorum unblock` does:
`corosync-cmapctl -s quorum.cancel_wait_for_all u8 1`.

plan() reads the pair (pair_status) and refuses (exit 6, nothing changed)
unless lifting the wait is both useful and safe:

  - the cluster runs here on Corosync (Heartbeat has no wait_for_all), with
    fencing (with `Fencing: none` nothing would stop the lost node's cloud);
  - this partition is not quorate and votequorum waits for every node, and
    the peer is not online here;
  - with an arbiter, corosync-qdevice is connected to it (without its vote
    this node stays one vote of three: lifting the wait would change nothing);
  - this node's DRBD is attached and UpToDate, or Primary: its copy holds
    every acknowledged write.  A node that booted alone has not started DRBD
    (nothing starts without quorum), and DRBD attaches a copy whose peer it
    could not outdate as Consistent: whether it is current is not known, so
    that node waits for its peer.  In practice unblock is for arbiter pairs:
    a two_node survivor keeps quorum, and a two_node node without quorum is
    one that started alone.  (DRBD would refuse to promote an Outdated
    copy anyway; the check says why before anything changes.)

unblock() lifts the wait and waits for the quorum, then for the cloud on
this node: Pacemaker fences the lost node through the pair's device before
it promotes or starts anything here (the lost node counts as unclean), so a
lost node that still ran the cloud is stopped first; where fencing fails the
cloud waits and nothing is promoted.  Unlike pcs, nothing is confirmed by
hand (`stonith_admin --confirm`): the pair's fencing is real and does it.
"""

from uec_clc_ha.cluster.moves import GROUP
from uec_clc_ha.errors import Refused, Waiting

CANCEL = ("corosync-cmapctl", "-s", "quorum.cancel_wait_for_all", "u8", "1")
QUORUM_WAIT = 60


def plan(config, doc):
    """What lifting the wait will do (the confirmation's text), or Refused with the condition and the way out."""
    local, peer = config.local_node, config.peer_node
    if config.cluster_stack != "corosync":
        raise Refused(f"Cluster-Stack is {config.cluster_stack}: only Corosync's votequorum waits for every node")
    if config.fencing == "none":
        raise Refused(f"Fencing is none: nothing would stop {peer}'s cloud if it still runs; "
                      f"bring {peer} back instead (or configure fencing: uec-clc-ha-ctl set Fencing=…)")
    if doc["cluster"] != "running":
        raise Refused(f"the cluster does not run on {local}: start it (systemctl start pacemaker) first")
    if doc["quorum"]["quorate"]:
        raise Refused(f"{local}'s partition is quorate: nothing waits for votes here "
                      "(uec-clc-ha-ctl status says why the cloud is not served)")
    if not doc["quorum"]["wait_for_all"]:
        raise Refused(f"{local} is not quorate but does not wait for every node (wait_for_all is not set): "
                      "lifting it would not give it quorum; uec-clc-ha-ctl status says which vote is missing")
    if doc["nodes"].get(peer, {}).get("online"):
        raise Refused(f"{peer} is online here: wait until the cluster has seen the votes it waits for")
    arbiter = doc["arbiter"]                  # present whenever the settings name an Arbiter (pair_status)
    if arbiter is not None and not arbiter["connected"]:
        raise Refused(f"the arbiter {config.arbiter_host} is not connected here ({arbiter['state']}): without its vote "
                      f"{local} stays one vote of three; bring the arbiter host back, then run unblock again")
    d = doc["drbd"]
    if d is None:
        raise Refused(f"DRBD {config.drbd_resource} does not run on {local} (it started without quorum): "
                      f"whether its copy holds the last writes is not known; bring {peer} back")
    if d["role"] != "Primary" and d["disk"] != "UpToDate":
        raise Refused(f"DRBD {config.drbd_resource}'s disk on {local} is {d['disk']}, not UpToDate: it may "
                      f"not hold the last writes; bring {peer} back")
    votes = "its own vote and the arbiter's" if config.arbiter_host else "its own vote (two_node)"
    after = (f"the held writes go on and the cloud keeps running on {local}" if doc["active"] == local
             else f"the cloud starts on {local}")
    return (f"lift wait_for_all on {local}: with {votes} it has quorum, Pacemaker fences {peer} "
            f"({config.fencing}) and {after}. {peer} must be off, or cut off from the data: if it still runs the "
            f"cloud, fencing stops it there")


def unblock(mover, timeout):
    """Lift the wait (the plan was confirmed), then wait for quorum and for the cloud serving here."""
    local = mover.c.local_node
    mover.run(*CANCEL)
    mover.say(f"unblock: wait_for_all lifted on {local}")
    mover.wait(lambda doc: doc["quorum"]["quorate"] is True, f"{local} quorate", min(QUORUM_WAIT, timeout))
    mover.say(f"unblock: {local} is quorate; Pacemaker fences {mover.c.peer_node} and then starts {GROUP} here")
    try:
        mover.wait(lambda doc: mover.serving_on(doc, local), f"the cloud serving on {local}", timeout)
    except Waiting as e:
        raise Waiting(f"{e}; uec-clc-ha-ctl status says what it waits for (a fencing that does not "
                      f"complete keeps the cloud stopped)") from None
    mover.say(f"unblock: the cloud serves on {local}")

"""Planned moves of the cloud: failover to the peer, standby and unstandby of a node, each waited for.

Called by `uec-clc-ha-ctl failover | standby NODE | unstandby NODE`
(uec_clc_ha.cli.failover, .standby, .unstandby); uec_clc_ha.cluster.unblock
reads and waits through a Mover too.  Each reads the pair first
(pair_status: crm_mon's XML and DRBD), refuses what would leave the cloud on
a copy that is not UpToDate, says what it is about to do (the CLI asks for
confirmation, or wants --yes), runs the cluster's own tools, and then waits,
printing each change, until the cluster has settled:

  failover    `crm_resource --move --resource rg_uec --node PEER`, waited for
              until the group, the VIP and a CLC that answers are on the peer;
              then `crm_resource --clear` (stickiness, not a constraint, keeps
              the cloud there).  On a timeout the constraint stays, and the
              message says how to clear it.
  standby     the node's permanent standby attribute on: everything leaves
              it; when it ran the cloud, the same checks as failover first.
  unstandby   the attribute off: waited for until the node is back, DRBD
              connected and both disks UpToDate (its resync done).
"""

import time

from uec_clc_ha.agent import clc_health
from uec_clc_ha.cluster import pair_status
from uec_clc_ha.errors import Refused, Waiting

GROUP = "rg_uec"
CLC_PORT = 8443
POLL = 2.0


class Mover:
    def __init__(self, system, config, out, clock=time.monotonic, sleep=time.sleep, health=None):
        self.system, self.c, self.out = system, config, out
        self.clock, self.sleep = clock, sleep
        self.health = health or (lambda url: clc_health.register_problem(url, 5))
        self.url = f"https://{config.vip}:{CLC_PORT}/register"

    def say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def read(self):
        outputs = pair_status.gather(self.system, self.c.drbd_version, arbiter=bool(self.c.arbiter_host))
        return pair_status.collect(self.c, outputs, drift=None)

    def run(self, *argv):
        self.system.run(list(argv), timeout=120)

    # -- what may be done ------------------------------------------------------------------------
    def _cluster(self, doc):
        if doc["cluster"] != "running":
            raise Refused(f"the cluster does not run on {self.c.local_node}: run this where it does")
        if not doc["quorum"]["quorate"]:
            raise Refused(f"{self.c.local_node}'s partition is not quorate: nothing can be moved safely")

    def _movable_to(self, doc, target):
        """Refused unless the cloud can move to target without losing a write."""
        self._cluster(doc)
        node = doc["nodes"].get(target)
        if node is None or not node["online"]:
            raise Refused(f"{target} is not online: the cloud cannot move there")
        if node["standby"] or node["maintenance"]:
            raise Refused(f"{target} is in {'standby' if node['standby'] else 'maintenance'}: "
                          f"`uec-clc-ha-ctl unstandby {target}` first")
        d = doc["drbd"]
        if d is None or d["connection"] != "Connected" or d["sync_percent"] is not None:
            state = "not configured here" if d is None else (
                f"resyncing ({d['sync_percent']:g}% in sync)" if d["sync_percent"] is not None else d["connection"])
            raise Refused(f"DRBD {self.c.drbd_resource} is {state}: {target}'s copy may not hold every write; "
                          "wait until it is Connected and UpToDate on both (uec-clc-ha-ctl status)")
        target_disk = d["disk"] if target == self.c.local_node else d["peer_disk"]
        if d["disk"] != "UpToDate" or d["peer_disk"] != "UpToDate":
            raise Refused(f"DRBD disks are {d['disk']}/{d['peer_disk']}: {target}'s copy is {target_disk}, "
                          "not UpToDate; moving the cloud there would lose writes")
        bans = [b for b in doc["constraints"] if b["node"] == target]
        if bans:
            raise Refused(f"{', '.join(b['id'] for b in bans)} keeps resources off {target}: "
                          f"`crm resource clear {GROUP}` (or wait for DRBD's resync), then again")

    def plan_failover(self, doc):
        """(source, target, what will happen) or Refused."""
        self._cluster(doc)
        source = doc["active"]
        if source is None:
            raise Refused("the cloud does not run on one node now: nothing to fail over "
                          "(uec-clc-ha-ctl status says why)")
        target = self.c.peer_node if source == self.c.local_node else self.c.local_node
        self._movable_to(doc, target)
        return source, target, (f"move the cloud from {source} to {target}: the CLC stops on {source} and "
                                f"starts on {target}, and clients lose it until it answers there")

    def plan_standby(self, doc, node):
        self._known(node)
        self._cluster(doc)
        if doc["nodes"].get(node, {}).get("standby"):
            return None
        if doc["active"] == node:
            target = self.c.peer_node if node == self.c.local_node else self.c.local_node
            self._movable_to(doc, target)
            return (f"put {node} in standby: the cloud moves to {target} (clients lose it until it answers "
                    f"there), and {node} runs nothing until `uec-clc-ha-ctl unstandby {node}`")
        return (f"put {node} in standby: it runs nothing, and the cloud has no node to fail over to until "
                f"`uec-clc-ha-ctl unstandby {node}`")

    def plan_unstandby(self, doc, node):
        self._known(node)
        self._cluster(doc)
        if not doc["nodes"].get(node, {}).get("standby"):
            return None
        return f"take {node} out of standby: DRBD resyncs it, and it is again the cloud's standby node"

    def _known(self, node):
        if node not in (self.c.local_node, self.c.peer_node):
            raise Refused(f"{node} is not a node of this pair ({self.c.local_node}, {self.c.peer_node})")

    # -- doing it -----------------------------------------------------------------------------------
    def failover(self, source, target, timeout):
        self.run("crm_resource", "--move", "--resource", GROUP, "--node", target)
        self.say(f"failover: asked the cluster to move {GROUP} to {target}")
        try:
            self.wait(lambda doc: self.serving_on(doc, target), f"the cloud serving on {target}", timeout)
        except Waiting as e:
            raise Waiting(f"{e}; the move constraint stays until it does: `crm_resource --clear --resource "
                          f"{GROUP}` once the cloud runs on {target}") from None
        self.run("crm_resource", "--clear", "--resource", GROUP)
        self.say(f"failover: the cloud serves on {target}; the move constraint is cleared "
                 f"(stickiness keeps it there)")

    def standby(self, node, timeout, cloud_moves):
        """``cloud_moves``: node ran the cloud (plan_standby checked its peer can take it)."""
        peer = self.c.peer_node if node == self.c.local_node else self.c.local_node
        self.run("crm_attribute", "--type", "nodes", "--node", node, "--name", "standby", "--update", "on")
        self.say(f"standby: {node} is in standby")

        def settled(doc):
            if any(node in r["nodes"] for r in doc["resources"]):
                return False
            return self.serving_on(doc, peer) if cloud_moves else True
        self.wait(settled, f"{node} running nothing" + (f", the cloud serving on {peer}" if cloud_moves else ""),
                  timeout)
        self.say(f"standby: {node} runs nothing" + (f"; the cloud serves on {peer}" if cloud_moves else ""))

    def unstandby(self, node, timeout):
        self.run("crm_attribute", "--type", "nodes", "--node", node, "--name", "standby", "--update", "off")
        self.say(f"unstandby: {node} is out of standby")

        def settled(doc):
            n = doc["nodes"].get(node, {})
            d = doc["drbd"] or {}
            return (n.get("online") and not n.get("standby") and d.get("connection") == "Connected"
                    and d.get("disk") == d.get("peer_disk") == "UpToDate" and d.get("sync_percent") is None
                    and doc["active"] is not None)
        self.wait(settled, f"{node} back, DRBD Connected and UpToDate on both", timeout)
        self.say(f"unstandby: {node} is the cloud's standby node again")

    def serving_on(self, doc, node):
        if doc["active"] != node or doc["vip"]["on"] != node:
            return False
        return self.health(self.url) is None

    def wait(self, done, what, timeout):
        """Poll the pair until done(doc); each change of where resources run is printed.  Waiting at timeout."""
        deadline = self.clock() + timeout
        shown = None
        while True:
            doc = self.read()
            state = tuple(sorted(f"{r['id']} {r['role']} {' '.join(r['nodes'])}".strip()
                                 for r in doc["resources"] if r["nodes"] or r["role"] != "Stopped"))
            if state != shown:
                before = set(shown or ())
                for line in state:
                    if line not in before:
                        self.say(f"  {line}")
                shown = state
            if done(doc):
                return doc
            if self.clock() >= deadline:
                raise Waiting(f"not yet {what} after {timeout} s")
            self.sleep(POLL)

"""The fencing probe: level 1 of each node's fencing topology, in front of fence_sbd.

Called by its entry point, /usr/sbin/fence_uec_clc_ha_probe, which
Pacemaker's fencer runs (as it runs every fence agent: the device's
parameters on standard input, one key=value per line) when a node must be
fenced and the pair has no arbiter.  It never fences anything itself: it
decides how long to wait before fence_sbd (level 2) may fence, and then fails
on purpose so that the fencer goes on to level 2.

Why: with two nodes and no third vote, a node cannot tell a dead peer from
one it is cut off from, so Pacemaker's priority-fencing-delay makes every
fencing of the node that runs the cloud wait, also when that node is
already dead (a power loss, the common case).  The shared SBD disk can tell
the difference: a live node's sbd servant clears a `test` message in its
mailbox within about a loop (1 s), a dead or frozen node never does.

    target did not clear the test within Fencing-Probe-Window  -> wait 0 s (it is dead: fence now)
    target cleared it (a split: both nodes alive)               -> wait
        + 2 x Fencing-Delay   when this node reaches none of the Ping-Hosts (it is the one cut off)
        + 1 x Fencing-Delay   when the target runs the cloud (the node with the cloud fences first)
                              (neither known: the node whose name sorts first fences first)

So in a split the node cut from everything loses, and otherwise the node with
the cloud keeps it.  A disk too slow to show the answer within the window
gives a false "dead": both nodes then fence each other at once, and nothing
is lost (DRBD is fenced too), but the cloud waits until one boots; the
window is set from the lab's measurement of a loaded servant
(doc/configuration.md).  Exit codes are fence-agents': 0 done, 1 failed.
"""

import sys
import time
from dataclasses import dataclass

from uec_clc_ha.cluster import sbd_slots
from uec_clc_ha.errors import (BadParameter, CommandFailure, DeviceProblem, NotFound, PermissionProblem, UecError,
                               guarded)
from uec_clc_ha.host.system import System

CLOUD_RESOURCE = "rg_uec"
ACTIONS = ("reboot", "off", "on", "status", "monitor", "list", "metadata", "validate-all")


@dataclass(frozen=True)
class Request:
    """One run's parameters, as the fencer handed them."""

    action: str
    target: str
    device: str
    ping_hosts: tuple
    delay: int
    window: float
    resource: str


def parse(lines, argv=()):
    """The fencer's key=value lines (and `-o ACTION`/`--action=ACTION` on the command line) as a Request."""
    args = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        args[key.strip()] = value.strip()
    argv = list(argv)
    for i, word in enumerate(argv):
        if word in ("-o", "--action") and i + 1 < len(argv):
            args["action"] = argv[i + 1]
        elif word.startswith("--action="):
            args["action"] = word.split("=", 1)[1]
    action = args.get("action", "reboot")
    if action not in ACTIONS:
        raise BadParameter(f"action: must be one of {', '.join(ACTIONS)}")
    target = args.get("plug") or args.get("port") or args.get("nodename") or ""
    try:
        delay = int(args.get("fencing_delay", "15"))
        window = float(args.get("window", "3"))
    except ValueError:
        raise BadParameter("fencing_delay and window: must be numbers of seconds") from None
    if delay < 0 or window <= 0:
        raise BadParameter("fencing_delay: must be 0 or more; window: more than 0")
    return Request(action, target, args.get("devices", ""), tuple(args.get("ping_hosts", "").split()),
                   delay, window, args.get("resource", CLOUD_RESOURCE))


def wait_for(answer, reaches_ping, target_runs_cloud, local, target, delay):
    """Seconds to wait before fence_sbd may fence ``target`` (see the module's table)."""
    if not answer.answered:
        return 0
    wait = 0
    if not reaches_ping:
        wait += 2 * delay
    if target_runs_cloud is None:
        target_runs_cloud = target < local
    if target_runs_cloud:
        wait += delay
    return wait


def reaches_any(system, hosts):
    """True when one of ``hosts`` answers a ping (or none are configured: nothing to tell)."""
    if not hosts:
        return True
    for host in hosts:
        done = system.run(["ping", "-n", "-q", "-c", "1", "-W", "1", host], rcs=None, timeout=5)
        if done.rc == 0:
            return True
    return False


def runs_resource(system, resource, node):
    """True/False: whether this node's CIB says ``node`` runs ``resource``; None when it cannot tell, or the
    resource runs nowhere (between a stop and a start): both nodes then fall back to the same tie-break,
    where answering False on both would let them fence each other at once."""
    try:
        done = system.run(["crm_resource", "--locate", "--resource", resource], rcs=None, timeout=20)
    except (CommandFailure, UecError):
        return None
    if done.rc != 0:
        return None
    where = set()
    for line in done.stdout.splitlines():
        if "is running on:" in line:
            where.add(line.rsplit(":", 1)[1].split()[0])
    return (node in where) if where else None


def local_name(system):
    return system.read("/proc/sys/kernel/hostname").strip()


def fence(system, request, log, sleep=time.sleep):
    """The reboot/off action: look, wait what the table says, then fail so that level 2 fences."""
    local = local_name(system)
    disk = sbd_slots.Disk(system, request.device)
    answer = sbd_slots.ask(disk, request.target, local, request.window)
    if not answer.answered:
        why = "did not clear its SBD test" if answer.found == "clear" else f"has an unread {answer.found} message"
        log(f"{request.target} {why} within {request.window:g} s: not alive, fence_sbd fences it now")
        return 1
    reaches = reaches_any(system, request.ping_hosts)
    runs = runs_resource(system, request.resource, request.target)
    wait = wait_for(answer, reaches, runs, local, request.target, request.delay)
    log(f"{request.target} answered its SBD test in {answer.seconds:.1f} s: alive (a split); "
        f"this node {'reaches' if reaches else 'reaches none of'} the ping hosts, "
        f"{request.target} {'runs' if runs else 'does not run' if runs is False else 'may run'} the cloud: "
        f"fence_sbd fences it after {wait} s")
    if wait:
        sleep(wait)
    return 1


def monitor(system, request, log):
    """The device works when the disk holds an SBD header and this node's own slot."""
    disk = sbd_slots.Disk(system, request.device)
    disk.slot_of(local_name(system))
    return 0


def run(system, request, log, sleep=time.sleep):
    """Dispatch one action; exit code as fence-agents give it (0 done / on, 1 failed, 2 off)."""
    if request.action == "metadata":
        log(METADATA, plain=True)
        return 0
    if not request.device:
        raise BadParameter("devices: the SBD device is required")
    if request.action in ("monitor", "validate-all"):
        return monitor(system, request, log)
    if request.action == "list":
        for _, name in sbd_slots.Disk(system, request.device).names():
            log(name, plain=True)
        return 0
    if not request.target:
        raise BadParameter("plug: the node to fence is required")
    if request.action == "status":
        sbd_slots.Disk(system, request.device).slot_of(request.target)
        return 0
    if request.action == "on":
        return 0
    try:
        return fence(system, request, log, sleep)
    except (DeviceProblem, NotFound, PermissionProblem) as e:
        log(f"cannot look at {request.target} through the disk ({e}): fence_sbd fences it now")
        return 1


METADATA = """<?xml version="1.0" ?>
<resource-agent name="fence_uec_clc_ha_probe" shortdesc="Look at a node through the SBD disk before fence_sbd fences it">
<longdesc>Level 1 of uec-clc-ha's fencing topology when the pair has no arbiter. It writes a test message into the
target's clear SBD mailbox and waits up to window seconds for the target's sbd to clear it. A target that does not
answer is dead: the agent fails at once, and fence_sbd (level 2) fences it without delay. A target that answers is
alive, so the nodes are split: the agent waits (2 x fencing_delay when this node reaches none of ping_hosts, plus
fencing_delay when the target runs the cloud), then fails, so that the node cut off loses, and otherwise the node
with the cloud keeps it. It never fences anything itself. See fence_uec_clc_ha_probe(8).</longdesc>
<vendor-url>https://packages.debian.org/uec-clc-ha</vendor-url>
<parameters>
	<parameter name="action" unique="0" required="1">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot" />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
	<parameter name="plug" unique="0" required="1" obsoletes="port">
		<getopt mixed="-n, --plug=[id]" />
		<content type="string" />
		<shortdesc lang="en">The node to fence (its SBD slot name)</shortdesc>
	</parameter>
	<parameter name="port" unique="0" required="0" deprecated="1">
		<getopt mixed="-n, --plug=[id]" />
		<content type="string" />
		<shortdesc lang="en">The node to fence (its SBD slot name)</shortdesc>
	</parameter>
	<parameter name="devices" unique="0" required="1">
		<content type="string" />
		<shortdesc lang="en">The SBD device</shortdesc>
	</parameter>
	<parameter name="ping_hosts" unique="0" required="0">
		<content type="string" />
		<shortdesc lang="en">Addresses a node on the public network reaches (space-separated)</shortdesc>
	</parameter>
	<parameter name="fencing_delay" unique="0" required="0">
		<content type="integer" default="15" />
		<shortdesc lang="en">Seconds: the wait unit in a split</shortdesc>
	</parameter>
	<parameter name="window" unique="0" required="0">
		<content type="second" default="3" />
		<shortdesc lang="en">Seconds the target's sbd has to clear the test</shortdesc>
	</parameter>
	<parameter name="resource" unique="0" required="0">
		<content type="string" default="rg_uec" />
		<shortdesc lang="en">The resource that is the cloud</shortdesc>
	</parameter>
</parameters>
<actions>
	<action name="on" automatic="0" />
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="monitor" />
	<action name="metadata" />
	<action name="validate-all" />
</actions>
</resource-agent>
"""


def main(argv, stdin=None, stdout=None, stderr=None, system=None):
    """The agent's top level: parameters from stdin (the fencer's way) or the command line; errors become exit 1."""
    stdin = stdin or sys.stdin
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    system = system or System("/")

    def log(text, plain=False):
        print(text if plain else f"fence_uec_clc_ha_probe: {text}", file=stdout if plain else stderr, flush=True)

    def action():
        lines = [] if stdin.isatty() else stdin.read().splitlines()
        lines += [w[2:] for w in argv if w.startswith("--") and "=" in w and not w.startswith("--action=")]
        return run(system, parse(lines, argv), log)

    rc = guarded("fence_uec_clc_ha_probe", action, stderr)
    return 0 if rc == 0 else 1

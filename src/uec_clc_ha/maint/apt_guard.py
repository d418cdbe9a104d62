"""apt-guard: refuses an apt run that would restart the cluster stack under the cloud unannounced.

Called by apt before it runs dpkg (DPkg::Pre-Install-Pkgs in
paths.APT_HOOK_CONF, which the postinst writes and prerm-remove takes away)
through /usr/lib/uec-clc-ha/apt-guard, which runs `python3 -m
uec_clc_ha.maint apt-guard`.  apt hands the hook its configuration and the
packages it is about to install, upgrade or remove (protocol version 2, on
stdin).

The maintainer scripts of the cluster stack restart their daemons on every
upgrade or reinstall (measured on the lab: reinstalling pacemaker on the
node that ran the cloud stopped the cloud there and started it on the peer,
51 of 547 one-second polls of the VIP failing, with no word to the admin).
So when one of STACK is about to be unpacked or removed on the node that
runs the cloud, the run is refused before dpkg touches anything, with the
command that moves the cloud first.  Anywhere else (the standby node, a
node without a running cluster, a cluster in maintenance mode) it lets apt
go on.  `-o UEC-CLC-HA::Allow-Cloud-Move=true` goes ahead anyway.

Those maintainer scripts also start the daemons where the admin stopped
them (`deb-systemd-invoke restart` of an enabled unit): measured on the lab,
the Debian 12 -> 13 upgrade of a node whose cluster stack the admin had
stopped started corosync and sbd half-upgraded, joined the node to the
cluster mid-upgrade, and sbd, its libraries from two releases, reset the
node in the middle of dpkg's configure run.  So on a node of the pair
(settings in place) whose corosync and pacemaker are stopped, the guard
holds HELD stopped for the dpkg run (`systemctl mask --runtime`, recorded
in paths.APT_HELD) and apt's DPkg::Post-Invoke releases them when dpkg is
done (release()); they stay stopped as the admin left them, and a runtime
mask is gone at the next boot whatever happens.

`dpkg -i` alone runs no apt hook: uec-clc-ha-ctl(8) says to use apt, or to
move the cloud first.  A failure of the guard itself never blocks apt: it
says so and lets apt go on.
"""

import sys

from uec_clc_ha.cluster import crm_mon
from uec_clc_ha.host.paths import AGENT, APT_GUARD, APT_HELD, APT_HOOK_CONF, SETTINGS_PATH

# Packages whose maintainer scripts stop or restart a daemon the cloud depends on.
STACK = ("pacemaker", "corosync", "sbd", "drbd-utils")
ALLOW = "UEC-CLC-HA::Allow-Cloud-Move"
# What a stack package's maintainer script would start on a node where the admin stopped the cluster.
HELD = ("corosync.service", "pacemaker.service", "sbd.service")


HOOK = f"""// Written by the postinst of uec-clc-ha, removed with the package (not a conffile).
// Before dpkg runs, {APT_GUARD} stops an upgrade or removal of the cluster stack
// on the node that runs the cloud, naming the command that moves the cloud first.
DPkg::Pre-Install-Pkgs {{ "{APT_GUARD}"; }};
DPkg::Tools::Options::{APT_GUARD} "";
DPkg::Tools::Options::{APT_GUARD}::Version "2";
// After dpkg, it releases what it held stopped for the run (a stopped cluster stack stays stopped).
DPkg::Post-Invoke {{ "if [ -e {APT_HELD} ] && [ -x {APT_GUARD} ]; then {APT_GUARD} release; fi"; }};
"""


def install_hook(system):
    """Write apt's hook configuration (the postinst, every configure)."""
    if system.read_or_none(APT_HOOK_CONF) != HOOK.encode():
        system.write_atomic(APT_HOOK_CONF, HOOK, mode=0o644)


def remove_hook(system):
    """Take apt's hook away with the program it runs (the prerm, on remove)."""
    system.remove(APT_HOOK_CONF)


def parse(stream):
    """(apt configuration {key: value}, [(package, old version, new version or "**REMOVE**")])."""
    first = stream.readline().strip()
    if first != "VERSION 2":
        return {}, []
    options = {}
    for line in stream:
        line = line.rstrip("\n")
        if not line:
            break
        key, sep, value = line.partition("=")
        if sep:
            options[key] = value
    packages = []
    for line in stream:
        words = line.split()
        if len(words) >= 5:
            name, old, _, new, target = words[:5]
            packages.append((name.split(":")[0], old, "**REMOVE**" if target == "**REMOVE**" else new))
    return options, packages


def touched(packages):
    """The STACK packages apt is about to unpack (upgrade, reinstall, downgrade) or remove."""
    return sorted({name for name, old, new in packages if name in STACK and old != "-"})


def check(system, stream, err=sys.stderr):
    """0 to let apt go on, 1 to stop it (the reason on ``err``)."""
    options, packages = parse(stream)
    stack = touched(packages)
    if not stack:
        return 0
    view = crm_mon.read(system)
    if view is None:                        # Pacemaker does not answer here
        if system.exists(SETTINGS_PATH) and not _stack_running(system):
            hold(system, stack, err)
        return 0
    if view.maintenance or options.get(ALLOW, "").lower() in ("1", "true", "yes"):
        return 0
    node = _local_node(system)
    if not view.active_on(node, AGENT):
        return 0
    peers = [n for n, state in view.nodes.items() if n != node]
    peer = peers[0] if peers else "the other node"
    err.write(
        f"uec-clc-ha: NOT RUN: apt would upgrade or remove {', '.join(stack)}, whose maintainer scripts "
        f"restart the cluster stack on {node}, and {node} runs the cloud: it would stop here and start on "
        f"{peer} unannounced (a client waits for the Cloud Controller to start there).\n"
        f"uec-clc-ha: move it first: `uec-clc-ha-ctl standby {node}` (the cloud moves to {peer}, checked and "
        f"waited for), run apt again, then `uec-clc-ha-ctl unstandby {node}` (the cloud stays on {peer}).\n"
        f"uec-clc-ha: to go ahead anyway: apt-get -o {ALLOW}=true ...\n")
    return 1


def hold(system, stack, err):
    """Keep HELD stopped for this dpkg run: runtime masks, recorded for release()."""
    done = system.run(["systemctl", "mask", "--runtime", "--quiet", *HELD], rcs=None, timeout=60)
    if done.rc != 0:
        err.write(f"uec-clc-ha: could not hold {', '.join(HELD)} stopped for this dpkg run (systemctl: "
                  f"{done.stderr.strip() or done.rc}); the maintainer scripts of {', '.join(stack)} may start "
                  "them; letting apt go on\n")
        return
    system.write_atomic(APT_HELD, "".join(f"{unit}\n" for unit in HELD))
    err.write(f"uec-clc-ha: the cluster stack is stopped on this node: {', '.join(HELD)} are held stopped while "
              f"dpkg upgrades {', '.join(stack)} (their maintainer scripts would start them half-upgraded) and "
              "released when dpkg is done; they start at the next boot, or with `systemctl start pacemaker`.\n")


def release(system, err=sys.stderr):
    """Lift what hold() masked (apt's DPkg::Post-Invoke; the prerm on remove).  0 always: apt goes on."""
    held = (system.read_or_none(APT_HELD) or b"").decode().split()
    try:
        if held:
            system.run(["systemctl", "unmask", "--runtime", "--quiet", *held], timeout=60)
        system.remove(APT_HELD)
    except Exception as e:                   # never what breaks the admin's apt; the masks go at boot anyway
        err.write(f"uec-clc-ha: could not release {', '.join(held)} ({type(e).__name__}: {e}); "
                  f"`systemctl unmask --runtime {' '.join(held)}`, or they are released at the next boot\n")
    return 0


def guarded_check(system, stream, err=sys.stderr):
    """check(), except that a failure of the guard itself never stops apt (it is said instead)."""
    try:
        return check(system, stream, err)
    except Exception as e:                   # the guard must never be what breaks the admin's apt
        err.write(f"uec-clc-ha: apt-guard could not tell where the cloud runs ({type(e).__name__}: {e}); "
                  "letting apt go on\n")
        return 0


def _stack_running(system):
    done = system.run(["systemctl", "is-active", "--quiet", "corosync.service", "pacemaker.service"], rcs=None,
                      timeout=30)
    return done.rc == 0


def _local_node(system):
    done = system.run(["crm_node", "-n"], rcs=None, timeout=15)
    return done.stdout.strip() if done.rc == 0 else ""

"""Facts about the host that settings marked "auto" depend on.

Called by the settings pipeline (config.pipeline.build, for every CLI
command and the maintainer helpers) before rendering, so rendering itself
stays pure; config.settings.resolve turns these facts into settings.  The
facts: the DRBD module generation, the form of network configuration the
host uses, whether it has UEC's image-store-proxy, and whether it has a
default route.  Every probe reads through System, so tests give it a
temporary root.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class HostFacts:
    """What "auto" settings resolve to on this host, and how that was found."""

    drbd_version: str
    drbd_version_source: str
    network_config: str
    network_config_source: str
    image_store_proxy: str = "none"
    image_store_proxy_source: str = "not probed"
    source_address_route: str = "default"
    source_address_route_source: str = "not probed"


DRBD_VERSION_RE = re.compile(r"^version:\s*([0-9]+)\.([0-9]+)", re.M)


def drbd_generation(system):
    """('8.4' or '9', how it was found), from the loaded module or the installed one."""
    proc = system.read_or_none("/proc/drbd")
    if proc:
        m = DRBD_VERSION_RE.search(proc.decode("ascii", "replace"))
        if m:
            return ("9" if int(m.group(1)) >= 9 else "8.4"), "/proc/drbd (loaded module)"
    if system.is_live and system.which("modinfo"):
        done = system.run(["modinfo", "-F", "version", "drbd"], rcs=None)
        m = re.match(r"([0-9]+)\.", done.stdout.strip())
        if done.rc == 0 and m:
            return ("9" if int(m.group(1)) >= 9 else "8.4"), "modinfo drbd (installed module)"
    return "8.4", "default: no DRBD module found; stock Debian and Ubuntu kernels carry 8.4"


def network_config_style(system):
    """('netplan' or 'ifupdown', how it was found)."""
    if any(name.endswith(".yaml") for name in system.listdir("/etc/netplan")):
        return "netplan", "/etc/netplan has configuration"
    if system.exists("/etc/network/interfaces"):
        return "ifupdown", "/etc/network/interfaces exists"
    return "ifupdown", "default: neither netplan nor ifupdown configuration found"


ISP_SCRIPT = "/etc/init.d/image-store-proxy"
ISP_UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")


def image_store_proxy(system):
    """('lsb', 'systemd' or 'none', how it was found): how this host can run UEC's image store."""
    if system.exists(ISP_SCRIPT):
        return "lsb", f"{ISP_SCRIPT} exists"
    for d in ISP_UNIT_DIRS:
        if system.exists(f"{d}/image-store-proxy.service"):
            return "systemd", f"{d}/image-store-proxy.service exists"
    return "none", "this host has no image-store-proxy (neither init script nor unit): left out of the group"


def source_address_route(system):
    """('default' or 'public-network', how it was found): is there a default route (/proc/net/route)?"""
    data = system.read_or_none("/proc/net/route")
    if data is None:
        return "default", "default: /proc/net/route cannot be read"
    for line in data.decode("ascii", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000":
            return "default", f"this host has a default route (via {fields[0]})"
    return "public-network", "this host has no default route: the VIP's own network's route"


def host_facts(system):
    drbd, drbd_src = drbd_generation(system)
    net, net_src = network_config_style(system)
    isp, isp_src = image_store_proxy(system)
    route, route_src = source_address_route(system)
    return HostFacts(drbd, drbd_src, net, net_src, isp, isp_src, route, route_src)

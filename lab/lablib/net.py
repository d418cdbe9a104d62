"""The lab's networks: two namespaces, two bridges, a tap per VM and link, a veth to the client.

Called by `labctl up` (create, idempotent), `labctl down` (destroy),
`labctl link` (cut or restore one VM's link) and the split scenarios
(set_isolated: the nodes lose each other but not the arbiter host).  Everything lives in the
namespaces the lab creates:

  uecha-lab      the qemu processes; brpub (198.51.100.1/24: the pair's ping
                 host) with each VM's public tap (the arbiter host's too:
                 it has only that link) and the client's veth;
                 brrep (no address) with each VM's replication tap
  uecha-client   the client of the cloud: 198.51.100.50/24, no default route

With IPMI fencing (config.FENCING ipmilan) the lab namespace also has
brmgmt, the management network: each VM's management tap, and the BMCs'
addresses (203.0.113.111 and .112, where each node's ipmi_sim listens).

A cut link is the tap set down: the VM's frames go nowhere and none reach
it, whatever the VM does, and it stays cut across the VM's reboots and
restarts until `labctl link NODE LINK up`.
"""

from . import config, host

LINKS = ("public", "replication") + (("management",) if config.FENCING == "ipmilan" else ())
BRIDGE = {"public": config.PUBLIC_BRIDGE, "replication": config.REPLICATION_BRIDGE,
          "management": config.MANAGEMENT_BRIDGE}


def _ns_exists(name):
    return name in host.run(["ip", "netns", "list"]).stdout.split()


def _ip(ns, *args, check=True):
    return host.run(["ip", "-n", ns, *args], check=check)


def _has_link(ns, name):
    return _ip(ns, "link", "show", name, check=False).returncode == 0


def create():
    """Namespaces, bridges, taps and the client veth; leaves what exists as it is."""
    for ns in (config.NAMESPACE, config.CLIENT_NS):
        if not _ns_exists(ns):
            host.run(["ip", "netns", "add", ns])
        _ip(ns, "link", "set", "lo", "up")
    lab = config.NAMESPACE
    for bridge in (BRIDGE[link] for link in LINKS):
        if not _has_link(lab, bridge):
            _ip(lab, "link", "add", bridge, "type", "bridge")
            # no STP delay: a VM's link is forwarding as soon as it comes up
            _ip(lab, "link", "set", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        _ip(lab, "link", "set", bridge, "up")
    prefix = config.PUBLIC_NET.split("/")[1]
    if config.GATEWAY not in _ip(lab, "-4", "addr", "show", config.PUBLIC_BRIDGE).stdout:
        _ip(lab, "addr", "add", f"{config.GATEWAY}/{prefix}", "dev", config.PUBLIC_BRIDGE)
    if "management" in LINKS:
        have = _ip(lab, "-4", "addr", "show", config.MANAGEMENT_BRIDGE).stdout
        for n in config.NODES.values():
            if f"{n['bmc']}/" not in have:
                _ip(lab, "addr", "add", f"{n['bmc']}/{config.MANAGEMENT_NET.split('/')[1]}", "dev",
                    config.MANAGEMENT_BRIDGE)
    for node in config.MACHINES:
        for link, bridge in ((link, BRIDGE[link]) for link in config.links_of(node, LINKS)):
            tap = config.tap(node, link)
            if not _has_link(lab, tap):
                _ip(lab, "tuntap", "add", "dev", tap, "mode", "tap")
                _ip(lab, "link", "set", tap, "master", bridge)
                _ip(lab, "link", "set", tap, "up")
    bridge_end, client_end = config.CLIENT_VETH
    if not _has_link(lab, bridge_end):
        _ip(lab, "link", "add", bridge_end, "type", "veth", "peer", "name", client_end, "netns", config.CLIENT_NS)
        _ip(lab, "link", "set", bridge_end, "master", config.PUBLIC_BRIDGE)
    _ip(lab, "link", "set", bridge_end, "up")
    client = config.CLIENT_NS
    if config.CLIENT not in _ip(client, "-4", "addr", "show", client_end).stdout:
        _ip(client, "addr", "add", f"{config.CLIENT}/{prefix}", "dev", client_end)
    _ip(client, "link", "set", client_end, "up")


def destroy():
    """Delete both namespaces (their links go with them)."""
    for ns in (config.CLIENT_NS, config.NAMESPACE):
        if _ns_exists(ns):
            host.run(["ip", "netns", "delete", ns])


def set_link(node, link, up):
    if link not in config.links_of(node, LINKS):
        raise ValueError(f"{node}'s link must be one of {', '.join(config.links_of(node, LINKS))}")
    _ip(config.NAMESPACE, "link", "set", config.tap(node, link), "up" if up else "down")


def set_isolated(node, on):
    """The node's public port on the bridge isolated or not (the kernel bridge's port isolation): isolated
    ports forward nothing to each other, but still reach every other port and the bridge itself.  Both nodes
    isolated: they lose each other on the public network and keep the arbiter host, the client and the
    ping host (a split in which both still reach the arbiter)."""
    host.run(["ip", "netns", "exec", config.NAMESPACE, "bridge", "link", "set", "dev", config.tap(node, "public"),
              "isolated", "on" if on else "off"])


def link_states():
    """{machine: {link: "up" | "down" | "absent"}} (the nodes and the arbiter host)."""
    out = {}
    for node in config.MACHINES:
        out[node] = {}
        for link in config.links_of(node, LINKS):
            done = _ip(config.NAMESPACE, "-o", "link", "show", config.tap(node, link), check=False) \
                if _ns_exists(config.NAMESPACE) else None
            if done is None or done.returncode != 0:
                out[node][link] = "absent"
            else:
                out[node][link] = "up" if ",UP" in done.stdout or "<UP" in done.stdout else "down"
    return out

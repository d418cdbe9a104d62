"""Pointing the cloud's other controllers at the VIP: VNET_CLOUDIP, and the recipe's step 6 as a checklist.

Called by `uec-clc-ha-ctl cloud-ip` (uec_clc_ha.cli.cloud_ip), on a CLC of
the pair (the VIP from its settings) or on a Cluster Controller, Node
Controller, Walrus or Storage Controller (`--vip ADDRESS`, no settings
needed).  The recipe's step 6: every controller, the CLCs included, needs
VNET_CLOUDIP="VIP" in /etc/eucalyptus/eucalyptus.conf, and the cloud host in
the web front end must be the VIP so that the certificates name it.

Where euca_conf exists (Eucalyptus' own tool), the value is imported with
`euca_conf --import-conf FILE` (FILE holds the one assignment) and read back
from eucalyptus.conf; where it does not, nothing is edited and the exact
steps are printed.  The checklist that follows covers what no command can do
from here.
"""

from uec_clc_ha.agent import euca_conf
from uec_clc_ha.errors import CommandFailure

EUCALYPTUS_CONF = "/etc/eucalyptus/eucalyptus.conf"
IMPORT_FILE = "/run/uec-clc-ha-vnet.conf"                # the one assignment euca_conf imports (removed after)


def current(system):
    """VNET_CLOUDIP as eucalyptus.conf sets it ("" when unset), or None when there is no eucalyptus.conf."""
    data = system.read_or_none(EUCALYPTUS_CONF)
    if data is None:
        return None
    return euca_conf.parse(data.decode("utf-8", "replace")).get("VNET_CLOUDIP", "")


def steps(vip):
    return [f"put VNET_CLOUDIP=\"{vip}\" in {EUCALYPTUS_CONF} (replacing any VNET_CLOUDIP line), or: "
            f"printf 'VNET_CLOUDIP=\"{vip}\"\\n' > /tmp/vnet.conf && euca_conf --import-conf /tmp/vnet.conf"]


def checklist(vip):
    return [
        f"on the CC/SC, the Walrus and every NC: VNET_CLOUDIP=\"{vip}\" in {EUCALYPTUS_CONF} ("
        f"printf 'VNET_CLOUDIP=\"{vip}\"\\n' > /tmp/vnet.conf && euca_conf --import-conf /tmp/vnet.conf; or "
        f"`uec-clc-ha-ctl cloud-ip --vip {vip}` where uec-clc-ha is installed), then restart them "
        "(eucalyptus-cc, eucalyptus-sc, eucalyptus-walrus, eucalyptus-nc)",
        "on both CLCs: `uec-clc-ha-ctl cloud-ip`",
        f"in the web front end, https://{vip}:8443/ > Configuration: Cloud Host = {vip}; the cloud's "
        "certificates are generated again and name the VIP, so clients reach whichever CLC is active",
        "users download new credentials (their old ones name the old CLC's address)",
    ]


def import_with_euca_conf(system, vip, out):
    """Set VNET_CLOUDIP with euca_conf; raises CommandFailure when eucalyptus.conf does not show it after."""
    system.write_atomic(IMPORT_FILE, f'VNET_CLOUDIP="{vip}"\n'.encode(), mode=0o644)
    try:
        system.run(["euca_conf", "--import-conf", IMPORT_FILE], timeout=120)
    finally:
        system.remove(IMPORT_FILE)
    now = current(system)
    if now != vip:
        raise CommandFailure(["euca_conf", "--import-conf"], 0,
                             f"{EUCALYPTUS_CONF} has VNET_CLOUDIP={now!r} afterwards, not {vip}")
    out.write(f"cloud-ip: VNET_CLOUDIP=\"{vip}\" imported with euca_conf into {EUCALYPTUS_CONF}\n")

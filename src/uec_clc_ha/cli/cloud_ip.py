"""Point this controller at the VIP (VNET_CLOUDIP) and print the recipe's step 6 as a checklist.

`uec-clc-ha-ctl cloud-ip [--vip ADDRESS] [--dry-run]`: on a CLC of the pair
the VIP comes from the settings; on a CC, NC, Walrus or SC give --vip.
Where euca_conf exists the value is imported with `euca_conf --import-conf`
and read back; where it does not, nothing is edited and the exact steps are
printed (uec_clc_ha.cluster.cloud_ip).  Exit 0 when VNET_CLOUDIP is the VIP (or with
--dry-run), 1 when steps are left to do by hand.
"""

import ipaddress

from uec_clc_ha.cluster import cloud_ip
from uec_clc_ha.config import pipeline
from uec_clc_ha.errors import UsageError

NAME = "cloud-ip"
HELP = "set VNET_CLOUDIP to the VIP here (euca_conf) and print the other controllers' checklist"


def arguments(p):
    p.add_argument("--vip", metavar="ADDRESS", help="the pair's VIP (default: VIP of this node's settings)")
    p.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")


def _vip(args, system):
    if args.vip:
        try:
            return str(ipaddress.IPv4Address(args.vip))
        except ValueError:
            raise UsageError(f"--vip {args.vip}: must be an IPv4 address") from None
    return str(pipeline.build(system, pipeline.load_raw(system, args.settings)).config.vip)


def run(args, system, out):
    vip = _vip(args, system)
    now = cloud_ip.current(system)
    rc = 0
    if now is None:
        out.write(f"cloud-ip: {cloud_ip.EUCALYPTUS_CONF} does not exist: Eucalyptus is not installed here\n")
        rc = 1
    elif now == vip:
        out.write(f"cloud-ip: VNET_CLOUDIP is {vip} already\n")
    elif args.dry_run:
        out.write(f"cloud-ip: would set VNET_CLOUDIP={vip} (now {now or 'unset'})"
                  f"{' with euca_conf --import-conf' if system.which('euca_conf') else ''}\n")
    elif system.which("euca_conf"):
        cloud_ip.import_with_euca_conf(system, vip, out)
    else:
        out.write(f"cloud-ip: euca_conf is not installed here; VNET_CLOUDIP is {now or 'unset'}. By hand:\n")
        for step in cloud_ip.steps(vip):
            out.write(f"  - {step}\n")
        rc = 1
    out.write("The recipe's step 6, for the whole cloud:\n")
    for item in cloud_ip.checklist(vip):
        out.write(f"  [ ] {item}\n")
    return rc

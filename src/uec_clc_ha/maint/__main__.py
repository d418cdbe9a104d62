"""`python3 -m uec_clc_ha.maint ACTION`: the maintainer scripts' one entry point.

Called by debian/postinst (prepare, diversions, install), debian/prerm
(prerm-remove) and apt's DPkg::Pre-Install-Pkgs and DPkg::Post-Invoke hooks
(apt-guard, apt-release, through /usr/lib/uec-clc-ha/apt-guard).  Talks to debconf on fd 3, as a helper of a script that
sourced confmodule must (prepare and install only).  Every UecError ends in
errors.guarded: its message on stderr, its exit code (the postinst shows
uec-clc-ha/settings-invalid for 3 and 4).
"""

import os
import sys

from uec_clc_ha.errors import UsageError, guarded
from uec_clc_ha.host.system import System
from uec_clc_ha.maint import apt_guard, configure, remove

ACTIONS = {"prepare": configure.prepare, "diversions": configure.diversions, "install": configure.install,
           "prerm-remove": remove.prerm_remove,
           "apt-guard": lambda system, db: apt_guard.guarded_check(system, sys.stdin),
           "apt-release": lambda system, db: apt_guard.release(system)}
DEBCONF_ACTIONS = ("prepare", "install")


def connect():
    import debconf

    return debconf.Debconf(write=os.fdopen(3, "w"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    action = argv[0] if argv else ""

    def run():
        if action not in ACTIONS:
            raise UsageError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        return ACTIONS[action](System("/"), connect() if action in DEBCONF_ACTIONS else None)
    return guarded("uec-clc-ha", run)


if __name__ == "__main__":
    sys.exit(main())

"""Installed packages rebuilt in a guest with a higher version, so that an upgrade runs their real maintainer scripts.

Used by the administration scenarios (tests/lab/test_lab_stack_upgrade.py):
the guests have no network and no Debian archive, and an upgrade of
pacemaker, corosync, sbd or drbd-utils is what a point release brings.  The
package is rebuilt from what dpkg installed (as dpkg-repack does): its files
(a diverted file from the name dpkg-divert gave it), its control fields with
the version raised by a suffix, and its maintainer scripts, conffiles list
and md5sums from /var/lib/dpkg/info.  So apt sees an upgrade, and dpkg runs
the old prerm and the new postinst exactly as for a point release.
"""

from lablib import guest

SCRIPT = r'''
set -eu
pkg=$1 suffix=$2 out=$3
version=$(dpkg-query -W -f '${Version}' "$pkg")
work=$(mktemp -d)
mkdir -p "$work/DEBIAN" "$out"
dpkg-query -s "$pkg" | awk -v v="$version$suffix" '
    /^(Status|Conffiles|Config-Version):/ { skip = 1; next }
    /^[^ ]/ { skip = 0 }
    skip { next }
    /^Version:/ { print "Version: " v; next }
    { print }' > "$work/DEBIAN/control"
info=/var/lib/dpkg/info
arch=$(dpkg-query -W -f '${Architecture}' "$pkg")
for part in preinst postinst prerm postrm config templates triggers shlibs symbols conffiles md5sums; do
    for name in "$pkg" "$pkg:$arch"; do
        if [ -e "$info/$name.$part" ]; then cp -p "$info/$name.$part" "$work/DEBIAN/$part"; break; fi
    done
done
dpkg-query -L "$pkg" | while IFS= read -r path; do
    case $path in /.) continue ;; /*) ;; *) continue ;; esac    # "diverted by ... to: ..." lines
    real=$(dpkg-divert --truename "$path")
    if [ -d "$real" ]; then               # also /lib, a symlink to usr/lib on merged-/usr hosts
        mkdir -p "$work$path"
    elif [ -e "$real" ] || [ -L "$real" ]; then
        mkdir -p "$work$(dirname "$path")"
        cp -a "$real" "$work$path"
    fi
done
dpkg-deb --build "$work" "$out/${pkg}_$version${suffix}.deb" >/dev/null
rm -rf "$work"
echo "$out/${pkg}_$version${suffix}.deb"
'''


def repack(node, package, suffix, out="/var/tmp/repacked", timeout=600):
    """Path (in the guest) of ``package`` rebuilt there at its installed version + ``suffix``."""
    done = guest.exec_(node, ["sh", "-c", SCRIPT, "repack", package, suffix, out], timeout=timeout).check()
    return done.stdout.strip().splitlines()[-1]

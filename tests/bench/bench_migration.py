"""Benchmark (not a test): migrate-data's copy + verify against `cp -a` + `diff -r` of the same tree.

Run by `make bench`.  Builds a ~1 GiB mixed tree (a few large files and
many small ones) on a loop-mounted ext4 image standing for /var/lib, with a
second image standing for the DRBD filesystem (tests/support/data_lab.py), then
alternates, N times each: `uec-clc-ha-ctl migrate-data --yes` (copy,
verify every entry's hash and metadata, switch) and, as the baseline,
`cp -a` + `diff -r` of the same tree to the same target.  Between runs the
target is emptied and the original put back.  Prints both medians and the
ratio.  Goal: ours <= 1.3x the baseline.
"""

import argparse
import os
import statistics
import tempfile
import time

from data_lab import CTL, Lab
from scenarios import write_settings
from uec_clc_ha.host.system import System

HERE = os.path.dirname(os.path.abspath(__file__))

MAKE_TREE = r'''
import os, random, sys
top, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
block = rnd.randbytes(1 << 20)
os.makedirs(top)
big = os.path.join(top, "volumes")
os.makedirs(big)
for i in range(4):                                   # half in four large files
    with open(os.path.join(big, f"vol-{i}.img"), "wb") as fh:
        for _ in range(mib // 8):
            fh.write(block)
small = os.path.join(top, "bukkits")
left = (mib // 2) << 20
i = 0
while left > 0:                                      # half in small objects, 0-64 KiB
    d = os.path.join(small, f"b{i // 1000:03d}")
    os.makedirs(d, exist_ok=True)
    n = min(left, rnd.randint(0, 64 << 10))
    with open(os.path.join(d, f"obj-{i:06d}"), "wb") as fh:
        off = rnd.randint(0, (1 << 20) - n)
        fh.write(block[off:off + n])
    left -= n
    i += 1
'''


def timed(lab, argv):
    began = time.perf_counter()
    lab.run(argv)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=1024, help="size of the tree (MiB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="uec-clc-ha-bench.") as tmp:
        lab = Lab(tmp, source_mib=args.mib * 2 + 512, target_mib=args.mib * 2 + 512)
        config = {"Data-Directories": "/var/lib/eucalyptus"}
        write_settings(System(lab.root), "corosync-drbd84", **config)
        lab.run(["/usr/bin/python3", "-c", MAKE_TREE, f"{lab.root}/var/lib/eucalyptus", str(args.mib)])
        src, dst = f"{lab.root}/var/lib/eucalyptus", f"{lab.root}/mnt/uecdata/eucalyptus"
        reset = ("set -e; r=$1; rm -rf \"$r/mnt/uecdata/eucalyptus\" \"$r/mnt/uecdata/.uec-clc-ha-incoming\"; "
                 "if [ -L \"$r/var/lib/eucalyptus\" ]; then rm \"$r/var/lib/eucalyptus\"; "
                 "mv \"$r\"/var/lib/eucalyptus.uec-clc-ha-backup-* \"$r/var/lib/eucalyptus\"; fi; "
                 "rm -rf \"$r/var/lib/uec-clc-ha\"; sync")
        ours, base = [], []
        for _ in range(args.runs):
            lab.sh(reset)
            base.append(timed(lab, ["/bin/sh", "-c", 'cp -a "$1" "$2" && diff -r "$1" "$2" >/dev/null',
                                    "sh", src, dst]))
            lab.sh(reset)
            ours.append(timed(lab, ["/usr/bin/python3", CTL, "--root", lab.root, "migrate-data", "--yes"]))
        lab.sh(reset)
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    print(f"migrating a {args.mib} MiB mixed tree, {args.runs} runs each, alternating:")
    print(f"  uec-clc-ha-ctl migrate-data (copy + verify + switch)  median {m_ours:6.2f} s")
    print(f"  cp -a + diff -r                                        median {m_base:6.2f} s")
    print(f"  ratio ours/baseline                                    {m_ours / m_base:6.2f}x   (goal <= 1.3x)")


if __name__ == "__main__":
    main()

"""An SBD disk image in sbd's layout, written under a test's temporary root.

Used by the unit tests of the fencing probe (tests/unit/cluster/test_sbd_slots.py,
test_fence_probe.py); the layout is checked against the real sbd by
tests/integration/test_fence_probe.py.
"""

import struct

DEVICE = "/dev/disk/by-id/sbd"


def make_disk(root, names=("clc1", "clc2"), slots=255, size=512, device=DEVICE):
    """Write an SBD device holding ``names``'s slots (in order), watchdog 5 s, msgwait 10 s, every mailbox clear."""
    header = (b"SBD_SBD_" + bytes([2, slots]) + b"\0\0" + struct.pack("!5I", size, 5, 2, 1, 10)).ljust(size, b"\0")
    image = bytearray(header + b"\0" * size * (1 + 2 * slots))
    for i, name in enumerate(names):
        image[size * (1 + 2 * i):size * (2 + 2 * i)] = (b"\1" + name.encode()).ljust(size, b"\0")
    root.makedirs(device.rsplit("/", 1)[0])
    with open(root.path(device), "wb") as fh:
        fh.write(bytes(image))

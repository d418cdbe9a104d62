"""SBD's on-disk layout, read and written one sector at a time through the side-effect layer.

Called by the fencing probe (uec_clc_ha.cluster.fence_probe) when Pacemaker
asks it to fence a node: it looks at the target's mailbox, writes a `test`
message only into a clear one, and watches whether the target's sbd servant
clears it.  `sbd message` cannot do this (it always sleeps msgwait, and
writes over whatever the mailbox holds), and `sbd ping`'s exit status does
not say whether the target answered.

The layout is sbd's own (ClusterLabs/sbd src/sbd.h, src/sbd-md.c, header
version 2): sector 0 is the header (magic "SBD_SBD_", version, slot count,
then sector size and the four timeouts as 32-bit network-order integers
from byte 12); slot N's name sector is 1 + 2N (in_use byte, 64-byte name),
its mailbox 2 + 2N (signed command byte, 64-byte sender name).  A servant
reads its mailbox every loop (timeout_loop, 1 s) and clears a `test` at
once; a dead or frozen node never does.
"""

import struct
import time
from dataclasses import dataclass

from uec_clc_ha.errors import DeviceProblem

MAGIC = b"SBD_SBD_"
NAME_MAX = 64                   # SECTOR_NAME_MAX + 1
EMPTY, TEST, RESET, OFF, EXIT, CRASHDUMP = 0, 1, 2, 3, 4, 5
COMMANDS = {EMPTY: "clear", TEST: "test", RESET: "reset", OFF: "off", EXIT: "exit", CRASHDUMP: "crashdump"}


@dataclass(frozen=True)
class Header:
    version: int
    slots: int
    sector_size: int
    watchdog: int
    allocate: int
    loop: int
    msgwait: int


def parse_header(raw):
    """The header sector, or DeviceProblem when it is not SBD's."""
    if raw[:8] != MAGIC:
        raise DeviceProblem("not an SBD device (no SBD header; `sbd -d DEVICE create` makes one)")
    version, slots = raw[8], raw[9]
    sector_size, watchdog, allocate, loop, msgwait = struct.unpack_from("!5I", raw, 12)
    if version != 2:
        raise DeviceProblem(f"SBD header version {version} is not the one this reads (2)")
    return Header(version, slots, sector_size, watchdog, allocate, loop, msgwait)


def _name(raw, offset):
    return raw[offset:offset + NAME_MAX].split(b"\0", 1)[0].decode("utf-8", "replace")


def slot_sector(slot):
    return 1 + 2 * slot


def mbox_sector(slot):
    return 2 + 2 * slot


def mailbox(command, sender, size):
    """One mailbox sector: the command byte, the sender's name, zeros."""
    name = sender.encode()[:NAME_MAX - 1]
    return (struct.pack("b", command) + name).ljust(size, b"\0")


@dataclass(frozen=True)
class Message:
    command: int
    sender: str

    @property
    def word(self):
        return COMMANDS.get(self.command, f"unknown ({self.command})")


class Disk:
    """One SBD device, seen through a System (its root prefix applies)."""

    def __init__(self, system, device):
        self.system = system
        self.device = device
        self.size = system.sector_size(device)
        self.header = parse_header(system.read_sector(device, 0, self.size))
        if self.header.sector_size != self.size:
            raise DeviceProblem(f"{device}: the SBD header says sectors of {self.header.sector_size} bytes, "
                                f"the device has {self.size}")

    def names(self):
        """(slot, node name) of each allocated slot, read one sector at a time (a caller may stop early)."""
        for slot in range(self.header.slots):
            raw = self.system.read_sector(self.device, slot_sector(slot), self.size)
            if raw[0]:
                yield slot, _name(raw, 1)

    def slot_of(self, node):
        """The slot allocated to ``node``, or DeviceProblem when it has none."""
        for slot, name in self.names():
            if name == node:
                return slot
        raise DeviceProblem(f"{self.device}: no SBD slot for {node} (its sbd has never started on this disk)")

    def read(self, slot):
        raw = self.system.read_sector(self.device, mbox_sector(slot), self.size)
        return Message(struct.unpack("b", raw[:1])[0], _name(raw, 1))

    def write(self, slot, command, sender):
        self.system.write_sector(self.device, mbox_sector(slot), mailbox(command, sender, self.size))


@dataclass(frozen=True)
class Answer:
    """What a look at a node through the disk found."""

    answered: bool          # its sbd cleared the test: the node is alive
    seconds: float          # how long it took (or the window, when it did not answer)
    found: str              # "clear", or the command that was already in the mailbox (nothing was written)


def ask(disk, node, sender, window, clock=time.monotonic, sleep=time.sleep, poll=0.1):
    """Write `test` into ``node``'s clear mailbox and wait up to ``window`` seconds for its sbd to clear it.

    A mailbox that already holds a message is left alone (a `reset` on its
    way must never be overwritten): the answer is then "not answered" with
    that message in ``found``.  An unanswered test is cleared again, if it is
    still ours, because a test left behind makes fence_sbd's status unknown
    and its reboot fail, and stops the target's sbd from starting.
    """
    slot = disk.slot_of(node)
    held = disk.read(slot)
    if held.command != EMPTY:
        return Answer(False, 0.0, held.word)
    started = clock()
    disk.write(slot, TEST, sender)
    while True:
        now = clock()
        held = disk.read(slot)
        if held.command == EMPTY:
            return Answer(True, now - started, "clear")
        if held.command != TEST:            # someone else's message: not an answer, and not ours to clear
            return Answer(False, now - started, held.word)
        if now - started >= window:
            break
        sleep(poll)
    if held.sender == sender[:NAME_MAX - 1]:
        disk.write(slot, EMPTY, "")
    return Answer(False, float(window), "clear")

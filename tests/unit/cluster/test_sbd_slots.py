"""SBD's layout as sbd_slots reads and writes it, on a disk image in a temporary root (sbd's own layout is
checked against the real sbd in tests/integration/test_fence_probe.py)."""

import pytest

from sbd_image import DEVICE, make_disk
from uec_clc_ha.cluster import sbd_slots
from uec_clc_ha.errors import DeviceProblem

class Clock:
    """A clock the waits advance; ``servant`` runs at every sleep (a live node's sbd)."""

    def __init__(self, servant=None):
        self.now, self.servant = 100.0, servant

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        if self.servant:
            self.servant()


def test_the_header_and_slots_are_read(root):
    make_disk(root)
    disk = sbd_slots.Disk(root, DEVICE)
    assert (disk.header.watchdog, disk.header.msgwait, disk.header.slots) == (5, 10, 255)
    assert disk.slot_of("clc1") == 0 and disk.slot_of("clc2") == 1
    with pytest.raises(DeviceProblem, match="no SBD slot for clc3"):
        disk.slot_of("clc3")


def test_a_disk_without_the_header_is_refused(root):
    root.makedirs("/dev/disk/by-id")
    with open(root.path(DEVICE), "wb") as fh:
        fh.write(b"\0" * 4096)
    with pytest.raises(DeviceProblem, match="not an SBD device"):
        sbd_slots.Disk(root, DEVICE)


def test_a_live_servant_answers_and_the_mailbox_is_clear_afterwards(root):
    make_disk(root)
    disk = sbd_slots.Disk(root, DEVICE)

    def servant():
        if disk.read(1).command == sbd_slots.TEST:
            disk.write(1, sbd_slots.EMPTY, "")
    clock = Clock(servant)
    answer = sbd_slots.ask(disk, "clc2", "clc1", 3, clock=clock, sleep=clock.sleep)
    assert answer.answered and answer.seconds <= 0.2
    assert disk.read(1).command == sbd_slots.EMPTY


def test_a_dead_node_does_not_answer_and_the_test_is_cleared_again(root):
    make_disk(root)
    disk = sbd_slots.Disk(root, DEVICE)
    clock = Clock()
    answer = sbd_slots.ask(disk, "clc2", "clc1", 3, clock=clock, sleep=clock.sleep)
    assert not answer.answered and answer.found == "clear"
    assert 3 <= clock.now - 100 < 3.5
    assert disk.read(1).command == sbd_slots.EMPTY, "a test left behind breaks fence_sbd and the target's sbd start"


def test_a_pending_message_is_never_overwritten(root):
    make_disk(root)
    disk = sbd_slots.Disk(root, DEVICE)
    disk.write(1, sbd_slots.RESET, "clc1")
    clock = Clock()
    answer = sbd_slots.ask(disk, "clc2", "clc1", 3, clock=clock, sleep=clock.sleep)
    assert not answer.answered and answer.found == "reset" and clock.now == 100
    held = disk.read(1)
    assert (held.command, held.sender) == (sbd_slots.RESET, "clc1")


def test_a_reset_written_meanwhile_is_not_cleared(root):
    make_disk(root)
    disk = sbd_slots.Disk(root, DEVICE)
    clock = Clock(lambda: disk.write(1, sbd_slots.RESET, "clc1") if clock.now > 101 else None)
    answer = sbd_slots.ask(disk, "clc2", "clc1", 3, clock=clock, sleep=clock.sleep)
    assert disk.read(1).command == sbd_slots.RESET
    assert not answer.answered and answer.found == "reset"

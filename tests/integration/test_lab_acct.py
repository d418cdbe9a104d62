"""The lab's process accounting summary (lab/lablib/acct.py), which lab/bench.py takes on the survivor of every
power loss.

Accounting itself is switched on in the lab's guests only (acct(2) is one
switch for a whole machine: not this one's); here the records are written
the way the kernel writes them (struct acct_v3 of linux/acct.h, times in
comp_t as kernel/acct.c encodes them) for a process tree whose figures are
known.
"""

import struct

from lablib import acct

EXECD, FENCED = 400, 401
DAEMONS = {EXECD: "resource agent", FENCED: "fence agent"}


def encode_comp(ticks):
    """kernel/acct.c's encode_comp_t: a 13-bit mantissa, a base-8 exponent, rounding."""
    exp, rnd = 0, 0
    while ticks > 0x1fff:
        rnd = ticks & 4
        ticks >>= 3
        exp += 1
    if rnd and ticks + 1 > 0x1fff:
        ticks >>= 3
        exp += 1
    elif rnd:
        ticks += 1
    return (exp << 13) | ticks


def record(pid, ppid, comm, start, seconds, cpu):
    """One exited process: started at `start` (epoch s), ran `seconds`, used `cpu` s (user and system)."""
    ticks = round(cpu * acct.AHZ)
    return struct.pack("<ccHIIIIIIf8H16s", b"\0", bytes([3]), 0, 0, 0, 0, pid, ppid, start,
                       float(seconds * acct.AHZ), encode_comp(ticks // 2), encode_comp(ticks - ticks // 2),
                       0, 0, 0, 0, 0, 0, comm.encode()[:16])


def test_comp_t_decodes_as_the_kernel_encodes():
    for ticks in (0, 1, 8191, 8192, 12345, 100000, 1234567):
        assert abs(acct._comp(encode_comp(ticks)) - ticks) <= ticks / 1000 + 8


def test_a_process_counts_for_the_agent_pacemaker_ran_it_under():
    data = b"".join([
        # IPaddr2's monitor (a shell) and two of its commands; the shell exits last
        record(1001, 1000, "ip", 100, 0.1, 0.2),
        record(1002, 1000, "grep", 100, 0.1, 0.1),
        record(1000, EXECD, "IPaddr2", 100, 2.0, 1.0),
        record(1010, EXECD, "IPaddr2", 110, 2.0, 1.5),                    # its next run
        record(1020, 1021, "python3", 105, 3.0, 0.5),                      # fence_sbd runs sbd through python
        record(1021, FENCED, "fence_sbd", 104, 12.0, 2.0),
        record(1030, 1031, "crm-fence-peer.", 106, 4.0, 1.0),              # DRBD's handler: the kernel's child
        record(1031, 2, "drbdadm-84", 106, 5.0, 0.25),
        record(1040, EXECD, "drbd", 300, 1.0, 9.0),                        # after the window
    ])
    got = acct.summarise(data, DAEMONS, start=100, end=200)["agents"]
    assert got == {"resource agent IPaddr2": {"cpu": 2.8, "runs": 2},
                   "fence agent fence_sbd": {"cpu": 2.5, "runs": 1},
                   "other drbdadm-84": {"cpu": 1.25, "runs": 1}}
    assert list(got) == ["resource agent IPaddr2", "fence agent fence_sbd", "other drbdadm-84"]   # by CPU


def test_no_accounting_gives_no_summary_and_medians_count_a_missing_agent_as_none():
    assert acct.summarise(b"", DAEMONS) is None
    assert acct.summarise(record(1, EXECD, "drbd", 1, 1, 1), None) is None
    runs = [{"agents": {"resource agent drbd": {"cpu": 4.0, "runs": 5}, "resource agent ping": {"cpu": 1.0, "runs": 2}}},
            {"agents": {"resource agent drbd": {"cpu": 6.0, "runs": 7}}},
            None,
            {"agents": {"resource agent drbd": {"cpu": 5.0, "runs": 6}, "resource agent ping": {"cpu": 3.0, "runs": 4}}}]
    assert acct.medians(runs) == [("resource agent drbd", 5.0, 6), ("resource agent ping", 1.0, 2)]

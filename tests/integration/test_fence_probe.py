"""The fencing probe against the real sbd: its layout, a live servant that answers, a dead node that does not.

The SBD device is a loop device over a file in the test's directory, made
with the real `sbd create` and `allocate`.  The "live node" is a real sbd
servant watching clc2's slot.  It runs where it can never reset this
machine: in a PID and mount namespace of its own, with /proc/sysrq-trigger
bound to /dev/null, in sbd's debug mode 2 (a reset request makes it exit
instead of panicking the node), without a watchdog and without Pacemaker
checks.  The agent is run through its installed entry point with its
parameters on standard input, as Pacemaker's fencer runs it.
"""

import os
import re
import shutil
import subprocess
import time

import pytest

from checkout import TOP
from uec_clc_ha.cluster import sbd_slots
from uec_clc_ha.host.system import System

AGENT = os.path.join(TOP, "src", "sbin", "fence_uec_clc_ha_probe")


def _run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60, **kw)


@pytest.fixture
def disk(tmp_path):
    """A fresh SBD device (watchdog 5 s, msgwait 10 s) with slots for clc1 and clc2; removed afterwards."""
    if os.geteuid() != 0:
        pytest.fail("the SBD tests need root (a loop device)")
    image = tmp_path / "sbd.img"
    with open(image, "wb") as fh:
        fh.truncate(8 << 20)
    loop = _run(["losetup", "--find", "--show", str(image)])
    assert loop.returncode == 0, loop.stderr
    device = loop.stdout.strip()
    try:
        made = _run(["sbd", "-d", device, "-1", "5", "-4", "10", "create"])
        assert made.returncode == 0, made.stderr
        for node in ("clc1", "clc2"):
            assert _run(["sbd", "-d", device, "allocate", node]).returncode == 0
        yield device
    finally:
        _run(["losetup", "-d", device])


@pytest.fixture
def servant(disk, tmp_path):
    """A live sbd watching clc2's slot, fenced off from this machine (see the module docstring)."""
    script = ("if [ -e /proc/sysrq-trigger ]; then mount --bind /dev/null /proc/sysrq-trigger || exit 1; fi; "
              f"sbd -Z -Z -W -W -d {disk} -n clc2 watch || exit 1; exec sleep 3600")
    env = dict(PATH="/usr/sbin:/usr/bin:/sbin:/bin", SBD_PACEMAKER="no", SBD_SYNC_RESOURCE_STARTUP="no",
               SBD_DELAY_START="no")
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
                             "--propagation", "private", "sh", "-c", script],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        system = System("/")
        d = sbd_slots.Disk(system, disk)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the sbd servant's namespace ended ({proc.returncode})")
            if sbd_slots.ask(d, "clc2", "clc1", 2).answered:
                break
        else:
            pytest.fail("the sbd servant never answered")
        yield proc
    finally:
        proc.kill()           # unshare ignores SIGTERM; --kill-child then kills the namespace's init and all in it
        proc.wait(timeout=30)


def _slots(device):
    """`sbd list` as {node: message}."""
    out = _run(["sbd", "-d", device, "list"]).stdout
    return {f[1]: f[2] for f in (line.split("\t") for line in out.splitlines()) if len(f) >= 3}


def _agent(device, action="reboot", target="clc2", delay=2, window=3):
    stdin = "".join(f"{k}={v}\n" for k, v in dict(action=action, plug=target, devices=device, ping_hosts="",
                                                   fencing_delay=delay, window=window).items())
    env = dict(os.environ, PYTHONPATH=os.path.join(TOP, "src"))
    started = time.monotonic()
    done = subprocess.run([AGENT], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False)
    return done, time.monotonic() - started


def test_our_layout_is_sbds(disk):
    system = System("/")
    d = sbd_slots.Disk(system, disk)
    dump = _run(["sbd", "-d", disk, "dump"]).stdout
    assert f"Timeout (watchdog) : {d.header.watchdog}" in dump and d.header.watchdog == 5
    assert f"Timeout (msgwait)  : {d.header.msgwait}" in dump and d.header.msgwait == 10
    assert (d.slot_of("clc1"), d.slot_of("clc2")) == (0, 1)
    d.write(1, sbd_slots.TEST, "clc1")
    assert _slots(disk)["clc2"] == "test", "sbd does not read the test where the probe wrote it"
    d.write(1, sbd_slots.EMPTY, "")
    assert _slots(disk)["clc2"] == "clear"


def test_a_live_servant_answers_within_a_loop(disk, servant):
    d = sbd_slots.Disk(System("/"), disk)
    times = [sbd_slots.ask(d, "clc2", "clc1", 3) for _ in range(5)]
    assert all(a.answered for a in times)
    print("the live servant cleared the test in", ", ".join(f"{a.seconds:.2f} s" for a in times))
    assert max(a.seconds for a in times) < 3
    assert _slots(disk)["clc2"] == "clear"


def test_the_agent_sees_a_split_and_waits_before_failing(disk, servant):
    done, took = _agent(disk, delay=2)
    assert done.returncode == 1, "the probe must fail so that fence_sbd (level 2) fences"
    assert "alive (a split)" in done.stderr, done.stderr
    wait = int(re.search(r"fence_sbd fences it after (\d+) s", done.stderr).group(1))
    assert wait in (0, 2) and took >= wait
    assert servant.poll() is None, "the probe must not have fenced the servant"
    assert _slots(disk)["clc2"] == "clear"


def test_the_agent_finds_a_dead_node_within_the_window_and_leaves_the_slot_clear(disk):
    done, took = _agent(disk, delay=30, window=2)
    assert done.returncode == 1
    assert "did not clear its SBD test within 2 s: not alive" in done.stderr, done.stderr
    assert 2 <= took < 10, f"a dead node's fencing must not wait a delay ({took:.1f} s)"
    assert _slots(disk)["clc2"] == "clear", "a test left behind breaks fence_sbd's reboot and sbd's start"


def test_monitor_and_list_work_on_the_real_device(disk):
    listed, _ = _agent(disk, action="list")
    assert listed.returncode == 0 and listed.stdout.split() == ["clc1", "clc2"]
    meta, _ = _agent(disk, action="metadata")
    assert meta.returncode == 0 and 'name="fence_uec_clc_ha_probe"' in meta.stdout
    if shutil.which("xmllint"):
        assert _run(["xmllint", "--noout", "-"], input=meta.stdout).returncode == 0

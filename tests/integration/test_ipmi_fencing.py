"""IPMI fencing with the real fence_ipmilan, given the CIB's own st_ipmi parameters, against a simulated BMC.

The BMC is OpenIPMI's ipmi_sim on loopback, made to behave like a real one
(lab/lablib/bmc.py: a hard power off, a power state that is the machine's);
the machine it powers is a process on this host.  The parameters are those
uec-clc-ha renders for the peer's device (tests/support/scenarios.py,
corosync-drbd9-ipmi, with IPMI-Cipher 3) and are handed to the agent on stdin
as Pacemaker's fencer does (its own pcmk_* parameters left out), with the
address pointed at the simulator.

    reboot      power-cycles the machine: a new process, the agent says so
    off         a hard off at once, and `status` then reports it off
    wrong password  the agent fails and powers nothing
    no BMC      the agent fails within the device's pcmk_reboot_timeout (the cloud then waits: nothing is promoted)
    doctor      its `bmc` check (uec_clc_ha.cluster.bmc) asks the same BMC with the same agent: on, off, a wrong
                password and no BMC each told apart, the password never shown
"""

import os
import re
import socket
import subprocess
import time

import pytest

from lablib import bmc
from scenarios import full_raw
from uec_clc_ha.cluster import bmc as peer_bmc
from uec_clc_ha.config import keyring, render, settings
from uec_clc_ha.host.system import System

PORT_SEARCH = range(19623, 19700)


def _free_udp_port():
    for port in PORT_SEARCH:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free UDP port on loopback")


def _device(**overrides):
    """The peer's st_ipmi parameters as rendered, and its pcmk_reboot_timeout in seconds."""
    raw = dict(full_raw("corosync-drbd9-ipmi"), **{"IPMI-Cipher": "3"}, **overrides)
    c = settings.require_valid(raw)
    crm = render.render_all(c, keyring.derive(c.cluster_secret, c.cluster_name))["/etc/uec-clc-ha/cluster.crm"]
    crm = crm.content.decode()
    start = crm.index(f"primitive st_ipmi_{c.peer_node} ")
    text = crm[start:crm.index("\n\top ", start)]
    params = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', text.split("params", 1)[1]))
    params = {k: v.strip('"') for k, v in params.items()}
    timeout = int(params["pcmk_reboot_timeout"].rstrip("s"))
    return {k: v for k, v in params.items() if not k.startswith("pcmk_")}, timeout, c


def _fence(params, action, port, timeout):
    """Run fence_ipmilan as the fencer does: parameters on stdin, one per line."""
    args = dict(params, action=action, ip="127.0.0.1", ipport=str(port))
    stdin = "".join(f"{k}={v}\n" for k, v in args.items())
    started = time.monotonic()
    done = subprocess.run(["/usr/sbin/fence_ipmilan"], input=stdin, capture_output=True, text=True,
                          timeout=timeout + 30, check=False)
    return done, time.monotonic() - started


@pytest.fixture
def powered(tmp_path):
    """A machine (a sleeping process) behind a simulated BMC that holds the CIB's user and password."""
    params, timeout, _ = _device()
    port = _free_udp_port()
    b = bmc.Bmc("clc2", "127.0.0.1", port, params["username"], params["password"],
                str(tmp_path / "machine"), str(tmp_path / "bmc"))
    bmc.machine_define(b.machine, ["sleep", "3600"])
    proc = b.start()
    try:
        assert b.ipmitool((), "chassis", "power", "on").returncode == 0
        assert bmc.machine_pid(b.machine)
        yield b, params, timeout
    finally:
        pid = bmc.machine_pid(b.machine)
        bmc.stop(proc.pid)
        if pid:
            bmc.stop(pid)


def test_the_rendered_device_logs_in_with_the_settings_answers():
    params, timeout, c = _device()
    assert params["username"] == c.ipmi_user and params["password"] == c.ipmi_password
    assert params["lanplus"] == "1" and params["cipher"] == "3" and params["ip"] == str(c.ipmi_peer_address)
    assert timeout == c.fencing_timeout


def test_reboot_power_cycles_the_machine(powered):
    b, params, timeout = powered
    before = bmc.machine_pid(b.machine)
    done, took = _fence(params, "reboot", b.port, timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    after = bmc.machine_pid(b.machine)
    assert after and after != before, "the machine was not power-cycled"
    assert bmc.machine_boots(b.machine) == 2
    assert took < timeout


def test_off_is_a_hard_off_and_status_reports_it(powered):
    b, params, timeout = powered
    before = bmc.machine_pid(b.machine)
    done, _ = _fence(params, "off", b.port, timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert bmc.machine_pid(b.machine) is None and not os.path.exists(f"/proc/{before}/cmdline")
    status, _ = _fence(params, "status", b.port, timeout)
    assert status.returncode == 2, status.stdout + status.stderr     # fence-agents: 2 = off
    assert b.power() == "off"


def test_a_wrong_password_fails_and_powers_nothing(powered):
    b, params, timeout = powered
    before = bmc.machine_pid(b.machine)
    done, _ = _fence(dict(params, password="not-the-password"), "reboot", b.port, timeout)
    assert done.returncode != 0
    assert bmc.machine_pid(b.machine) == before and bmc.machine_boots(b.machine) == 1


def test_a_bmc_that_does_not_answer_fails_within_the_devices_timeout():
    params, timeout, _ = _device()
    port = _free_udp_port()       # nothing listens there
    done, took = _fence(params, "reboot", port, timeout)
    assert done.returncode != 0
    assert took < timeout, f"fence_ipmilan took {took:.0f} s, the device allows {timeout} s"


def test_doctors_bmc_check_tells_on_off_refused_and_silent_apart(powered):
    b, params, timeout = powered
    _, _, c = _device()
    live = System("/")
    assert peer_bmc.status(live, c, "127.0.0.1", port=b.port) == ("on", "power on")
    wrong = settings.require_valid(dict(full_raw("corosync-drbd9-ipmi"), **{"IPMI-Cipher": "3",
                                                                               "IPMI-Password": "not-the-pw"}))
    state, detail = peer_bmc.status(live, wrong, "127.0.0.1", port=b.port)
    assert state == "failed" and "not-the-pw" not in detail, detail
    assert bmc.machine_boots(b.machine) == 1                  # asking powers nothing
    assert _fence(params, "off", b.port, timeout)[0].returncode == 0
    assert peer_bmc.status(live, c, "127.0.0.1", port=b.port) == ("off", "power off")
    state, detail = peer_bmc.status(live, c, "127.0.0.1", port=_free_udp_port())
    assert state == "failed" and c.ipmi_password not in detail, detail

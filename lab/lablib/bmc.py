"""A simulated BMC per machine: OpenIPMI's ipmi_sim, made to behave like a real one.

Called by the IPMI fencing tests (tests/integration/test_ipmi_fencing.py,
where the "machine" is a process on this host) and by the lab when it runs
with UEC_CLC_HA_LAB_BMCS (lablib.vm starts each node's qemu through its BMC).

ipmi_sim alone is no real BMC: its power off is an ACPI request to a
connected VM (a guest that ignores the button keeps running), and the power
state it reports is "a VM is connected".  Here every chassis command goes to
a chassis-control program instead (lan.conf's `chassis_control`, which
ipmi_sim prefers to its own handling: OpenIPMI lanserv/bmc_chassis.c), the
lab's `lab/bmc-chassis`, which keeps the machine as a process:

    power on    start the machine's command (detached), record its pid
    power off   SIGKILL the machine, at once: a hard off, like pulling the cord
    power state on while that pid lives, off otherwise (also after a crash)

A power cycle is ipmi_sim's own: off, then on once the state reads off.

A machine is a directory: `argv` (JSON list: the command that is the
machine), `pid` (while it runs), `boots` (how many times it was started) and
`log` (its output).  Nothing here is part of uec-clc-ha.
"""

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass

LAB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHASSIS = os.path.join(LAB, "bmc-chassis")
IPMI_PORT = 623

# The BMC itself, for ipmi_sim's command file (as OpenIPMI's ipmisim1.emu): one MC at 0x20.
EMU = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
"""


@dataclass(frozen=True)
class Bmc:
    """One BMC: where it listens, who may log in, and the machine directory it powers."""

    name: str
    address: str
    port: int
    user: str
    password: str
    machine: str        # the machine's directory (see the module docstring)
    workdir: str        # lan.conf, the command file, ipmi_sim's state and log

    def lan_conf(self, qemu_port=None):
        """ipmi_sim's lan.conf: one LAN channel, RMCP+ (lanplus) with the usual cipher suites, one admin user.

        With ``qemu_port``, a VM serial interface on loopback for qemu's ipmi-bmc-extern (the guest's KCS).
        """
        for word in (self.user, self.password):
            if '"' in word or "\\" in word:
                raise ValueError("BMC user and password are written quoted: no quotes or backslashes")
        chassis = f"{CHASSIS} {self.machine}"
        lines = [
            f'name "{self.name}"',
            "set_working_mc 0x20",
            "  startlan 1",
            f"    addr {self.address} {self.port}",
            "    priv_limit admin",
            "    allowed_auths_callback md5",
            "    allowed_auths_user md5",
            "    allowed_auths_operator md5",
            "    allowed_auths_admin md5",
            f"    guid {self.guid}",
            "  endlan",
            f'  chassis_control "{chassis}"',
        ]
        if qemu_port:
            lines.append(f"  serial 15 127.0.0.1 {qemu_port} codec VM")
        lines += [
            f'  user 2 true "{self.user}" "{self.password}" admin 10 md5',
            "",
        ]
        return "\n".join(lines)

    @property
    def guid(self):
        return (self.name.encode().hex() + "0" * 32)[:32]

    def write(self, qemu_port=None):
        os.makedirs(os.path.join(self.workdir, "state"), exist_ok=True)
        os.makedirs(self.machine, exist_ok=True)
        with open(os.path.join(self.workdir, "lan.conf"), "w") as fh:
            fh.write(self.lan_conf(qemu_port))
        with open(os.path.join(self.workdir, "bmc.emu"), "w") as fh:
            fh.write(EMU)

    def argv(self):
        return ["ipmi_sim", "-n", "-c", os.path.join(self.workdir, "lan.conf"),
                "-f", os.path.join(self.workdir, "bmc.emu"), "-s", os.path.join(self.workdir, "state")]

    def start(self, prefix=(), qemu_port=None):
        """Start ipmi_sim (``prefix``: e.g. `ip netns exec NS`); returns the Popen.  Waits until it answers."""
        self.write(qemu_port)
        log = open(os.path.join(self.workdir, "ipmi_sim.log"), "ab")
        proc = subprocess.Popen(list(prefix) + self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"ipmi_sim for {self.name} exited ({proc.returncode}); "
                                   f"see {self.workdir}/ipmi_sim.log")
            if self.ipmitool(prefix, "mc", "guid", timeout=10).returncode == 0:
                return proc
            time.sleep(0.3)
        stop(proc.pid)
        raise RuntimeError(f"ipmi_sim for {self.name} did not answer within 30 s")

    def ipmitool(self, prefix=(), *args, password=None, timeout=30):
        """ipmitool over lanplus against this BMC (cipher suite 3: ipmi_sim lists none); the password on a file."""
        pw = os.path.join(self.workdir, "ipmitool.pw")
        with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(self.password if password is None else password)
        argv = list(prefix) + ["ipmitool", "-I", "lanplus", "-C", "3", "-H", self.address, "-p", str(self.port),
                               "-U", self.user, "-f", pw, *args]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", "timed out")

    def power(self, prefix=()):
        """'on' or 'off' as the BMC reports it over the LAN, or None when it does not answer."""
        out = self.ipmitool(prefix, "chassis", "power", "status")
        if out.returncode != 0:
            return None
        return "on" if out.stdout.strip().endswith("on") else "off"


def machine_define(directory, argv):
    """Make ``directory`` a machine that runs ``argv`` when powered on."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "argv"), "w") as fh:
        json.dump(list(argv), fh)


def machine_pid(directory):
    """The machine's pid while it runs, else None."""
    try:
        with open(os.path.join(directory, "pid")) as fh:
            pid = int(fh.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def machine_boots(directory):
    try:
        with open(os.path.join(directory, "boots")) as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def stop(pid, grace=5.0):
    """Stop a process this lab started, by its pid: SIGTERM, then SIGKILL after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                if not _alive(pid):
                    return
            time.sleep(0.1)

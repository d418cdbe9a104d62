"""A throwaway Eucalyptus installation around the stand-in daemon, and a way to run the agent.

Used by the agent tests and the benchmark.  Each installation is a
directory tree (usr/sbin/eucalyptus-cloud, etc/eucalyptus/eucalyptus.conf,
etc/eucalyptus/standin.json, var/run/eucalyptus) with its own loopback
ports and a self-signed certificate made at test time.
"""

import atexit
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from checkout import TOP

AGENT = os.path.join(TOP, "src", "ocf", "eucaclc")
SRC = os.path.join(TOP, "src")
STANDIN = os.path.join(TOP, "lab", "standin", "eucalyptus-cloud")


@functools.lru_cache(maxsize=None)
def public_src():
    """A copy of src/ (the agent and the package) that every user can read, for runs as an unprivileged user.

    The checkout may live where only root can enter (an admin working as
    root clones into /root, mode 0700): a program run as nobody could not
    even open the agent there.  The copy is made once per test process, in
    a directory of its own under the system's temporary directory (mode
    0755, files 0644, programs 0755), and removed when the process ends.
    """
    top = tempfile.mkdtemp(prefix="uec-clc-ha-public-")
    atexit.register(shutil.rmtree, top, True)
    copy = os.path.join(top, "src")
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    os.chmod(top, 0o755)
    for base, dirs, files in os.walk(copy):
        os.chmod(base, 0o755)
        for f in files:
            path = os.path.join(base, f)
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)
    return copy


def public_agent():
    """(agent, PYTHONPATH) of public_src(): the agent as an unprivileged user can run it."""
    copy = public_src()
    return os.path.join(copy, "ocf", "eucaclc"), copy


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-days", "2", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Installation:
    """One stand-in Eucalyptus install root."""

    def __init__(self, root, cert, key, user="root"):
        self.root = str(root)
        self.binary = os.path.join(self.root, "usr/sbin/eucalyptus-cloud")
        self.config = os.path.join(self.root, "etc/eucalyptus/eucalyptus.conf")
        self.pidfile = os.path.join(self.root, "var/run/eucalyptus/eucalyptus-cloud.pid")
        self.output = os.path.join(self.root, "var/log/eucalyptus/cloud-output.log")
        self.https_port, self.http_port = free_port(), free_port()
        for d in ("usr/sbin", "etc/eucalyptus", "var/run/eucalyptus"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        shutil.copy(STANDIN, self.binary)
        with open(self.config, "w", encoding="utf-8") as fh:
            fh.write(f'# eucalyptus.conf of a test installation\nEUCALYPTUS="{self.root}"\n'
                     f'EUCA_USER="{user}"\nCLOUD_OPTS=""\n')
        # The real CLC (a JVM) takes tens of seconds to open its ports, and so does the stand-in by
        # default; most agent tests choose 1 s to stay quick, test_agent_faults keeps one start at the default.
        self.standin = {"https_port": self.https_port, "http_port": self.http_port, "cert": cert, "key": key,
                        "start_delay": 1}
        self.set_faults()

    def set_faults(self, **faults):
        """Rewrite standin.json: the defaults with these changes (None drops a key)."""
        data = {k: v for k, v in dict(self.standin, **faults).items() if v is not None}
        path = os.path.join(self.root, "etc/eucalyptus/standin.json")
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.rename(path + ".tmp", path)

    @property
    def params(self):
        return {
            "config": self.config,
            "start_method": "direct",
            "register_url": f"https://127.0.0.1:{self.https_port}/register",
            "heartbeat_url": f"http://127.0.0.1:{self.http_port}/services/Heartbeat",
        }

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OCF_", "HA_"))}
        env["PYTHONPATH"] = SRC
        env["OCF_ROOT"] = "/usr/lib/ocf"
        env["OCF_RESOURCE_INSTANCE"] = "res_uec"
        for k, v in self.params.items():
            env[f"OCF_RESKEY_{k}"] = v
        for k, v in extra.items():
            env[k if k.startswith(("OCF_", "HA_")) else f"OCF_RESKEY_{k}"] = str(v)
        return env

    def agent(self, action, timeout=120, **extra):
        """(rc, stderr) of one agent action."""
        done = subprocess.run([AGENT, action], env=self.env(**extra), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)
        return done.returncode, done.stderr

    def pids(self):
        """Every live process of this installation (by command line)."""
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    args = fh.read().split(b"\0")
                with open(f"/proc/{name}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if self.binary.encode() in args and stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] != b"Z":
                found.append(int(name))
        return found

    def kill_everything(self):
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)

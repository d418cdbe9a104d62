"""The host side of the guest agent: run a command in a VM, copy a file in or out.

Used by labctl (exec), the bring-up (lablib.pair) and the lab tests.  It
connects to one of the unix sockets qemu serves for the VM's virtio-serial
ports (RUN/NODE/agentK.sock, PORTS of them: a port per client at a time,
taken with a lock file), and waits for the answer carrying its request's id.  A timeout is always passed into
the guest, which kills the command's process group past it, and the host
gives up a little later, so one hung command cannot block the lab.
"""

import base64
import fcntl
import json
import os
import socket
import time
import uuid

from . import config

PORTS = 4


class AgentError(RuntimeError):
    pass


class Result:
    def __init__(self, node, argv, rc, stdout, stderr, timed_out):
        self.node, self.argv, self.rc = node, argv, rc
        self.stdout, self.stderr, self.timed_out = stdout, stderr, timed_out

    def check(self):
        if self.rc != 0:
            raise AgentError(f"{self.node}: {' '.join(self.argv)} exited {self.rc}"
                             f"{' (timed out)' if self.timed_out else ''}: {(self.stderr or self.stdout)[-3000:]}")
        return self

    def __repr__(self):
        return f"Result({self.node}, rc={self.rc}, stdout={self.stdout[-200:]!r}, stderr={self.stderr[-200:]!r})"


def socket_path(node, port=0):
    return os.path.join(config.node_dir(node), f"agent{port}.sock")


def _take_port(node):
    """(lock file, port): a free port of the VM's agent, or the first one once it is free."""
    for port in range(PORTS):
        lock = open(os.path.join(config.node_dir(node), f"agent{port}.lock"), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock, port
        except BlockingIOError:
            lock.close()
    lock = open(os.path.join(config.node_dir(node), "agent0.lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock, 0


def request(node, payload, timeout):
    """Send one request, return its answer (a dict); AgentError when the VM does not answer in time."""
    payload = dict(payload, id=uuid.uuid4().hex)
    deadline = time.monotonic() + timeout
    lock, port = _take_port(node)
    with lock:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(max(0.5, deadline - time.monotonic()))
            try:
                s.connect(socket_path(node, port))
            except OSError as e:
                raise AgentError(f"{node}: the VM's agent socket does not answer ({e}); is the VM running?") from None
            try:
                s.sendall(json.dumps(payload).encode() + b"\n")
            except OSError as e:
                raise AgentError(f"{node}: the agent channel failed ({e}): the VM reset or powered off") from None
            buf = b""
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AgentError(f"{node}: no answer within {timeout:.0f} s")
                s.settimeout(remaining)
                try:
                    chunk = s.recv(1 << 16)
                except socket.timeout:
                    raise AgentError(f"{node}: no answer within {timeout:.0f} s") from None
                except OSError as e:        # a qemu killed mid-answer resets the socket
                    raise AgentError(f"{node}: the agent channel failed ({e}): the VM reset or powered off") from None
                if not chunk:
                    raise AgentError(f"{node}: the VM closed the agent channel (it reset or powered off)")
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        reply = json.loads(line)
                    except ValueError:
                        continue
                    if reply.get("id") == payload["id"]:
                        return reply
        finally:
            s.close()


def exec_(node, argv, timeout=120, stdin=None, env=None):
    """Run argv as root in the VM; a Result (rc -9 with timed_out when it ran past timeout)."""
    payload = {"op": "exec", "argv": list(argv), "timeout": timeout, "env": env or {}}
    if stdin is not None:
        payload["stdin"] = base64.b64encode(stdin.encode() if isinstance(stdin, str) else stdin).decode()
    reply = request(node, payload, timeout + 15)
    if "error" in reply:
        raise AgentError(f"{node}: {reply['error']}")
    return Result(node, list(argv), reply["rc"], base64.b64decode(reply["stdout"]).decode("utf-8", "replace"),
                  base64.b64decode(reply["stderr"]).decode("utf-8", "replace"), reply["timed_out"])


def put(node, path, data, mode=0o644, timeout=120):
    reply = request(node, {"op": "put", "path": path, "mode": mode,
                           "data": base64.b64encode(data).decode()}, timeout)
    if reply.get("rc") != 0:
        raise AgentError(f"{node}: put {path}: {reply.get('error')}")


def get(node, path, timeout=60):
    reply = request(node, {"op": "get", "path": path}, timeout)
    if reply.get("rc") != 0:
        raise AgentError(f"{node}: get {path}: {reply.get('error')}")
    return base64.b64decode(reply["data"])


def ping(node, timeout=5):
    """{"boot_id", "uptime"} or None when the agent does not answer."""
    try:
        reply = request(node, {"op": "ping"}, timeout)
    except AgentError:
        return None
    return reply if reply.get("rc") == 0 else None


def wait_up(node, timeout, old_boot=None):
    """Wait until the VM's agent answers (from a boot other than old_boot); its ping answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = ping(node, timeout=3)
        if answer and answer.get("boot_id") != old_boot:
            return answer
        time.sleep(1)
    raise AgentError(f"{node}: the guest agent did not answer within {timeout} s (console: "
                     f"{os.path.join(config.node_dir(node), 'console.log')})")

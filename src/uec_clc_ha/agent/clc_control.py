"""Starting and stopping the Cloud Controller: the launcher or the host's service manager.

Called by uec_clc_ha.agent.ocf for start and stop (never on the monitor path,
so psutil's convenience is affordable here).  ``direct`` runs the launcher
exactly as Eucalyptus' own init script did; the other methods hand the
service to systemd, upstart or the sysv script.  Whatever the method, stop
ends with the agent making sure no eucalyptus-cloud process is left.

The real launcher defaults to ``--out=&1 --err=&2``: with ``-f`` the daemon
keeps the standard output and error it inherited, for as long as it runs.
So a start command's output is never read through a pipe (reading until
end-of-file would wait for the daemon to exit): the launcher gets ``-o`` and
``-e`` naming the output log, every control command writes into that log,
and only the command's own exit is waited for.
"""

import os
import shlex
import signal
import subprocess
import time

from uec_clc_ha.agent import clc_process
from uec_clc_ha.agent.service_manager import SYSTEMD_UNIT, SYSV_SCRIPT, UPSTART_JOB
from uec_clc_ha.errors import CommandFailure, NotRunningCleanly, ToolMissing

TOOL_DIRS = "/usr/sbin:/usr/bin:/sbin:/bin"


def launcher_argv(params):
    """The command line Eucalyptus' init script used, plus -o/-e unless CLOUD_OPTS redirect already."""
    opts = shlex.split(params.cloud_opts)
    redirect = []
    if not any(o in ("-o", "--out") or o.startswith("--out=") for o in opts):
        redirect += ["-o", params.output]
    if not any(o in ("-e", "--err") or o.startswith("--err=") for o in opts):
        redirect += ["-e", params.output]
    return ([params.binary] + opts + redirect +
            ["-h", params.eucalyptus, "-u", params.user, "--pidfile", params.pidfile, "-f", "-L", "console-log"])


def service_argv(method, verb):
    if method == "systemd":
        return ["systemctl", verb, SYSTEMD_UNIT]
    if method == "upstart":
        return ["initctl", verb, UPSTART_JOB]
    if method == "sysv":
        return [SYSV_SCRIPT, verb]
    raise ValueError(method)


TAIL_BYTES = 4096


def _open_output(path):
    """The output log opened for appending (its directory made), or /dev/null when it cannot be."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        return open(path, "ab")
    except OSError:
        return open(os.devnull, "ab")


def run(argv, timeout, output=os.devnull):
    """Run a control command, its output appended to ``output``; wait for its own exit only.

    Whatever the command leaves running (a daemon that keeps the descriptors)
    writes into the same log and delays nothing.  CommandFailure on a bad
    exit or a timeout, with the end of what the command wrote.
    """
    env = dict(os.environ, LC_ALL="C", PATH=os.environ.get("PATH", "") + ":" + TOOL_DIRS)
    with _open_output(output) as log:
        log.seek(0, os.SEEK_END)
        began = log.tell()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True)
        except FileNotFoundError:
            raise ToolMissing(argv[0]) from None
        try:
            rc = proc.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise CommandFailure(argv, -1, f"still running after {timeout:.0f} s") from None
        if rc != 0:
            raise CommandFailure(argv, rc, _tail(log.name, began))


def _tail(path, offset):
    """What was appended to path since offset (at most TAIL_BYTES), as text."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(offset, os.path.getsize(path) - TAIL_BYTES))
            return fh.read(TAIL_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def start(method, params, timeout):
    if method == "direct":
        run(launcher_argv(params), timeout, params.output)
    else:
        run(service_argv(method, "start"), timeout, params.output)


def request_stop(method, params, pids, timeout):
    """Ask politely: the service manager's stop, or SIGTERM to each process."""
    if method != "direct":
        try:
            run(service_argv(method, "stop"), timeout, params.output)
        except (CommandFailure, ToolMissing):
            pass                          # the agent still makes sure below
    for pid in pids:
        _signal(pid, signal.SIGTERM)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def family(pids):
    """The given processes and all their descendants (psutil), newest last."""
    import psutil

    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            found.append(proc)
            found.extend(proc.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return found


def kill_all(pids):
    """SIGKILL the processes, their descendants and the process groups they lead."""
    import psutil

    for proc in family(pids):
        try:
            pgid = os.getpgid(proc.pid)
            if pgid == proc.pid and pgid != os.getpgid(0):
                os.killpg(pgid, signal.SIGKILL)
            proc.kill()
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue


def wait_gone(pids, binary, deadline, step=0.2):
    """True once none of pids (nor any eucalyptus-cloud process) is alive, False at the deadline."""
    while True:
        alive = [p for p in pids if clc_process.state(p) == "alive"]
        if not alive and not clc_process.find_all(binary):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def stop(method, params, pids, grace, deadline):
    """Stop everything; raise NotRunningCleanly if something survives even SIGKILL."""
    request_stop(method, params, pids, max(1.0, min(grace, deadline - time.monotonic())))
    if wait_gone(pids, params.binary, min(deadline, time.monotonic() + grace)):
        return "stopped after SIGTERM"
    survivors = set(pids) | set(clc_process.find_all(params.binary))
    kill_all(sorted(survivors))
    if wait_gone(sorted(survivors), params.binary, deadline):
        return f"killed with SIGKILL after {grace:.0f} s grace"
    raise NotRunningCleanly(f"eucalyptus-cloud processes {sorted(survivors)} survived SIGKILL")

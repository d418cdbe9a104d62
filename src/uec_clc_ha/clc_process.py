"""Is the Cloud Controller's process alive, and is it really eucalyptus-cloud?

Called by the OCF agent on every monitor, so it reads /proc directly with
nothing but ``os``: no psutil (about 18 ms to import) on this path.  A PID
alone proves nothing (PIDs are recycled): a process counts only when its
command line names the configured launcher or its name is eucalyptus-cloud,
and a zombie counts as dead.
"""

import os

PROCESS_NAME = "eucalyptus-cloud"
COMM = PROCESS_NAME[:15]          # the kernel keeps 15 characters of a process name


def read_pidfile(path):
    """The PID in a pidfile; None when there is no pidfile; -1 when its content is not a PID."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(64)
    except FileNotFoundError:
        return None
    first = data.split(b"\n", 1)[0].strip()
    if not first.isdigit() or int(first) <= 0:
        return -1
    return int(first)


def state(pid, proc="/proc"):
    """'absent', 'zombie' or 'alive'."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except (FileNotFoundError, ProcessLookupError):
        return "absent"
    # The state letter follows the ')' that closes the (possibly odd) process name.
    letter = stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3]
    return "zombie" if letter in (b"Z", b"X", b"x") else "alive"


def cmdline(pid, proc="/proc"):
    try:
        with open(f"{proc}/{pid}/cmdline", "rb") as fh:
            return [a.decode("utf-8", "replace") for a in fh.read().split(b"\0") if a]
    except (FileNotFoundError, ProcessLookupError):
        return []


def comm(pid, proc="/proc"):
    try:
        with open(f"{proc}/{pid}/comm", "rb") as fh:
            return fh.read().strip().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def is_clc(pid, binary, proc="/proc"):
    """True when pid runs the configured launcher (by command line) or is named eucalyptus-cloud."""
    args = cmdline(pid, proc)
    if binary in args or (args and os.path.basename(args[0]) == PROCESS_NAME):
        return True
    return comm(pid, proc) == COMM


def find_all(binary, proc="/proc"):
    """PIDs of every live eucalyptus-cloud process (a scan of /proc: for stop and stopped-state checks)."""
    found = []
    me = os.getpid()
    for name in os.listdir(proc):
        if name.isdigit() and int(name) != me:
            pid = int(name)
            if is_clc(pid, binary, proc) and state(pid, proc) == "alive":
                found.append(pid)
    return found

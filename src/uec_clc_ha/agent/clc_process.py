"""Is the Cloud Controller's process alive, and is it really eucalyptus-cloud?

Called by the OCF agent on every monitor, so it reads /proc directly with
nothing but ``os``: no psutil (about 18 ms to import) on this path.  Also
used by the data steps (uec_clc_ha.data.drbd_state) to refuse moving data while
Eucalyptus runs.

A PID alone proves nothing (PIDs are recycled), and neither does a command
line that merely mentions the launcher (``less /usr/sbin/eucalyptus-cloud``,
``tail -f …``): a process is the CLC only when it *runs* the launcher — its
argv[0] is the configured binary or is named eucalyptus-cloud, or it is the
interpreter of the binary's ``#!`` line running the binary as its script, or
the kernel knows it by the name eucalyptus-cloud.  A zombie counts as dead.
"""

import os

PROCESS_NAME = "eucalyptus-cloud"
COMM = PROCESS_NAME[:15]          # the kernel keeps 15 characters of a process name
SHELLS = frozenset({"sh", "bash", "dash", "ksh", "zsh"})
INTERPRETER_PREFIXES = ("python", "perl", "ruby", "java", "node")
# Interpreter options that take the next word as their value (so it is not the script).
OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "-Q", "-O"})


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
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return "absent"
    # The state letter follows the ')' that closes the (possibly odd) process name.
    letter = stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3]
    return "zombie" if letter in (b"Z", b"X", b"x") else "alive"


def cmdline(pid, proc="/proc"):
    try:
        with open(f"{proc}/{pid}/cmdline", "rb") as fh:
            return [a.decode("utf-8", "replace") for a in fh.read().split(b"\0") if a]
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError, PermissionError):
        return []


def comm(pid, proc="/proc"):
    try:
        with open(f"{proc}/{pid}/comm", "rb") as fh:
            return fh.read().strip().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError, PermissionError):
        return ""


def is_interpreter(program):
    name = os.path.basename(program)
    return name in SHELLS or name.startswith(INTERPRETER_PREFIXES)


def script_of(args):
    """The script an interpreter command line runs (its first operand), or None (-c, -m, none)."""
    i = 1
    while i < len(args):
        arg = args[i]
        if arg in ("-c", "-m", "-e", "-jar"):
            return None
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-"):
            return arg
        i += 2 if arg in OPTIONS_WITH_VALUE else 1
    return None


def shebang_interpreter(path):
    """Basename of the interpreter a script's #! line names (through env), or None for a binary."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
        if not words:
            return None
    return os.path.basename(words[0])


def runs_binary(args, binary, interpreter=None):
    """True when a command line runs ``binary`` (argv[0], or as the script of its #! interpreter).

    ``interpreter``: the basename from the binary's #! line, when the caller
    has read it (find_all reads it once per scan); read here otherwise.
    """
    if not args:
        return False
    if args[0] == binary or os.path.basename(args[0]) == PROCESS_NAME:
        return True
    if script_of(args) != binary:
        return False
    wanted = interpreter if interpreter is not None else shebang_interpreter(binary)
    name = os.path.basename(args[0])
    return name == wanted if wanted else is_interpreter(name)


def is_clc(pid, binary, proc="/proc", interpreter=None):
    """True when pid runs the configured launcher, or the kernel names it eucalyptus-cloud."""
    if runs_binary(cmdline(pid, proc), binary, interpreter):
        return True
    return comm(pid, proc) == COMM


def runs_program(args, process_comm, names):
    """True when a process runs one of the programs ``names`` (basenames), wherever installed.

    For the data steps, which know the programs' names but not where each is
    installed: argv[0] is one of them, the kernel's name is one of them
    (truncated to 15 characters), or an interpreter runs one of them as its
    script.  A program that only reads such a file (``less``, ``tail -f``)
    does not count.
    """
    if process_comm and any(process_comm == name[:15] for name in names):
        return True
    if not args:
        return False
    if os.path.basename(args[0]) in names:
        return True
    if is_interpreter(args[0]):
        script = script_of(args)
        return bool(script) and os.path.basename(script) in names
    return False


def find_all(binary, proc="/proc"):
    """PIDs of every live eucalyptus-cloud process (a scan of /proc: for stop and stopped-state checks)."""
    found = []
    me = os.getpid()
    interpreter = shebang_interpreter(binary) or ""
    for name in os.listdir(proc):
        if name.isdigit() and int(name) != me:
            pid = int(name)
            if is_clc(pid, binary, proc, interpreter) and state(pid, proc) == "alive":
                found.append(pid)
    return found

"""Which agent a lab node's CPU went to: the kernel's process accounting in the guest, and its summary.

Used by lab/bench.py beside lablib.cpu: on the survivor of every power loss,
from just before the kill to the client's first answer.  lablib.cpu says how
much went to Pacemaker's agents together (they share pacemaker.service's
cgroup); this says which: the kernel writes a record for every process that
exits (acct(2), BSD process accounting, version 3 records: its PID, its
parent's, its start, elapsed and CPU time), and a process counts for the
agent Pacemaker ran it under: the ancestor whose parent is the executor
(resource agents) or the fencer (fence agents).  The rest counts by its
outermost exited ancestor (DRBD's handlers, which the kernel starts).
Nothing runs in the guest but two calls of acct(2) through python3's ctypes
(every node has python3: the package's agent is Python) and a `base64` of
the file; the kernel's cost is one record written per exit.
"""

import base64
import statistics
import struct

FILE = "/run/uec-lab-acct"
AHZ = 100                                   # the records' clock (the kernel's AHZ)
RECORD = struct.Struct("<ccHIIIIIIf8H16s")  # struct acct_v3 (linux/acct.h), 64 bytes
V3 = 3

_ON = ("import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); "
       "open(sys.argv[1], 'w').close(); "
       "sys.exit(0 if libc.acct(sys.argv[1].encode()) == 0 else 'acct: ' + os.strerror(ctypes.get_errno()))")
_OFF = "import ctypes; ctypes.CDLL(None).acct(None)"
DAEMONS = {"pacemaker-execd": "resource agent", "pacemaker-fence": "fence agent"}   # /proc's 15 characters


def start(lab, node):
    """Accounting on in `node` (a new file); {pid: "resource agent" | "fence agent"} of the executor and the
    fencer, whose children are the agents.  None where it cannot run (no python3 or acct(2))."""
    done = lab.sh(node, f"python3 -c \"{_ON}\" {FILE} && for d in {' '.join(DAEMONS)}; do "
                        f"echo $d $(pgrep -x $d); done", timeout=60, check=False)
    if done.rc != 0:
        return None
    daemons = {}
    for line in done.stdout.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] in DAEMONS and f[1].isdigit():
            daemons[int(f[1])] = DAEMONS[f[0]]
    return daemons


def stop(lab, node):
    """Accounting off in `node`; the records written (bytes, empty when none)."""
    done = lab.sh(node, f"python3 -c \"{_OFF}\"; base64 -w0 {FILE} 2>/dev/null; rm -f {FILE}", timeout=120, check=False)
    try:
        return base64.b64decode(done.stdout.strip() or b"")
    except ValueError:
        return b""


def _comp(value):
    """comp_t: a 13-bit mantissa and a 3-bit base-8 exponent."""
    return (value & 0x1fff) << (3 * (value >> 13))


def records(data):
    """The version-3 records of an accounting file: dicts of pid, ppid, comm, start (epoch s), end, cpu (s)."""
    out = []
    for off in range(0, len(data) - RECORD.size + 1, RECORD.size):
        f = RECORD.unpack_from(data, off)
        if f[1][0] != V3:
            continue
        pid, ppid, btime, etime = f[6], f[7], f[8], f[9]
        out.append({"pid": pid, "ppid": ppid, "start": btime, "end": btime + etime / AHZ,
                    "cpu": (_comp(f[10]) + _comp(f[11])) / AHZ,
                    "comm": f[18].split(b"\0", 1)[0].decode(errors="replace")})
    return out


def summarise(data, daemons, start=None, end=None):
    """{"agents": {"KIND NAME": {"cpu": s, "runs": n}}} of the processes that ended between start and end
    (epoch seconds; None: no bound).  KIND is "resource agent" or "fence agent" for a process under an agent
    the executor or the fencer ran (NAME: the agent's command, as the kernel keeps 15 characters), else
    "other" (NAME: its outermost ancestor that exited in the window).  None without records."""
    if daemons is None:
        return None
    recs = [r for r in records(data)
            if (start is None or r["end"] >= start) and (end is None or r["end"] <= end)]
    if not recs:
        return None
    by_pid = {r["pid"]: r for r in recs}

    def root(r):
        for _ in range(64):                          # a chain of exited parents; a loop (PID reuse) ends it
            if r["ppid"] in daemons or r["ppid"] not in by_pid:
                return r
            r = by_pid[r["ppid"]]
        return r
    agents = {}
    for r in recs:
        top = root(r)
        kind = daemons.get(top["ppid"], "other")
        entry = agents.setdefault(f"{kind} {top['comm']}", {"cpu": 0.0, "runs": set()})
        entry["cpu"] += r["cpu"]
        entry["runs"].add(top["pid"])
    return {"agents": {k: {"cpu": round(v["cpu"], 2), "runs": len(v["runs"])}
                       for k, v in sorted(agents.items(), key=lambda kv: -kv[1]["cpu"])}}


def medians(summaries, top=12):
    """[(name, median CPU s, median runs)] of the `top` names by median CPU over the summaries that have
    one (a name missing from a summary counts 0 there)."""
    got = [s["agents"] for s in summaries if s]
    names = {n for s in got for n in s}
    rows = [(n, statistics.median(s.get(n, {}).get("cpu", 0.0) for s in got),
             statistics.median(s.get(n, {}).get("runs", 0) for s in got)) for n in names]
    return sorted(rows, key=lambda r: -r[1])[:top]

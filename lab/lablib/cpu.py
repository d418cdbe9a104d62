"""Where a lab node's CPU goes: a sampler that runs in the guest, and the summary of what it wrote.

Used by lab/bench.py: on the survivor of every power loss, from before the
kill to the client's first answer, so that the report says how much of a
failover was the emulated CPU busy and with what.  The sampler is a dash
script of shell builtins only (no process forked per sample but its
`sleep`): on one emulated vCPU a sampler that forks `ps` or `top` every
two seconds took 14 % of the CPU it measured; this one 5 % at 2 s, so
about 2 % at its 5 s (reading forty cgroups is not free there either).
Every INTERVAL seconds it writes the uptime, /proc/stat's cpu line, the CPU
used so far by every systemd unit's cgroup (cpu.stat's usage_usec, kept by
the kernel whether or not the cpu controller is enabled) and the CPU of
Pacemaker's daemons' own processes (their agents are in pacemaker.service's
cgroup beside them: the cgroup less the daemons is the agents).
"""

import base64
import statistics

UNIT = "uec-lab-cpu"
SCRIPT = f"/run/{UNIT}.sh"
LOG = f"/run/{UNIT}.log"
DAEMONS = ("pacemakerd", "pacemaker-based", "pacemaker-fenced", "pacemaker-execd", "pacemaker-attrd",
           "pacemaker-schedulerd", "pacemaker-controld")

SAMPLER = r"""# uec-lab-cpu: OUT INTERVAL COUNT [CGROUP-ROOT] (lab/lablib/cpu.py)
out=$1; interval=$2; count=$3; cg=${4:-/sys/fs/cgroup}; pids=""
for p in /proc/[0-9]*; do
  read -r c < $p/comm 2>/dev/null || continue
  case " %s " in *" $c "*) pids="$pids ${p#/proc/}";; esac
done
i=0
while [ $i -lt $count ]; do
  read -r up _ < /proc/uptime
  read -r cpu u ni sy id io irq sirq st _ < /proc/stat
  echo "T $up $u $ni $sy $id $io $irq $sirq $st" >> $out
  for d in $cg/system.slice/*.service $cg/system.slice/*.scope $cg/user.slice $cg/init.scope; do
    [ -r $d/cpu.stat ] || continue
    read -r k v < $d/cpu.stat
    echo "C ${d##*/} $v" >> $out
  done
  for p in $pids; do
    read -r pid comm s f4 f5 f6 f7 f8 f9 f10 f11 f12 f13 ut stt _ < /proc/$p/stat 2>/dev/null && echo "P $comm $ut $stt" >> $out
  done
  i=$((i+1))
  sleep $interval
done
""" % " ".join(d[:15] for d in DAEMONS)          # /proc/PID/comm keeps 15 characters


def start(lab, node, interval=5, count=360):
    """Start the sampler on `node` (a previous one stopped, its log gone); the guest's epoch - uptime, to turn
    the guest clock's readings (observe.guest_clock) into the sampler's uptimes."""
    stop(lab, node)
    code = base64.b64encode(SAMPLER.encode()).decode()
    lab.sh(node, f"echo {code} | base64 -d > {SCRIPT}; rm -f {LOG}; systemd-run --quiet --collect --unit={UNIT} "
                 f"dash {SCRIPT} {LOG} {interval} {count}", timeout=60)
    now = lab.sh(node, "date +%s.%N; cat /proc/uptime", timeout=30).stdout.split()
    return float(now[0]) - float(now[1])


def stop(lab, node):
    lab.exec(node, "systemctl", "stop", f"{UNIT}.service", timeout=60, check=False)


def read(lab, node):
    """What the sampler wrote so far (empty when it never ran)."""
    return lab.exec(node, "cat", LOG, timeout=60, check=False).stdout


def _frames(text):
    frames, cur = [], None
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "T" and len(f) == 10:
            cur = {"up": float(f[1]), "stat": [int(x) for x in f[2:]], "units": {}, "daemons": {}}
            frames.append(cur)
        elif cur is not None and f[0] == "C" and len(f) == 3 and f[2].isdigit():
            cur["units"][f[1]] = int(f[2]) / 1e6
        elif cur is not None and f[0] == "P" and len(f) == 4 and f[2].isdigit() and f[3].isdigit():
            cur["daemons"][f[1].strip("()")] = (int(f[2]) + int(f[3])) / 100      # USER_HZ
    return frames


def summarise(text, start=None, end=None):
    """{"seconds": the window sampled, "idle": its idle share (0-1), "cpu": {what: CPU seconds}} between the
    samples nearest `start` and `end` (uptimes; None: the log's ends).  `what` is a unit without ".service"
    (one started in the window counts from 0; one stopped in it is not counted, its CPU left in "kernel"),
    "pacemaker agents" (pacemaker.service less Pacemaker's daemons) and "kernel" (what no unit's cgroup
    counts: DRBD's and the network's kernel threads, interrupts); None when fewer than two samples cover it."""
    frames = [f for f in _frames(text)
              if (start is None or f["up"] >= start - 1) and (end is None or f["up"] <= end + 1)]
    if len(frames) < 2:
        return None
    first, last = frames[0], frames[-1]
    ticks = [b - a for a, b in zip(first["stat"], last["stat"])]
    total = sum(ticks)
    busy = (total - ticks[3]) / total if total else 0.0
    seconds = last["up"] - first["up"]
    cpu = {}
    for name, used in last["units"].items():           # a unit started in the window (the CLC) counts from 0
        cpu[name[:-len(".service")] if name.endswith(".service") else name] = used - first["units"].get(name, 0)
    daemons = {d: last["daemons"][d] - first["daemons"][d]
               for d in last["daemons"] if d in first["daemons"]}
    for d, used in daemons.items():
        cpu[d] = used
    if "pacemaker" in cpu:                              # every one of DAEMONS runs in pacemaker.service
        cpu["pacemaker agents"] = max(0.0, cpu["pacemaker"] - sum(daemons.values()))
    units = sum(v for k, v in cpu.items() if k not in daemons and k != "pacemaker agents")
    cpu["kernel"] = max(0.0, busy * seconds - units)
    return {"seconds": round(seconds, 1), "idle": round(1 - busy, 3),
            "cpu": {k: round(v, 1) for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])}}


def medians(summaries, names):
    """{name: median CPU seconds} over the summaries that have a name, and the median idle share."""
    got = [s for s in summaries if s]
    out = {n: statistics.median(s["cpu"].get(n, 0.0) for s in got) for n in names} if got else {}
    return out, (statistics.median(s["idle"] for s in got) if got else None)

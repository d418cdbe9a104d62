"""Benchmark (not a test): failover on the lab pair, each fencing configuration the package offers against
the stock timings and what crmsh gives a two-node pair, in the same run on the same VMs.

Run by `make lab-bench` (as root).  Brings the lab up (or reuses a serving
one), then for each configuration, switched on the serving pair as an admin
would (`uec-clc-ha-ctl set` + `apply` on both nodes; the arbiter added or
removed live, lablib.arbiter; new SBD timeouts written with the cloud running
on, lablib.scenario.new_sbd_timeouts):

  ours-arbiter  the package's defaults with the arbiter (cc1's corosync-qnetd):
                the survivor keeps quorum by the arbiter's vote and fences at
                once (no fencing delay in the configuration)
  ours          the package's defaults without an arbiter (two_node): the
                fencing probe pays the fencing delay only when the target lives
  ours-delay    the same without the probe (Fencing-Probe-Window 0):
                priority-fencing-delay, paid on every fencing of the active node
  stock         ours without an arbiter, the same SBD fencing and constraints,
                with stock timings: corosync token 3000 ms,
                priority-fencing-delay 15 s (the value of Pacemaker's
                documentation examples), Pacemaker's default load-threshold
                (80%) and node-action-limit (twice the cores: 2 on the lab's
                VMs), the CLC monitored every 20 s / 60 s (depth 0 / depth 10)
  crmsh         what `crm cluster init` (crmsh 4.4.1's bootstrap and profile)
                gives two nodes with SBD: corosync token 5000, SBD watchdog
                15 s and msgwait 30 s, a random fencing delay of up to 30 s
                (pcmk_delay_max on the fencing resource, set with crm_resource:
                the package has no such setting) and no priority delay; the
                rest as stock
  ours-ipmi     the package's defaults with IPMI fencing (Fencing=ipmilan)
                against the lab's simulated BMCs: only on a lab brought up
                with them (UEC_CLC_HA_LAB_FENCING=ipmilan), whose VMs have
                BMCs and no SBD header; its results join the others' in
                build/lab/run/lab-bench.json

it repeats (--reps, at least five):

  power loss   the active VM's qemu killed: kill -> HTTP 200 on the VIP at the
               client, and its parts from the survivor's journal (membership
               change, fencing requested and confirmed, DRBD promoted, mount,
               VIP, CLC started) and where the survivor's CPU went meanwhile
               (lablib.cpu: idle, Pacemaker's agents and daemons, corosync,
               sbd, the CLC, the kernel; the sampler's log kept as
               build/lab/run/cpu-TAG.log) and to which agent (lablib.acct:
               the kernel's process accounting, kept as acct-TAG.bin); the
               dead node is booted and the pair restored
  kill -9      the CLC daemon on the active node killed: kill -> HTTP 200

and prints min/median/max of each, the median of each part and the sum of
the unavoidable parts beside it, the ratios of the medians against stock,
crmsh and the recipe, the lab's cold start (its timeline), and qemu's memory
per VM.  Every acknowledged record is checked after every repetition of
each configuration of the package: a lost record aborts the benchmark.

  recipe  baseline (a), lab/lablib/recipe.py: the 2010 recipe's cluster on the
          same VMs and data; power loss (--recipe-reps times), the public
          link cut and the full partition (once each), reporting what the
          client lost rather than aborting

The lab's own state (lablib.config: its settings, its arbiter, the
package's SBD timeouts) is put back at the end.  Every repetition is written
to build/lab/run/lab-bench.json as it ends; a run with `--configs` naming
some configurations keeps the others' results (the report says when and on
which lab each was measured), so an interrupted benchmark resumes without
re-measuring what it has, and the IPMI lab's run adds its line.
"""

import argparse
import json
import os
import statistics
import sys
import time

from lablib import acct, arbiter, config, cpu, pair as lab_pair, recipe, scenario, state
from lablib.observe import Lab, guest_clock, milestones, wait_for
from lablib.scenario import Writer

STOCK = {"Corosync-Token": "3000", "Fencing-Delay": "15", "Fencing-Probe-Window": "0", "Load-Threshold": "80",
         # Node-Action-Limit 2: Pacemaker's default (twice the cores) on the lab's one-vCPU VMs
         "Node-Action-Limit": "2", "Monitor-Interval": "20", "Deep-Monitor-Interval": "60"}
# name: the fencing it needs, whether the arbiter votes, the settings (the package's defaults for every TUNED key
# not named), parameters set on the fencing resource beside the package's
CONFIGS = {
    "ours-arbiter": {"fencing": "sbd", "arbiter": True, "settings": {}},
    "ours": {"fencing": "sbd", "arbiter": False, "settings": {}},
    # without the fencing probe (fence_uec_clc_ha_probe): priority-fencing-delay on every fencing of the active node
    "ours-delay": {"fencing": "sbd", "arbiter": False, "settings": {"Fencing-Probe-Window": "0"}},
    "stock": {"fencing": "sbd", "arbiter": False, "settings": STOCK},
    # crmsh 4.4.1: bootstrap.py (corosync token 5000; pcmk_delay_max 30s on the SBD resource of a two-node
    # cluster) and its profiles.yml (sbd.watchdog_timeout 15, sbd.msgwait 30)
    "crmsh": {"fencing": "sbd", "arbiter": False, "stonith": {"pcmk_delay_max": "30s"},
              "settings": {**STOCK, "Corosync-Token": "5000", "Fencing-Delay": "0", "SBD-Watchdog-Timeout": "15",
                           "SBD-Msgwait-Timeout": "30"}},
    "ours-ipmi": {"fencing": "ipmilan", "arbiter": False, "settings": {}},
}
DEFAULT_CONFIGS = {"sbd": "ours-arbiter,ours,ours-delay,stock,crmsh,recipe", "ipmilan": "ours-ipmi"}
RECIPE_SCENARIOS = ("power loss", "public cut", "partition")
RESULTS = os.path.join(config.RUN, "lab-bench.json")
TUNED = ("Corosync-Token", "Fencing-Delay", "Fencing-Probe-Window", "Load-Threshold", "Node-Action-Limit",
         "Monitor-Interval", "Deep-Monitor-Interval")
SBD_TUNED = ("SBD-Watchdog-Timeout", "SBD-Msgwait-Timeout")
STONITH = "st_sbd"
# The parts of a power-loss failover no configuration can skip: noticing the loss (membership), the fencing
# itself (from its request to its confirmation: msgwait, or the BMC's power off), promoting DRBD, mounting,
# and the CLC's start once its filesystem and addresses are up (the addresses start beside DRBD's promotion).
# A fencing delay and waits between the parts are not among them.
UNAVOIDABLE = (("membership change", ()), ("fencing confirmed", ("fencing requested",)),
               ("DRBD promoted", ("fencing confirmed",)), ("filesystem mounted", ("DRBD promoted",)),
               ("CLC started", ("filesystem mounted", "source address")))


def _arbiter(lab, wanted):
    """The arbiter voting (or not), added or removed live as an admin does (lablib.arbiter)."""
    if bool(scenario.shown(lab, "Arbiter")) == wanted:
        return
    if wanted:
        if not arbiter.running():
            arbiter.boot(sys.stdout)
            arbiter.install(sys.stdout)
        arbiter.add(sys.stdout)
        wait_for("both nodes voting with the arbiter's vote",
                 lambda: all(scenario.votes_with_arbiter(lab, n) for n in config.NODES), 300, step=3)
    else:
        arbiter.remove(sys.stdout)
    scenario.settled(lab, "clc1")


def _stonith_params(lab, params):
    """Parameters of the fencing resource beyond the package's (crmsh's pcmk_delay_max): set, or deleted."""
    for name in CONFIGS["crmsh"]["stonith"]:
        if name in params:
            lab.exec("clc1", "crm_resource", "--resource", STONITH, "--set-parameter", name, "--parameter-value",
                     params[name], timeout=120)
        else:
            lab.exec("clc1", "crm_resource", "--resource", STONITH, "--delete-parameter", name, timeout=120,
                     check=False)


def configure(lab, values, with_arbiter=config.WITH_ARBITER, stonith=None):
    """Set `values` (the package's defaults for every tuned key not named) on both nodes and apply them live;
    the arbiter added or removed; new SBD timeouts written with the cloud running on (maintenance mode)."""
    from uec_clc_ha.config import settings
    _arbiter(lab, with_arbiter)
    keys = TUNED + (SBD_TUNED if config.FENCING == "sbd" else ())
    wanted = {key: values.get(key, settings.field(key).default) for key in keys}
    scenario.set_on_both(lab, *(f"{k}={v}" for k, v in wanted.items()))
    if config.FENCING == "sbd":
        header = (int(wanted["SBD-Watchdog-Timeout"]), int(wanted["SBD-Msgwait-Timeout"]))
        if scenario.sbd_header(lab, "clc1") != header:
            scenario.new_sbd_timeouts(lab, header)
    for node in config.NODES:
        lab.exec(node, "uec-clc-ha-ctl", "apply", timeout=600)
    if config.FENCING == "sbd":
        _stonith_params(lab, stonith or {})
    scenario.settled(lab, "clc1")
    return {**wanted, "Arbiter": "cc1" if with_arbiter else "", **(stonith or {})}


def _all_acknowledged_kept(lab, writer, tag):
    writer.wait_acked()
    writer.finish()
    lost = scenario.lost(lab, writer.acked)
    if lost:
        sys.exit(f"{tag}: acknowledged records lost: {lost}")


def _power_loss_kept(lab, writer, tag, strict):
    if strict:
        _all_acknowledged_kept(lab, writer, tag)
        return {}
    writer.finish()
    return {"acked": len(writer.acked), "lost": len(scenario.lost(lab, writer.acked))}


def power_loss(lab, tag, strict=True):
    scenario.restore(lab)
    active = lab.active("clc1")
    survivor = config.peer(active)
    writer = Writer(lab, f"bench-{tag}")
    writer.start()
    writer.wait_acked()
    offset = cpu.start(lab, survivor)                   # where the survivor's CPU goes (lablib.cpu)
    watched = acct.start(lab, survivor)                 # and to which agent (lablib.acct)
    t_guest = guest_clock(lab, survivor)
    t0 = time.monotonic()
    assert lab.kill(active)
    wait_for("the VIP serving from the survivor", lab.serving, 600, step=0.25)
    took = time.monotonic() - t0
    kept = _power_loss_kept(lab, writer, tag, strict)

    def takeover():
        found = milestones(lab.journal(survivor, f"@{int(t_guest) - 1}"), t_guest, active, survivor)
        return found if "CLC started" in found else None
    parts = wait_for("the survivor's journal recording the CLC's start", takeover, 180, step=2)
    sampled = cpu.read(lab, survivor)
    with open(os.path.join(config.RUN, f"cpu-{tag}.log"), "w") as fh:     # kept for a later look
        fh.write(f"# {survivor}, kill at uptime {t_guest - offset:.1f}, served {took:.1f} s later\n{sampled}")
    used = cpu.summarise(sampled, t_guest - offset, t_guest - offset + took)
    cpu.stop(lab, survivor)
    accounted = acct.stop(lab, survivor)
    with open(os.path.join(config.RUN, f"acct-{tag}.bin"), "wb") as fh:
        fh.write(accounted)
    agents = acct.summarise(accounted, watched, t_guest, t_guest + took)
    lab.boot(active)
    scenario.restore(lab)
    return {"seconds": round(took, 1), "parts": parts, "active": active, "cpu": used, "agents": agents, **kept}


def kill_9(lab, tag):
    scenario.restore(lab)
    active = lab.active("clc1")
    writer = Writer(lab, f"bench-{tag}")
    writer.start()
    writer.wait_acked()
    pid = scenario.clc_pid(lab, active)
    t0 = time.monotonic()
    lab.exec(active, "kill", "-9", str(pid), timeout=30)
    # its ports close with it: the client sees the outage at once, then the restarted CLC
    wait_for("the killed CLC's outage at the client", lambda: not lab.serving(), 60, step=0.25)
    wait_for("the VIP serving again", lab.serving, 600, step=0.25)
    took = time.monotonic() - t0
    assert scenario.clc_pid(lab, active) not in (None, pid)
    _all_acknowledged_kept(lab, writer, tag)
    return {"seconds": round(took, 1), "active": active}


def _link_fault(lab, tag, cut, links, hold):
    """Cut `links` of node `cut` for `hold` seconds under writes, restore them; what the client lost."""
    writer = Writer(lab, f"bench-{tag}")
    writer.start()
    writer.wait_acked()
    t0 = time.monotonic()
    for link in links:
        lab.link(cut, link, False)
    deadline = time.monotonic() + hold
    both_primary = False
    while time.monotonic() < deadline:          # the fault held for a fixed time, the writer running
        roles = [_role(lab, n) for n in config.NODES]
        both_primary = both_primary or roles.count("Primary") == 2
        writer.stop.wait(5)
    for link in links:
        lab.link(cut, link, True)
    try:
        wait_for("the VIP serving after the links returned", lab.serving, 600, step=1)
        served = True
    except TimeoutError:
        served = False
    # DRBD reconnects on its own schedule (tens of seconds here): its verdict, not the first look
    try:
        wait_for("DRBD reconnected, or its split brain logged", lambda: any(
            scenario.split_brain_seen(lab, n) for n in config.NODES) or all(
            lab.drbd(n)[0] == "Connected" for n in config.NODES), 300, step=5)
    except TimeoutError:
        pass
    writer.finish()
    lost = scenario.lost(lab, writer.acked)
    split = any(scenario.split_brain_seen(lab, n) for n in config.NODES)
    return {"seconds": round(writer.longest_gap(t0), 1), "served_after": served, "acked": len(writer.acked),
            "lost": len(lost), "split_brain": split, "both_primary": both_primary, "cut": cut}


def _role(lab, node):
    try:
        return lab.drbd(node)[1].split("/")[0]
    except Exception:                           # a node too busy, or reset: no answer is no role
        return None


def public_cut(lab, tag):
    scenario.restore(lab)
    return _link_fault(lab, tag, lab.active("clc1"), ("public",), 120)


def partition(lab, tag):
    scenario.restore(lab)
    return _link_fault(lab, tag, lab.active("clc1"), ("public", "replication"), 180)


SCENARIOS = {"power loss": power_loss, "kill -9": kill_9, "public cut": public_cut, "partition": partition}


def unavoidable(parts):
    """The sum of a failover's unavoidable parts (UNAVOIDABLE), or None when the journal lacked one."""
    total = 0.0
    for part, since in UNAVOIDABLE:
        if part not in parts or any(s not in parts for s in since):
            return None
        total += parts[part] - max((parts[s] for s in since), default=0.0)
    return round(total, 1)


def summary(values):
    return {"min": min(values), "median": round(statistics.median(values), 1), "max": max(values)}


def report(results, st, out):
    out.write("\nFailover on the lab pair (seconds; kill -> HTTP 200 on the VIP at the client)\n")
    out.write(f"  {'configuration':<14}{'scenario':<12}{'min':>7}{'median':>8}{'max':>7}  runs\n")
    for name, runs in results.items():
        for scen in ("power loss", "kill -9"):
            if runs.get(scen):
                s = summary([r["seconds"] for r in runs[scen]])
                out.write(f"  {name:<14}{scen:<12}{s['min']:>7}{s['median']:>8}{s['max']:>7}  {len(runs[scen])}\n")
    for name, runs in results.items():
        for scen in ("public cut", "partition"):
            for r in runs.get(scen, []):
                out.write(f"  {name:<14}{scen:<12} longest client gap {r['seconds']} s, {r['acked']} acknowledged, "
                          f"{r['lost']} lost, split brain: {'yes' if r['split_brain'] else 'no'}, DRBD Primary on "
                          f"both: {'yes' if r.get('both_primary') else 'no'}, serving after: "
                          f"{'yes' if r['served_after'] else 'NO'}\n")
    for r in results.get("recipe", {}).get("power loss", []):
        out.write(f"  {'recipe':<14}{'power loss':<12} {r['acked']} acknowledged during it, {r['lost']} lost\n")
    for scen in ("power loss", "kill -9"):
        for mine in ("ours-arbiter", "ours", "ours-delay", "ours-ipmi"):
            for base in ("stock", "crmsh", "recipe"):
                if all(results.get(n, {}).get(scen) for n in (mine, base)):
                    ours = statistics.median(r["seconds"] for r in results[mine][scen])
                    other = statistics.median(r["seconds"] for r in results[base][scen])
                    out.write(f"  ratio of the medians, {scen}: {mine} / {base} = {ours / other:.2f}\n")
    for name, runs in results.items():
        out.write(f"  {name}: measured {runs.get('measured', '?')} on a lab with {runs.get('lab', 'sbd')} fencing, "
                  f"settings {runs.get('settings')}\n")
    out.write("\nParts of the power-loss failover, median seconds after the kill (survivor's journal)\n")
    names = [n for n in results if results[n].get("power loss")]
    out.write(f"  {'part':<22}" + "".join(f"{n:>10}" for n in names) + "\n")
    for part in ("membership change", "fencing requested", "fencing confirmed", "DRBD promoted",
                 "filesystem mounted", "VIP up", "source address", "CLC started"):
        row = []
        for n in names:
            got = [r["parts"][part] for r in results[n]["power loss"] if part in r["parts"]]
            row.append(f"{statistics.median(got):>10.1f}" if got else f"{'-':>10}")
        out.write(f"  {part:<22}" + "".join(row) + "\n")
    row = []
    for n in names:
        sums = [unavoidable(r["parts"]) for r in results[n]["power loss"]]
        sums = [x for x in sums if x is not None]
        row.append(f"{statistics.median(sums):>10.1f}" if sums else f"{'-':>10}")
    out.write(f"  {'sum of the unavoidable':<22}" + "".join(row) + "\n")
    out.write("  (unavoidable: membership, the fencing from request to confirmation, promote, mount, the CLC's start)\n")
    _report_cpu(results, names, out)
    _report_agents(results, names, out)
    out.write("\n")
    for n in names:
        med = statistics.median(r["seconds"] for r in results[n]["power loss"])
        out.write(f"failover {n} power-loss median {med:.1f}\n")
    out.write("\nCold start of the pair (labctl up):\n")
    for step in st.get("timeline", []):
        out.write(f"  {step['seconds']:7.1f} s  {step['step']}\n")
    out.write(f"  {sum(s['seconds'] for s in st.get('timeline', [])):7.1f} s  in all, to the VIP serving\n")
    out.write("  qemu memory (RSS): " + ", ".join(f"{n} {m} MiB" for n, m in st.get("qemu_rss_mib", {}).items())
              + "\n")
    try:
        with open(st["image"]["info"]) as fh:
            info = json.load(fh)
        out.write(f"  VM image build (debootstrap + packages, cached since): {info['seconds']} s on {info['built']}\n")
    except (KeyError, OSError, ValueError):
        pass


CPU_ROWS = ("pacemaker agents", "pacemaker-execd", "pacemaker-fence", "pacemaker-contr", "pacemaker-sched",
            "pacemaker-based", "corosync", "corosync-qdevice", "sbd", "eucalyptus-cloud", "kernel", cpu.UNIT)


def _report_cpu(results, names, out):
    """The survivor's CPU from the kill to the client's first answer (lablib.cpu), median seconds per part."""
    got = {n: cpu.medians([r.get("cpu") for r in results[n]["power loss"]], CPU_ROWS) for n in names}
    names = [n for n in names if got[n][1] is not None]
    if not names:
        return
    out.write("\nThe survivor's CPU from the kill to the client's first answer, median CPU seconds (lablib.cpu)\n")
    out.write(f"  {'':<22}" + "".join(f"{n:>10}" for n in names) + "\n")
    out.write(f"  {'idle share':<22}" + "".join(f"{got[n][1]:>10.2f}" for n in names) + "\n")
    for row in CPU_ROWS:
        label = "the sampler" if row == cpu.UNIT else row
        out.write(f"  {label:<22}" + "".join(f"{got[n][0][row]:>10.1f}" for n in names) + "\n")
    out.write("  (pacemaker agents: pacemaker.service less its daemons; the daemons' names as /proc keeps them;\n"
              "   kernel: busy time no unit's cgroup counts, DRBD's and the network's threads among it)\n")


def _report_agents(results, names, out):
    """The survivor's agents by CPU from the kill to the client's first answer (lablib.acct), medians."""
    for n in names:
        rows = acct.medians([r.get("agents") for r in results[n]["power loss"]])
        if not rows:
            continue
        out.write(f"\nThe survivor's processes by the agent that ran them, {n}: median CPU seconds and runs "
                  "from the kill to the client's first answer (lablib.acct)\n")
        for name, seconds, runs in rows:
            out.write(f"  {name:<36}{seconds:>8.1f} s{runs:>6g} runs\n")


def _load():
    """Every configuration's results of earlier runs (resumed, or joined by the IPMI lab's), else none."""
    try:
        with open(RESULTS) as fh:
            return json.load(fh).get("results", {})
    except (FileNotFoundError, ValueError):
        return {}


def _save(results):
    with open(RESULTS + ".tmp", "w") as fh:
        json.dump({"results": results}, fh, indent=1)
    os.replace(RESULTS + ".tmp", RESULTS)


def _run_config(lab, results, name, reps, recipe_reps, scenarios):
    if name == "recipe":
        print("\n== recipe (baseline a): installing its cluster on both nodes", flush=True)
        recipe.install(lab)
        entry = {"settings": "the 2010 recipe"}
        plan = [("power loss", recipe_reps, lambda lab, tag: power_loss(lab, tag, strict=False)),
                ("public cut", 1, public_cut), ("partition", 1, partition)]
    else:
        wanted = CONFIGS[name]
        used = configure(lab, wanted["settings"], wanted["arbiter"], wanted.get("stonith"))
        print(f"\n== {name}: {used}", flush=True)
        entry = {"settings": used}
        plan = [(scen, reps, SCENARIOS[scen]) for scen in scenarios]
    entry["measured"] = time.strftime("%Y-%m-%d %H:%M:%S")
    entry["lab"] = config.FENCING
    results[name] = entry
    try:
        for scen, count, run in plan:
            entry[scen] = []
            for i in range(1, count + 1):
                r = run(lab, f"{name}-{scen.replace(' ', '')}-{i}")
                entry[scen].append(r)
                _save(results)
                print(f"  {name} {scen} {i}: {r}", flush=True)
    finally:
        if name == "recipe":
            cuts = [r["cut"] for r in entry.get("partition", [])]
            # after a split brain keep the copy the clients wrote to last: the node that was not cut
            recipe.uninstall(lab, keep=config.peer(cuts[-1]) if cuts else "clc1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each scenario (at least five)")
    parser.add_argument("--recipe-reps", type=int, default=3, help="power losses on the recipe's cluster")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS[config.FENCING],
                        help=f"of {', '.join([*CONFIGS, 'recipe'])} (the lab's fencing decides which can run)")
    parser.add_argument("--scenarios", default="power loss,kill -9")
    parser.add_argument("--report", action="store_true", help="print the report of the last run's results only")
    args = parser.parse_args()
    if args.report:
        with open(RESULTS) as fh:
            report(json.load(fh)["results"], state.load(), sys.stdout)
        return
    if os.geteuid() != 0:
        sys.exit("lab-bench needs root (namespaces, taps, qemu)")
    reps = max(5, args.reps)
    names = args.configs.split(",")
    unknown = [n for n in names if n != "recipe" and n not in CONFIGS]
    elsewhere = [n for n in names if n in CONFIGS and CONFIGS[n]["fencing"] != config.FENCING]
    if "recipe" in names and config.FENCING != "sbd":
        elsewhere.append("recipe")
    if unknown:
        sys.exit(f"lab-bench: no configuration {', '.join(unknown)} (there are {', '.join([*CONFIGS, 'recipe'])})")
    if elsewhere:
        sys.exit(f"lab-bench: {', '.join(elsewhere)} need a lab with other fencing than {config.FENCING} "
                 "(UEC_CLC_HA_LAB_FENCING)")
    scenarios = [s for s in args.scenarios.split(",") if s in ("power loss", "kill -9")]
    st = lab_pair.up(sys.stdout)
    lab = Lab(st)
    had_arbiter = bool(scenario.shown(lab, "Arbiter"))
    results = _load()
    kept = [n for n in results if n not in names]
    if kept:
        print(f"kept the earlier results of {', '.join(kept)} (measured: see the report)", flush=True)
    try:
        for name in names:
            _run_config(lab, results, name, reps, max(1, args.recipe_reps), scenarios)
    finally:
        configure(lab, config.LAB_SETTINGS, had_arbiter)      # the lab as it was
        _save(results)
    report(results, state.load(), sys.stdout)


if __name__ == "__main__":
    main()

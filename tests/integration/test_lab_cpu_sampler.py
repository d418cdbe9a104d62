"""The lab's CPU sampler (lab/lablib/cpu.py), which lab/bench.py runs on the survivor of every power loss.

The sampler itself runs here under the real dash against this machine's
/proc and a cgroup tree the test writes (this machine's own may be cgroup
v1); the summary is checked on a log whose figures are known.
"""

import subprocess

from lablib import cpu


def test_the_sampler_records_uptime_cpu_and_every_units_cgroup(tmp_path):
    root = tmp_path / "cgroup"
    for unit, usec in (("system.slice/pacemaker.service", 5_000_000), ("system.slice/corosync.service", 7),
                       ("user.slice", 0), ("init.scope", 12)):
        (root / unit).mkdir(parents=True)
        (root / unit / "cpu.stat").write_text(f"usage_usec {usec}\nuser_usec 1\nsystem_usec 1\n")
    script = tmp_path / "sampler.sh"
    script.write_text(cpu.SAMPLER)
    log = tmp_path / "cpu.log"
    subprocess.run(["dash", str(script), str(log), "0.2", "3", str(root)], check=True, timeout=60)
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines if line.startswith("T")] == ["T"] * 3
    assert "C pacemaker.service 5000000" in lines and "C corosync.service 7" in lines
    assert "C init.scope 12" in lines and "C user.slice 0" in lines
    summary = cpu.summarise(log.read_text())
    assert summary["seconds"] >= 0.4 and 0.0 <= summary["idle"] <= 1.0
    assert summary["cpu"]["pacemaker"] == 0.0                 # nothing moved in the written tree


def test_the_summary_splits_pacemakers_agents_from_its_daemons_and_keeps_to_the_window():
    def frame(up, busy, idle, pcmk, clc, execd, fenced):
        return (f"T {up} {busy} 0 0 {idle} 0 0 0 0\nC pacemaker.service {pcmk}\n"
                + (f"C eucalyptus-cloud.service {clc}\n" if clc is not None else "")   # started by the agent
                + f"P (pacemaker-execd) {execd} 0\nP (pacemaker-fence) {fenced} 0\n")
    # 100 ticks a second (USER_HZ); from 10 s to 20 s: 8 s busy, 2 s idle; pacemaker.service 5 s of which
    # execd 1 s and the fencer 0.5 s (their own processes), the CLC 2 s: 1 s nobody's cgroup (the kernel)
    text = (frame(0.0, 0, 0, 0, None, 0, 0) + frame(10.0, 500, 500, 1_000_000, None, 10, 0)
            + frame(20.0, 1300, 700, 6_000_000, 2_000_000, 110, 50) + frame(30.0, 2300, 700, 9_000_000, 2_000_000, 110, 50))
    s = cpu.summarise(text, start=10.0, end=20.0)
    assert s["seconds"] == 10.0 and s["idle"] == 0.2
    assert s["cpu"]["pacemaker"] == 5.0 and s["cpu"]["pacemaker-execd"] == 1.0
    assert s["cpu"]["pacemaker-fence"] == 0.5 and s["cpu"]["pacemaker agents"] == 3.5
    assert s["cpu"]["eucalyptus-cloud"] == 2.0 and s["cpu"]["kernel"] == 1.0
    assert cpu.summarise(text, start=40.0) is None            # no two samples there
    medians, idle = cpu.medians([s, cpu.summarise(text)], ("pacemaker", "eucalyptus-cloud"))
    assert medians == {"pacemaker": 7.0, "eucalyptus-cloud": 2.0} and idle == (0.2 + 0.233) / 2

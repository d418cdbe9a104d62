"""Benchmark (not a test): depth-0 monitor of our agent against a shell agent doing the same check.

Run by `make bench`.  Starts one stand-in Cloud Controller, then times N
recurring depth-0 monitors of src/ocf/eucaclc and of tests/bench/shell_monitor
(ocf-shellfuncs), interleaved so both see the same machine load, and prints
both medians and their ratio.  The source tree is byte-compiled first, as
the installed package is by py3compile (this environment sets
PYTHONDONTWRITEBYTECODE, which would otherwise make every run compile).  Goal: ours <= 2.5x the shell baseline.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from clc_standin import AGENT, Installation, make_cert

HERE = os.path.dirname(os.path.abspath(__file__))

SHELL = os.path.join(HERE, "shell_monitor")


def timed(argv, env):
    began = time.perf_counter()
    rc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - began, rc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=300)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(os.path.dirname(AGENT), "..", "uec_clc_ha")],
                   check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        inst = Installation(os.path.join(tmp, "euca"), *make_cert(tmp))
        try:
            rc, err = inst.agent("start")
            if rc != 0:
                sys.exit(f"could not start the stand-in: {err}")
            env = inst.env(binary=inst.binary, pidfile=inst.pidfile, OCF_RESKEY_CRM_meta_interval="20000")
            ours, shell = [], []
            for _ in range(10):                       # warm caches for both
                timed([AGENT, "monitor"], env)
                timed([SHELL, "monitor"], env)
            for _ in range(args.runs):
                t, rc = timed([AGENT, "monitor"], env)
                assert rc == 0, "our monitor did not report running"
                ours.append(t)
                t, rc = timed([SHELL, "monitor"], env)
                assert rc == 0, "the shell monitor did not report running"
                shell.append(t)
        finally:
            inst.agent("stop")
            inst.kill_everything()
    m_ours, m_shell = statistics.median(ours), statistics.median(shell)
    print(f"depth-0 monitor, {args.runs} runs each, interleaved:")
    print(f"  ocf:ubuntu:eucaclc (Python)   median {m_ours * 1000:6.2f} ms")
    print(f"  shell + ocf-shellfuncs        median {m_shell * 1000:6.2f} ms")
    print(f"  ratio ours/shell              {m_ours / m_shell:6.2f}x   (goal <= 2.5x, stretch 2x)")


if __name__ == "__main__":
    main()

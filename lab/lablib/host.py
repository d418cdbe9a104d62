"""Commands on this machine, for the lab: argv lists only, a timeout always, output captured.

Used by every lablib module.  in_ns() prefixes `ip netns exec NS`, so a
command meant for the lab's links can never run against this machine's own.
"""

import subprocess

PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


class Failed(RuntimeError):
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        super().__init__(f"{' '.join(argv)} exited {rc}: {(err or out).strip()[-2000:]}")


def run(argv, check=True, timeout=120, input=None, env=None):
    done = subprocess.run(list(argv), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, env=env or {"PATH": PATH, "LC_ALL": "C"})
    if check and done.returncode != 0:
        raise Failed(list(argv), done.returncode, done.stdout, done.stderr)
    return done


def in_ns(ns, argv):
    return ["ip", "netns", "exec", ns, *argv]

"""What the lab did when: one line per step, with the time since the start and the step's duration.

Used by `labctl up` (printed as it goes and again at the end) and kept in
state.json for `labctl status`.
"""

import sys
import time


class Timeline:
    def __init__(self, out=sys.stdout, began=None):
        self.out = out
        self.began = began if began is not None else time.monotonic()
        self.steps = []
        self._open = None

    def log(self, message):
        self.out.write(f"[{time.monotonic() - self.began:7.1f} s] {message}\n")
        self.out.flush()

    def start(self, name):
        self.finish()
        self._open = (name, time.monotonic())
        self.log(f"{name} ...")

    def finish(self, note=""):
        if self._open is None:
            return
        name, t0 = self._open
        took = time.monotonic() - t0
        self.steps.append({"step": name, "at": round(t0 - self.began, 1), "seconds": round(took, 1), "note": note})
        self.log(f"{name}: {took:.1f} s{f' ({note})' if note else ''}")
        self._open = None

    def table(self, title="the bring-up"):
        lines = ["", f"Timeline of {title}:", f"  {'at (s)':>8}  {'took (s)':>8}  step"]
        for s in self.steps:
            note = f"  ({s['note']})" if s["note"] else ""
            lines.append(f"  {s['at']:8.1f}  {s['seconds']:8.1f}  {s['step']}{note}")
        lines.append(f"  total {time.monotonic() - self.began:.1f} s")
        return "\n".join(lines) + "\n"

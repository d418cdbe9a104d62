"""Progress of long steps (copy, verify): a bar on a terminal, plain lines otherwise.

Used by uec_clc_ha.data.migration.  Shows bytes done of the total, the rate and
the time left.  On a terminal the bar is redrawn at most five times a second;
into a file or a pipe (a log, a maintainer script) it writes a line every
10 % or 30 seconds, so logs stay readable.
"""

import time


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class Progress:
    def __init__(self, label, total, stream, clock=time.monotonic):
        self.label, self.total, self.stream, self.clock = label, max(total, 1), stream, clock
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.began = self.last_shown = clock()
        self.last_fraction = 0.0
        self.done = 0

    def _line(self, now):
        elapsed = max(now - self.began, 1e-6)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0
        pct = min(100.0, 100.0 * self.done / self.total)
        return (f"{self.label}: {human(self.done)} of {human(self.total)} ({pct:3.0f} %), "
                f"{human(rate)}/s, {int(left // 60)}:{int(left % 60):02d} left")

    def update(self, done):
        self.done = done
        now = self.clock()
        fraction = done / self.total
        if self.tty:
            if now - self.last_shown >= 0.2:
                width = 30
                filled = int(width * min(fraction, 1.0))
                self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self._line(now)}\033[K")
                self.stream.flush()
                self.last_shown = now
        elif fraction - self.last_fraction >= 0.1 or now - self.last_shown >= 30:
            self.stream.write(self._line(now) + "\n")
            self.stream.flush()
            self.last_shown, self.last_fraction = now, fraction

    def add(self, n):
        self.update(self.done + n)

    def finish(self):
        now = self.clock()
        elapsed = max(now - self.began, 1e-6)
        end = "\r\033[K" if self.tty else ""
        self.stream.write(f"{end}{self.label}: {human(self.done)} in {elapsed:.1f} s "
                          f"({human(self.done / elapsed)}/s)\n")
        self.stream.flush()

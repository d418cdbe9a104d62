"""When a lab VM was reset, as qemu saw it: RESET events on the VM's QMP socket, on the host's clock.

Used by the partition scenario (tests/lab/test_lab_partition.py) to time the
fenced node's reset.  SBD's poison pill makes the guest reset itself; at
that moment the guest can no longer say so, but qemu reports a RESET event
(reason guest-reset, or watchdog when the i6300esb expired) with the host's
wall-clock time.  From it and the cut's time follows how much of
priority-fencing-delay was left when the losing node died: the delay's
measured safety margin.

One watcher per VM at a time (qemu's QMP socket takes one client); nothing
else in the lab uses QMP.
"""

import json
import os
import socket
import threading

from . import config


class ResetWatch(threading.Thread):
    """Collects the host time (time.time() scale) of every RESET of `node`'s VM until close()."""

    def __init__(self, node, timeout=30):
        super().__init__(daemon=True)
        self.node = node
        self.resets = []
        self.events = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(os.path.join(config.node_dir(node), "qmp.sock"))
        self.stream = self.sock.makefile("rwb")
        greeting = json.loads(self.stream.readline())
        if "QMP" not in greeting:
            raise RuntimeError(f"{node}: not a QMP greeting: {greeting}")
        self.stream.write(b'{"execute": "qmp_capabilities"}\n')
        self.stream.flush()
        while True:                                     # events may come before the command's answer
            answer = json.loads(self.stream.readline())
            if "return" in answer:
                break
            if "error" in answer:
                raise RuntimeError(f"{node}: qmp_capabilities: {answer['error']}")
            self._note(answer)
        self.sock.settimeout(None)
        self.start()

    def _note(self, message):
        if "event" not in message:
            return
        stamp = message.get("timestamp", {})
        t = stamp.get("seconds", 0) + stamp.get("microseconds", 0) / 1e6
        self.events.append((t, message["event"], message.get("data", {})))
        if message["event"] == "RESET":
            self.resets.append(t)

    def run(self):
        try:
            for line in self.stream:
                try:
                    self._note(json.loads(line))
                except ValueError:
                    continue
        except (OSError, ValueError):
            pass                                        # the socket closed: close(), or qemu exited

    def first_reset(self, since):
        """Host time of the first reset at or after `since`, or None."""
        return next((t for t in self.resets if t >= since), None)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

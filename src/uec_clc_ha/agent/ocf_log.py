"""Logging of the OCF agent by the cluster's conventions (as ocf-shellfuncs' ha_log).

Used by uec_clc_ha.agent.ocf.  Messages go to syslog when HA_LOGFACILITY is set,
are appended to HA_LOGFILE (and HA_DEBUGLOG) when set, and to stderr
otherwise; debug messages only with HA_debug/HA_DEBUG set.  Never to stdout,
which belongs to meta-data and usage.  ocf_exit_reason writes the
"ocf-exit-reason:" line Pacemaker shows to the admin.
"""

import os
import sys
import time

LEVELS = {"debug": "debug", "info": "info", "warn": "warning", "err": "err", "crit": "crit"}


class Log:
    def __init__(self, env=None, name="eucaclc"):
        env = os.environ if env is None else env
        self.env = env
        instance = env.get("OCF_RESOURCE_INSTANCE")
        self.tag = env.get("HA_LOGTAG") or (f"{name}({instance})[{os.getpid()}]" if instance
                                            else f"{name}[{os.getpid()}]")
        facility = env.get("HA_LOGFACILITY", "")
        self.facility = "" if facility == "none" else facility
        self.logfile = env.get("HA_LOGFILE", "")
        self.debuglog = env.get("HA_DEBUGLOG", "")
        self.debug_on = (env.get("HA_debug") or env.get("HA_DEBUG") or "0") not in ("0", "")

    def log(self, level, message, to_stderr=True):
        if level == "debug" and not self.debug_on:
            return
        line = f"{level.upper()}: {message}"
        if self.facility:
            import syslog
            fac = getattr(syslog, "LOG_" + self.facility.upper(), syslog.LOG_DAEMON)
            prio = getattr(syslog, "LOG_" + LEVELS.get(level, "notice").upper())
            syslog.openlog(self.tag, 0, fac)
            syslog.syslog(prio, line)
        stamp = time.strftime("%b %d %H:%M:%S")
        for path in {self.logfile, self.debuglog if level == "debug" else ""} - {""}:
            try:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(f"{stamp} {self.tag}:    {line}\n")
            except OSError:
                pass
        if to_stderr and not self.facility and not self.logfile:
            sys.stderr.write(f"{stamp} {self.tag}: {line}\n")

    def debug(self, message):
        self.log("debug", message)

    def info(self, message):
        self.log("info", message)

    def warn(self, message):
        self.log("warn", message)

    def err(self, message):
        self.log("err", message)

    def exit_reason(self, message):
        """The reason Pacemaker shows for a failed action, plus the same line in the log."""
        sys.stderr.write(f"{self.env.get('OCF_EXIT_REASON_PREFIX') or 'ocf-exit-reason:'}{message}\n")
        self.log("err", message, to_stderr=False)

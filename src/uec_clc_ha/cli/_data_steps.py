"""What the data subcommands (drbd-init, migrate-data, prepare-secondary, restore-data) share.

Imported by those cli modules only: the validated settings, the migration
context, and the crash-injection hook the crash tests use.  The hook reads
UEC_CLC_HA_TEST_CRASH_AT (NAME or NAME:N): at the N-th checkpoint called NAME
the process kills itself with SIGKILL, exactly like a crash; unset, it does
nothing.
"""

import os
import signal

from uec_clc_ha.data import migration
from uec_clc_ha.config import pipeline, settings


def config_of(args, system):
    return settings.require_valid(pipeline.load_raw(system, args.settings))


def checkpoint_from_environment():
    wanted = os.environ.get("UEC_CLC_HA_TEST_CRASH_AT", "")
    if not wanted:
        return migration._no_crash
    name, _, nth = wanted.partition(":")
    count = {"n": 0}

    def checkpoint(reached):
        if reached == name:
            count["n"] += 1
            if count["n"] >= int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
    return checkpoint


def context(args, system, out):
    return migration.Context(system, config_of(args, system), out, checkpoint_from_environment())

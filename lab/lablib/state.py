"""The lab's record of what it started: qemu pids, namespaces, the secret, the timeline.

Written by `labctl up`/`boot`/`kill`, read by every labctl command and the
lab tests.  RUN/state.json, mode 0600 (it holds the pair's cluster secret).
"""

import json
import os

from . import config


def load():
    try:
        with open(config.STATE) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def save(state):
    os.makedirs(config.RUN, exist_ok=True)
    tmp = config.STATE + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=1)
    os.rename(tmp, config.STATE)


def update(**changes):
    state = load()
    state.update(changes)
    save(state)
    return state

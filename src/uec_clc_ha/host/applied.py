"""What the running services last took from the generated files: the applied-state records.

Written by whoever makes a running service take a file (cluster.live_apply's
apply, cluster-init, adopt, drbd-init) and read by live_apply's plan, the
postinst and doctor to tell whether the running cluster differs from its
files.  A file counts as applied when the running service took exactly its
content: paths.APPLIED keeps the sha256 of what was last loaded, and a copy
of the loaded cluster.crm (paths.CRM_LOADED, mode 0600, it holds secrets)
is what `apply` shows the change against.  (Which CIB objects a new file
drops is read from the live CIB itself: cluster.live_apply.)
"""

import hashlib
import json

from uec_clc_ha.host.paths import APPLIED, CRM_FILE, CRM_LOADED, STATE_DIR


def digest(content):
    return hashlib.sha256(content).hexdigest()


def applied(system):
    """{path: sha256} of what the running services last took."""
    text = system.read_or_none(APPLIED)
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def record(system, path, content):
    """Note that the running service took ``content`` of ``path`` (the CIB: a copy too, for the next diff)."""
    system.makedirs(STATE_DIR)
    if path == CRM_FILE:
        system.write_atomic(CRM_LOADED, content, mode=0o600)
    done = applied(system)
    done[path] = digest(content)
    system.write_atomic(APPLIED, json.dumps(done, indent=1, sort_keys=True) + "\n", mode=0o600)


def loaded_crm(system):
    """The cluster.crm the CIB was last loaded from (the kept copy), or None."""
    kept = system.read_or_none(CRM_LOADED)
    return None if kept is None else kept.decode("utf-8", "replace")

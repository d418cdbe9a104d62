"""Golden files of the rendered configuration (tests/golden/): compare and (re)generate.

Used by tests/unit/config/test_render.py and tests/support/crm_sim.py, and
run as `make golden` (python3 -m golden) after a deliberate template change;
review the diff of tests/golden/ before committing it.  It writes
tests/golden/ only: the generated files that ship are tools/generate.py's.
"""

import os
import shutil

from checkout import TOP
from scenarios import SCENARIOS, full_raw
from uec_clc_ha.config import keyring, render, settings

GOLDEN = os.path.join(TOP, "tests", "golden")


def golden_bytes(name, path):
    """The golden file at path of scenario name, as the package must install it."""
    with open(os.path.join(GOLDEN, name, path.lstrip("/")), "rb") as fh:
        return fh.read()


def rendered(name):
    config = settings.require_valid(full_raw(name))
    return render.render_all(config, keyring.derive(config.cluster_secret, config.cluster_name))


def manifest(files):
    return "".join(f"{f.mode:04o} {f.owner}:{f.group} {f.path}\n" for f in files.values())


def write(name):
    target = os.path.join(GOLDEN, name)
    shutil.rmtree(target, ignore_errors=True)
    files = rendered(name)
    for f in files.values():
        path = os.path.join(target, f.path.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(f.content)
    with open(os.path.join(target, "MANIFEST"), "w", encoding="utf-8") as fh:
        fh.write(manifest(files))


if __name__ == "__main__":
    for scenario in SCENARIOS:
        write(scenario)
        print(f"wrote {os.path.join(GOLDEN, scenario)}")

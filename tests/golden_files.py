"""Golden files of the rendered configuration: compare and (re)generate.

Used by tests/unit/test_render.py, and run as a script
(`make golden`, i.e. `/usr/bin/python3 tests/golden_files.py`) after a
deliberate template change; review the diff of tests/golden/ before
committing it.  It also writes src/completion/uec-clc-ha-ctl, the bash
completion generated from uec-clc-ha-ctl's parser (checked by
tests/unit/test_completion.py), and debian/ocf_ubuntu_eucaclc.7, the agent's
manual page generated from its meta-data (tests/unit/test_manpage.py).
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
sys.path.insert(0, HERE)

from scenarios import SCENARIOS, full_raw  # noqa: E402
from uec_clc_ha.agent import manpage as agent_manpage  # noqa: E402
from uec_clc_ha.config import keyring, render, settings  # noqa: E402
from uec_clc_ha.cli import completion, parser  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
COMPLETION = os.path.join(os.path.dirname(HERE), "src", "completion", "uec-clc-ha-ctl")
AGENT_MANPAGE = os.path.join(os.path.dirname(HERE), "debian", "ocf_ubuntu_eucaclc.7")


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
    with open(COMPLETION, "w", encoding="utf-8") as fh:
        fh.write(completion.script(parser()))
    print(f"wrote {COMPLETION}")
    with open(AGENT_MANPAGE, "w", encoding="utf-8") as fh:
        fh.write(agent_manpage.page())
    print(f"wrote {AGENT_MANPAGE}")

"""uec-clc-ha-ctl's bash completion in a real bash with Debian's bash-completion loaded.

The script is src/completion/uec-clc-ha-ctl (installed as
/usr/share/bash-completion/completions/uec-clc-ha-ctl); each case types a
command line and reads COMPREPLY as the shell would offer it.
"""

import os
import shlex
import subprocess

import pytest

from checkout import TOP

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
SCRIPT = os.path.join(TOP, "src", "completion", "uec-clc-ha-ctl")


def complete(line):
    words = line.split(" ")
    quoted = " ".join(shlex.quote(w) for w in words)
    program = (f"source {BASH_COMPLETION}; source {SCRIPT}; COMP_WORDS=({quoted}); "
               f"COMP_CWORD={len(words) - 1}; COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}; "
               "_uec_clc_ha_ctl; printf '%s\\n' \"${COMPREPLY[@]}\"")
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return sorted(w for w in done.stdout.splitlines() if w)


@pytest.mark.parametrize("line, expected", [
    ("uec-clc-ha-ctl st", ["standby", "status"]),
    ("uec-clc-ha-ctl --root /tmp cl", ["cloud-ip", "cluster-init"]),
    ("uec-clc-ha-ctl status --", ["--help", "--json", "--no-clc-check", "--root"]),
    ("uec-clc-ha-ctl set Fencing", ["Fencing-Delay=", "Fencing-Probe-Window=", "Fencing="]),
    ("uec-clc-ha-ctl set Fencing=s", ["sbd"]),
    ("uec-clc-ha-ctl set DRBD-Version=", ["8.4", "9", "auto"]),
    ("uec-clc-ha-ctl show VIP", ["VIP", "VIP-Interface", "VIP-Prefix"]),
    ("uec-clc-ha-ctl cluster-init --wait ", []),
])
def test_completes(line, expected):
    assert complete(line) == expected


def test_root_completes_directories(tmp_path):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    assert complete(f"uec-clc-ha-ctl apply --root {tmp_path}/a") == [f"{tmp_path}/adir"]

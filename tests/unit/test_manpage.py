"""uec-clc-ha-ctl(8) documents every setting with its real default, and every subcommand; ocf_ubuntu_eucaclc(7) is
the one the agent's meta-data makes now (`make golden`).  Both render without warnings: tests/integration/test_package.py.
"""

import os
import re

import golden_files
from uec_clc_ha.agent import manpage as agent_manpage, meta as agent_meta
from uec_clc_ha.config import settings
from uec_clc_ha.cli import COMMANDS

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def manpage():
    with open(os.path.join(TOP, "debian", "uec-clc-ha-ctl.8"), encoding="utf-8") as fh:
        return fh.read()


def documented_settings():
    text = manpage()
    section = text[text.index(".SH SETTINGS"):text.index(".SH FILES")]
    found = {}
    for block in section.split(".TP\n")[1:]:
        key = block.splitlines()[0].removeprefix(".B ").replace("\\-", "-")
        m = re.search(r"Default: \\fB(.*?)\\fR", block)
        found[key] = m.group(1).replace("\\-", "-") if m else ""
    return found


def test_every_setting_is_documented_with_its_default():
    documented = documented_settings()
    assert list(documented) == [fd.key for fd in settings.FIELDS]
    for fd in settings.FIELDS:
        assert documented[fd.key] == fd.default, fd.key


def test_every_subcommand_is_documented():
    text = manpage()
    section = text[text.index(".SH COMMANDS"):text.index(".SH SETTINGS")]
    for module in COMMANDS:
        escaped = re.escape(module.NAME.replace("-", "\\-"))
        assert re.search(rf"^\.B[RI]? \"?{escaped}\b", section, re.M), module.NAME


def test_agent_manpage_is_generated_from_the_meta_data():
    with open(golden_files.AGENT_MANPAGE, encoding="utf-8") as fh:
        text = fh.read()
    assert text == agent_manpage.page(), "run `make golden` and commit debian/ocf_ubuntu_eucaclc.7"
    for name, default, short, _ in agent_meta.PARAMETERS:
        assert f".B {name}\n" in text, name
    for name, *_ in agent_meta.ACTIONS:
        assert f".B {name.replace('-', chr(92) + '-')}\n" in text, name

"""The generated files that ship are what the code makes now, and say what they must (tools/generate.py).

The bash completion (from uec-clc-ha-ctl's parser and the settings' fields),
uec-clc-ha-ctl(8) (its SYNOPSIS from the parser, its SETTINGS from the
fields, its version from debian/changelog) and ocf_ubuntu_eucaclc(7) (from
the agent's meta-data).  A stale one fails here: run `make generated`.  How
the completion completes in a real bash: tests/integration/test_bash_completion.py;
that both pages render without warnings: tests/integration/test_package.py.
"""

import re

import pytest

import generate
from checkout import package_version
from uec_clc_ha.agent import meta as agent_meta
from uec_clc_ha.cli import COMMANDS, parser
from uec_clc_ha.config import settings


GENERATED = generate.generated()          # made once: each file's test compares with its own entry


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_the_shipped_file_is_current(path):
    with open(path, encoding="utf-8") as fh:
        assert fh.read() == GENERATED[path], f"{path} is stale: run `make generated` and commit it"


def test_completion_names_every_subcommand_option_and_setting():
    text = generate.script(parser())
    for module in COMMANDS:
        assert f"        {module.NAME})\n" in text, module.NAME
    for option in ("--json", "--no-clc-check", "--dry-run", "--generate-secret", "--from-backup", "--wait"):
        assert option in text
    for fd in settings.FIELDS:
        assert f" {fd.key}" in text or f'"{fd.key}' in text, fd.key
    assert 'Fencing) COMPREPLY=($(compgen -W "sbd ipmilan none"' in text


def documented_settings(text):
    section = text[text.index(".SH SETTINGS"):text.index(".SH FILES")]
    found = {}
    for block in section.split(".TP\n")[1:]:
        key = block.splitlines()[0].removeprefix(".B ").replace("\\-", "-")
        m = re.search(r"Default: \\fB(.*?)\\fR", block)
        found[key] = m.group(1).replace("\\-", "-") if m else ""
    return found


def test_every_setting_is_documented_with_its_default():
    documented = documented_settings(generate.ctl_page())
    assert list(documented) == [fd.key for fd in settings.FIELDS]
    for fd in settings.FIELDS:
        assert documented[fd.key] == fd.default, fd.key


def test_every_subcommand_is_in_the_synopsis_and_documented():
    text = generate.ctl_page()
    synopsis = text[text.index(".SH SYNOPSIS"):text.index(".SH DESCRIPTION")]
    commands = text[text.index(".SH COMMANDS"):text.index(".SH SETTINGS")]
    for module in COMMANDS:
        escaped = re.escape(module.NAME.replace("-", "\\-"))
        assert re.search(rf"^\.SY uec\\-clc\\-ha\\-ctl\n\.B {escaped}\n", synopsis, re.M), module.NAME
        assert re.search(rf"^\.B[RI]? \"?{escaped}\b", commands, re.M), module.NAME


def test_the_pages_say_the_package_version():
    version = package_version().replace("-", "\\-")
    assert re.search(rf'^\.TH UEC\\-CLC\\-HA\\-CTL 8 \S+ "uec\\-clc\\-ha {re.escape(version)}"',
                     generate.ctl_page(), re.M)
    assert f'"uec\\-clc\\-ha {version}" "OCF resource agents"' in generate.agent_page()


def test_agent_manpage_documents_every_parameter_and_action():
    text = generate.agent_page()
    for name, default, short, _ in agent_meta.PARAMETERS:
        assert f".B {name}\n" in text, name
    for name, *_ in agent_meta.ACTIONS:
        assert f".B {name.replace('-', chr(92) + '-')}\n" in text, name

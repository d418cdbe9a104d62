"""The shipped bash completion is the one uec-clc-ha-ctl's parser makes now (regenerate with `make golden`).

How it completes in a real bash with bash-completion: tests/integration/test_bash_completion.py.
"""

import golden_files
from uec_clc_ha.config import settings
from uec_clc_ha.cli import COMMANDS, completion, parser


def test_shipped_completion_is_current():
    with open(golden_files.COMPLETION, encoding="utf-8") as fh:
        assert fh.read() == completion.script(parser()), "run `make golden` and commit src/completion/"


def test_completion_names_every_subcommand_option_and_setting():
    text = completion.script(parser())
    for module in COMMANDS:
        assert f"        {module.NAME})\n" in text, module.NAME
    for option in ("--json", "--no-clc-check", "--dry-run", "--generate-secret", "--from-backup", "--wait"):
        assert option in text
    for fd in settings.FIELDS:
        assert f" {fd.key}" in text or f'"{fd.key}' in text, fd.key
    assert 'Fencing) COMPREPLY=($(compgen -W "sbd ipmilan none"' in text

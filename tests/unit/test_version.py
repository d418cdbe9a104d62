"""The version lives in src/uec_clc_ha/__init__.py and must agree with debian/changelog."""

import os
import re

import uec_clc_ha
from checkout import TOP


def test_version_agrees_with_debian_changelog():
    with open(os.path.join(TOP, "debian", "changelog"), encoding="utf-8") as fh:
        first = fh.readline()
    m = re.match(r"^uec-clc-ha \(([^)]+)\) ", first)
    assert m, f"unexpected first changelog line: {first!r}"
    assert m.group(1) == uec_clc_ha.__version__


def test_setup_py_reads_the_same_version():
    with open(os.path.join(TOP, "setup.py"), encoding="utf-8") as fh:
        assert "src/uec_clc_ha/__init__.py" in fh.read()

"""Where things are in this checkout, and the package version (from debian/changelog). Tests only."""

import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def package_version():
    with open(os.path.join(TOP, "debian", "changelog"), encoding="utf-8") as fh:
        return re.match(r"^uec-clc-ha \(([^)]+)\)", fh.readline()).group(1)

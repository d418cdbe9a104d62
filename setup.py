"""Build description of the uec_clc_ha Python package.

Used by pybuild (debian/rules: dh --with python3 --buildsystem=pybuild) to
install the library for Debian's /usr/bin/python3, and by stdeb
(`python3 setup.py --command-packages=stdeb.command bdist_deb`) to build a
plain python3 library .deb.  The templates in conf/ ship inside the package
as uec_clc_ha/templates.  The entry points, the OCF agent, the man page and
the maintainer scripts are installed by debhelper, not here.
"""

import re

from setuptools import setup

with open("src/uec_clc_ha/__init__.py", encoding="utf-8") as fh:
    VERSION = re.search(r'^__version__ = "([^"]+)"', fh.read(), re.M).group(1)

setup(
    name="uec-clc-ha",
    version=VERSION,
    description="Active/passive high availability for Eucalyptus / UEC Cloud Controllers",
    long_description="Settings model, configuration rendering and verification, the uec-clc-ha-ctl "
                     "command and the ocf:ubuntu:eucaclc resource agent logic for a DRBD + Pacemaker "
                     "pair of Eucalyptus Cloud Controllers.",
    author="uec-clc-ha maintainers",
    author_email="maintainers@users.noreply.r-seed-a095919c.example",
    license="GPL-2+",
    url="https://uec-clc-ha.invalid/",
    python_requires=">=3.9",
    packages=["uec_clc_ha", "uec_clc_ha.agent", "uec_clc_ha.cli", "uec_clc_ha.cluster", "uec_clc_ha.config",
              "uec_clc_ha.data", "uec_clc_ha.host", "uec_clc_ha.maint", "uec_clc_ha.arbiter", "uec_clc_ha.templates"],
    package_dir={"": "src", "uec_clc_ha.templates": "conf"},
    package_data={"uec_clc_ha.templates": ["*.j2"]},
    install_requires=["jinja2", "python-debian", "psutil"],
)

"""uec-clc-ha: an active/passive high-availability pair of Eucalyptus Cloud Controllers.

Imported by every entry point (uec-clc-ha-ctl, the OCF agent, the maintainer
helpers).  It holds nothing but the version, which must agree with
debian/changelog (tests/unit/test_version.py checks it); importing it does no work.
"""

__version__ = "0.8.2"

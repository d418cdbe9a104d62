"""Fixtures shared by the integration tests: the package built once per session, stand-in CLCs."""

import os
import shutil
import subprocess

import pytest

from clc_standin import Installation, make_cert
from checkout import TOP, package_version


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    """A directory holding this tree's freshly built packages and lintian's report."""
    if not shutil.which("dpkg-buildpackage", path="/usr/bin:/usr/sbin"):
        pytest.skip("dpkg-dev not installed")
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, DIST_DIR=str(out), PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    done = subprocess.run([os.path.join(TOP, "tools", "build-deb.sh")], cwd=TOP, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:]
    return out


@pytest.fixture(scope="session")
def deb(dist):
    return str(dist / f"uec-clc-ha_{package_version()}_all.deb")


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for the stand-in CLC's HTTPS port, made at test time."""
    return make_cert(str(tmp_path_factory.mktemp("cert")))


@pytest.fixture
def clc(tmp_path, cert):
    """A stand-in Eucalyptus installation (tests/support/clc_standin.py); whatever it runs is killed afterwards."""
    inst = Installation(tmp_path / "euca", *cert)
    yield inst
    inst.kill_everything()

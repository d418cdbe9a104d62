"""The .deb is built for real (dpkg-buildpackage, source + binary) and lintian-clean.

The session's build (the dist fixture runs tools/build-deb.sh once) is
checked here: lintian's verdict and the package's contents.
"""

import os
import shutil
import subprocess

import pytest

from checkout import TOP, package_version as version

pytestmark = pytest.mark.skipif(not shutil.which("dpkg-buildpackage", path="/usr/bin:/usr/sbin"),
                                reason="dpkg-dev not installed")


def test_lintian_has_no_errors_or_warnings(dist):
    report = (dist / "lintian.txt").read_text()
    bad = [line for line in report.splitlines() if line[:2] in ("E:", "W:")]
    assert bad == [], "\n".join(bad)


def test_deb_contents(dist):
    deb = dist / f"uec-clc-ha_{version()}_all.deb"
    assert deb.exists()
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], stdout=subprocess.PIPE, text=True, check=True).stdout
    rows = {line.split()[-1]: line.split()[0] for line in listing.splitlines()}
    assert rows["./usr/lib/ocf/resource.d/ubuntu/eucaclc"] == "-rwxr-xr-x"
    assert rows["./usr/sbin/uec-clc-ha-ctl"] == "-rwxr-xr-x"
    assert "./usr/share/man/man8/uec-clc-ha-ctl.8.gz" in rows
    assert "./usr/share/man/man7/ocf_ubuntu_eucaclc.7.gz" in rows
    assert rows["./usr/share/bash-completion/completions/uec-clc-ha-ctl"] == "-rw-r--r--"
    assert "./usr/lib/python3/dist-packages/uec_clc_ha/config/settings.py" in rows
    assert "./usr/lib/python3/dist-packages/uec_clc_ha/templates/corosync.conf.j2" in rows
    # the guides an installed system's messages point to (cluster-init's SBD steps: configuration.md)
    for guide in ("README.md", "install.md", "configuration.md", "adopt.md", "upgrade.md"):
        assert f"./usr/share/doc/uec-clc-ha/{guide}.gz" in rows, guide


def test_source_package_was_built_too(dist):
    assert (dist / f"uec-clc-ha_{version()}.dsc").exists()
    assert list(dist.glob(f"uec-clc-ha_{version()}*.changes"))


@pytest.mark.skipif(not os.path.exists("/usr/lib/python3/dist-packages/stdeb"), reason="python3-stdeb not installed")
def test_stdeb_still_builds_a_library_deb(tmp_path):
    """The design card's stdeb path: a python3 library .deb of uec_clc_ha (no scripts, no debconf)."""
    tree = tmp_path / "tree"
    shutil.copytree(TOP, tree, ignore=shutil.ignore_patterns(".git", "build", "dist", "deb_dist", "__pycache__",
                                                             "*.egg-info", ".pytest_cache"))
    env = dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin", DEB_BUILD_OPTIONS="nocheck")
    done = subprocess.run(["/usr/bin/python3", "setup.py", "--command-packages=stdeb.command", "bdist_deb"],
                          cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-4000:]
    debs = list((tree / "deb_dist").glob("python3-uec-clc-ha_*_all.deb"))
    assert len(debs) == 1
    listing = subprocess.run(["dpkg-deb", "-c", str(debs[0])], stdout=subprocess.PIPE, text=True,
                             check=True).stdout
    assert "/dist-packages/uec_clc_ha/config/settings.py" in listing
    assert "/dist-packages/uec_clc_ha/templates/cluster.crm.j2" in listing


@pytest.mark.parametrize("page", ["uec-clc-ha-ctl.8", "ocf_ubuntu_eucaclc.7"])
def test_manual_pages_render_without_warnings(page):
    done = subprocess.run(["man", "--warnings", "-l", os.path.join(TOP, "doc", "man", page)],
                          env=dict(os.environ, MANWIDTH="80"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert len(done.stdout) > 2000

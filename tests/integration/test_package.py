"""The .debs are built for real (dpkg-buildpackage, source + three binaries) and lintian-clean.

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


def _listing(dist, package):
    deb = dist / f"{package}_{version()}_all.deb"
    assert deb.exists()
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], stdout=subprocess.PIPE, text=True, check=True).stdout
    return {line.split()[-1]: line.split()[0] for line in listing.splitlines()}


def _field(dist, package, field):
    return subprocess.run(["dpkg-deb", "-f", str(dist / f"{package}_{version()}_all.deb"), field],
                          stdout=subprocess.PIPE, text=True, check=True).stdout.strip()


def test_deb_contents(dist):
    rows = _listing(dist, "uec-clc-ha")
    assert rows["./usr/lib/ocf/resource.d/ubuntu/eucaclc"] == "-rwxr-xr-x"
    assert rows["./usr/sbin/uec-clc-ha-ctl"] == "-rwxr-xr-x"
    assert "./usr/share/man/man8/uec-clc-ha-ctl.8.gz" in rows
    assert "./usr/share/man/man7/ocf_ubuntu_eucaclc.7.gz" in rows
    assert rows["./usr/share/bash-completion/completions/uec-clc-ha-ctl"] == "-rw-r--r--"
    # the guides an installed system's messages point to (cluster-init's SBD steps: configuration.md)
    for guide in ("README.md", "install.md", "configuration.md", "adopt.md", "upgrade.md"):
        assert f"./usr/share/doc/uec-clc-ha/{guide}.gz" in rows, guide
    assert not [path for path in rows if "dist-packages" in path], "the library is python3-uec-clc-ha's"
    assert f"python3-uec-clc-ha (= {version()})" in _field(dist, "uec-clc-ha", "Depends")


def test_the_library_is_its_own_package_and_takes_its_files_over_from_an_older_uec_clc_ha(dist):
    rows = _listing(dist, "python3-uec-clc-ha")
    assert "./usr/lib/python3/dist-packages/uec_clc_ha/config/settings.py" in rows
    assert "./usr/lib/python3/dist-packages/uec_clc_ha/templates/corosync.conf.j2" in rows
    assert "./usr/lib/python3/dist-packages/uec_clc_ha/arbiter/service.py" in rows
    assert not [path for path in rows if "/sbin/" in path or "/ocf/" in path]
    for field in ("Breaks", "Replaces"):
        assert _field(dist, "python3-uec-clc-ha", field) == "uec-clc-ha (<< 0.6.0~)"


def test_the_arbiter_package_holds_its_command_socket_and_debconf(dist):
    rows = _listing(dist, "uec-clc-ha-arbiter")
    assert rows["./usr/sbin/uec-clc-ha-arbiter"] == "-rwxr-xr-x"
    assert "./usr/lib/systemd/system/uec-clc-ha-arbiter.socket" in rows
    assert "./usr/lib/systemd/system/uec-clc-ha-arbiter@.service" in rows
    assert "./usr/share/man/man8/uec-clc-ha-arbiter.8.gz" in rows
    assert not [path for path in rows if "dist-packages" in path or path.startswith("./lib/")]
    depends = _field(dist, "uec-clc-ha-arbiter", "Depends")
    assert "corosync-qnetd" in depends and f"python3-uec-clc-ha (= {version()})" in depends
    control = subprocess.run(["dpkg-deb", "-I", str(dist / f"uec-clc-ha-arbiter_{version()}_all.deb")],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
    for script in ("config", "templates", "postinst", "postrm"):
        assert f" {script} " in control, script


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

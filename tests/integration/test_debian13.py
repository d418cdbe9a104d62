"""The package on Debian 13 (trixie) as on Debian 12: trixie's own tools judge it, in a trixie root.

This host is Debian 12, and the other package tests (test_maintainer_scripts,
test_verify_tools, ...) run with its tools: Pacemaker 2.1.5, crmsh 4.4,
fence-agents 4.12, lintian of bookworm.  Here a cached trixie root
(lablib.chroot.base_root(..., suite="trixie"): debian/control's Depends,
satisfied by apt as it would for the .deb, plus the test tools) runs:

- the same checker and agent tests, from a copy of this tree, with trixie's
  Pacemaker 3, crmsh 5, corosync 3.1.9, drbd-utils 9.22, fence-agents 4.16,
  heartbeat and Python 3.13 (the unit tests too: Python 3.13);
- the default preseeded install (SBD fencing: fence_sbd comes from
  fence-agents-sbd there), its generated files, `uec-clc-ha-ctl check`, and a
  purge that leaves the root as it was;
- trixie's lintian on the source and binary packages.

What the lab proves on a running Debian 13 pair is in tests/lab (`make lab
RELEASE=trixie`).  Runs as root (chroots, namespaces).
"""

import os
import re
import shutil

import pytest

from lablib import chroot, packages
from lablib.chroot import CLC_PACKAGES, ChrootRoot, diff_snapshots
from checkout import TOP, package_version
from clc_roots import install, preseed, stand_in_services
from golden import golden_bytes as golden

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chroots and namespaces need root")

SUITE = "trixie"
# What the copied tests need beside the package's Depends: pytest, the checkers the host has from
# `make deps` (heartbeat, xmllint, ocf-tester is in resource-agents), and lintian.
TOOLS = ["python3-pytest", "heartbeat", "libxml2-utils", "lintian", "openssl", "iproute2", "util-linux", "acl"]
# The tests that run again with trixie's tools: the real checkers, placement, the fencing agent's
# timeouts, the OCF agent under ocf-tester, and the unit tests (Python 3.13).
COPIED_TESTS = ["tests/unit", "tests/integration/test_verify_tools.py", "tests/integration/test_ctl_real.py",
                "tests/integration/test_crm_simulate.py", "tests/integration/test_fencing_timeouts.py",
                "tests/integration/test_ocf_tester.py", "tests/integration/test_drbd_handler.py"]
TREE = "/tmp/tree"


@pytest.fixture(scope="module")
def base():
    return chroot.base_root(CLC_PACKAGES + TOOLS, suite=SUITE)


def test_the_root_is_debian_13_with_pacemaker_3(base):
    with open(os.path.join(base, "etc", "debian_version")) as fh:
        assert fh.read().startswith("13.")
    version = chroot.run_in(base, ["crm_verify", "--version"]).stdout
    assert re.match(r"Pacemaker 3\.", version), version
    listed = chroot.run_in(base, ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n"]).stdout
    installed = {line.split()[0] for line in listed.splitlines() if line.split()[1:2] == ["ii"]}
    assert "fence-agents-sbd" in installed        # what the Depends' first alternative resolves to there


def test_checker_and_agent_tests_pass_with_trixies_tools(base, tmp_path):
    with ChrootRoot(base, tmp_path) as root:
        for f in packages.tree_files():
            if os.path.isdir(os.path.join(TOP, f)):
                continue
            os.makedirs(os.path.dirname(root.host_path(f"{TREE}/{f}")), exist_ok=True)
            shutil.copy2(os.path.join(TOP, f), root.host_path(f"{TREE}/{f}"))
        done = root.run(["sh", "-c", f"cd {TREE} && python3 -m pytest -q -p no:cacheprovider -rs "
                                     + " ".join(COPIED_TESTS)], check=False, timeout=1800)
    output = done.stdout + done.stderr
    summary = output.strip().splitlines()[-1]
    assert done.returncode == 0, output[-6000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, output[-3000:]
    # the skip policy allows some skips on any host; none of them may hide a checker here
    skipped = re.findall(r"^SKIPPED \[\d+\] (\S+)", output, re.M)
    assert not [s for s in skipped if any(os.path.basename(t) in s for t in COPIED_TESTS[1:])], output[-3000:]


@pytest.fixture
def clc(base, tmp_path):
    with ChrootRoot(base, tmp_path) as root:
        stand_in_services(root)
        yield root


def test_default_install_configures_checks_and_purges_cleanly(clc, deb):
    """The install that failed on trixie before fence-agents-sbd was a Depends: SBD fencing, every default."""
    before = clc.snapshot()
    preseed(clc)
    done = install(clc, deb)
    assert clc.run(["dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", "uec-clc-ha"]).stdout == \
        f"{package_version()} ii "
    for path in ("/etc/uec-clc-ha/cluster.crm", "/etc/corosync/corosync.conf", "/etc/drbd.d/uec-clc.res"):
        assert clc.read(path) == golden("corosync-drbd84", path), path
    check = clc.run(["uec-clc-ha-ctl", "check"], check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "verified /etc/uec-clc-ha/cluster.crm (crm configure load + crm_verify)" in check.stdout, check.stdout
    assert "WARNING" not in done.stderr, done.stderr
    clc.run(["apt-get", "purge", "-y", "uec-clc-ha", "python3-uec-clc-ha"])
    added, removed, _ = diff_snapshots(before, clc.snapshot())
    assert (added, removed) == ([], []), (added, removed)


def test_trixies_lintian_has_no_errors_or_warnings(base, dist, tmp_path):
    version = package_version()
    with ChrootRoot(base, tmp_path) as root:
        os.makedirs(root.host_path("/tmp/dist"))
        for name in os.listdir(dist):
            if name.split("_", 1)[0] in ("uec-clc-ha", "python3-uec-clc-ha", "uec-clc-ha-arbiter") and \
                    name.split("_")[1].startswith(version):
                shutil.copy2(dist / name, root.host_path(f"/tmp/dist/{name}"))
        changes = next(n for n in os.listdir(dist) if n.endswith(".changes"))
        done = root.run(["lintian", "-I", "-E", "--pedantic", f"/tmp/dist/{changes}"], check=False, timeout=900)
    report = done.stdout + done.stderr
    bad = [line for line in report.splitlines() if line[:2] in ("E:", "W:")]
    assert bad == [] and done.returncode == 0, report

"""Boot start-up of Eucalyptus: the upstart path and the exact undo, on temporary roots.

(sysv and systemd run update-rc.d and systemctl for real; the package tests
in tests/integration/test_maintainer_scripts.py cover them in a chroot.)
"""

import json

from uec_clc_ha.host import boot

JOB = "start on runlevel [2345]\nexec /usr/sbin/eucalyptus-cloud\n"


def upstart_root(root, version=None):
    root.write_atomic("/etc/init/eucalyptus.conf", JOB)
    root.write_atomic("/etc/init/eucalyptus-network.conf", JOB)
    if version:
        root.write_atomic("/var/lib/dpkg/status", f"Package: upstart\nStatus: install ok installed\n"
                                                  f"Version: {version}\n\n")
    return root


def test_upstart_overrides_and_exact_restore(root):
    upstart_root(root, "1.5-0ubuntu7")
    root.write_atomic("/etc/init/eucalyptus-network.override", "# admin's own\nenv X=1\n")
    said = []
    records = boot.disable(root, said.append)
    assert [(r["System"], r["Service"]) for r in records] == [("upstart", "eucalyptus"),
                                                             ("upstart", "eucalyptus-network")]
    assert root.read("/etc/init/eucalyptus.override").endswith("manual\n")
    assert root.read("/etc/init/eucalyptus-network.override").endswith("manual\n")
    assert json.loads(root.read(boot.STATE))[1]["Previous"] == "# admin's own\nenv X=1\n"
    assert boot.disable(root, said.append) == records          # idempotent: nothing new recorded
    boot.restore(root, said.append)
    assert not root.exists("/etc/init/eucalyptus.override")
    assert root.read("/etc/init/eucalyptus-network.override") == "# admin's own\nenv X=1\n"
    assert not root.exists(boot.STATE)


def test_old_upstart_is_explained_not_edited(root):
    upstart_root(root, "0.6.5-8")
    said = []
    assert boot.disable(root, said.append) == []
    assert not root.exists("/etc/init/eucalyptus.override")
    assert root.read("/etc/init/eucalyptus.conf") == JOB
    assert any("'start on' stanza" in s and "does not edit it" in s for s in said)


def test_an_existing_manual_override_is_left_alone(root):
    upstart_root(root)
    root.write_atomic("/etc/init/eucalyptus.override", "manual\n")
    records = boot.disable(root, lambda s: None)
    assert ("upstart", "eucalyptus") not in [(r["System"], r["Service"]) for r in records]
    boot.restore(root, lambda s: None)
    assert root.read("/etc/init/eucalyptus.override") == "manual\n"


def test_nothing_installed_is_not_an_error(root):
    assert boot.disable(root, lambda s: None) == []
    assert boot.restore(root, lambda s: None) == []

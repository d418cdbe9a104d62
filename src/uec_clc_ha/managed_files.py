"""Generated files installed the Debian way: ucf for our own files, a diversion for corosync's.

Called by the maintainer helpers (uec_clc_ha.maint) on configure.  Policy
10.7.3: files that maintainer scripts generate are not conffiles, keep the
admin's changes and go on purge, so each one is handed to ucf (`ucf
--debconf-ok NEW DEST` + `ucfr`): an admin's edit is kept and the new version
left beside it as DEST.ucf-dist.  Policy 10.7.4: /etc/corosync/corosync.conf
is a conffile of corosync, so it is taken over with `dpkg-divert --package
uec-clc-ha --rename` before it is written, and given back on purge (by the
postrm, which reads the list of files kept here).
"""

import os

from .settings import STATE_DIR

PACKAGE = "uec-clc-ha"
STAGING = f"{STATE_DIR}/staging"
GENERATED_LIST = f"{STATE_DIR}/generated-files"
COROSYNC_CONF = "/etc/corosync/corosync.conf"
COROSYNC_DISTRIB = "/etc/corosync/corosync.conf.distrib"


def _dpkg_divert(system, *args):
    root = [] if system.is_live else [f"--root={system.root}"]
    return system.run(["dpkg-divert", *root, "--package", PACKAGE, "--rename", *args])


def ensure_diversion(system, path=COROSYNC_CONF, to=COROSYNC_DISTRIB):
    """Divert another package's conffile to ``to`` (idempotent); True when it was added now."""
    from .pipeline import diverted_by_us

    if diverted_by_us(system, path):
        return False
    _dpkg_divert(system, "--divert", to, "--add", path)
    return True


def remove_diversion(system, path=COROSYNC_CONF, to=COROSYNC_DISTRIB):
    """Give the file back to its package: ours goes, the diverted original returns."""
    from .pipeline import diverted_by_us

    if not diverted_by_us(system, path):
        return False
    system.remove(path)
    _dpkg_divert(system, "--divert", to, "--remove", path)
    return True


def _staged_path(path):
    return f"{STAGING}/{path.strip('/').replace('/', '__')}"


def install(system, f, log):
    """Install one RenderedFile through ucf; returns "unchanged", "installed" or "kept-local"."""
    current = system.read_or_none(f.path)
    if current == f.content and not system.exists(f"{f.path}.ucf-dist") and _registered(system, f.path):
        _fix_mode(system, f)
        return "unchanged"
    system.makedirs(STAGING, mode=0o700)
    staged = _staged_path(f.path)
    system.write_atomic(staged, f.content, mode=f.mode & 0o600 or 0o400)
    try:
        system.makedirs(os.path.dirname(f.path))
        system.run(["ucf", "--package", PACKAGE, "--debconf-ok", system.path(staged), f.path], debconf=True)
        system.run(["ucfr", PACKAGE, f.path])
    finally:
        system.remove(staged)
    if system.read_or_none(f.path) == f.content:
        _fix_mode(system, f)
        system.remove(f"{f.path}.ucf-dist")
        return "unchanged" if current == f.content else "installed"
    log(f"kept your changed {f.path}; the version generated from the settings is {f.path}.ucf-dist")
    return "kept-local"


def _registered(system, path):
    data = system.read_or_none("/var/lib/ucf/registry")
    return bool(data) and any(line.split()[-1:] == [path] for line in data.decode("utf-8", "replace").splitlines())


def _fix_mode(system, f):
    st = system.stat(f.path)
    if st is not None and st.st_mode & 0o7777 != f.mode:
        system.set_owner_mode(f.path, f.mode, f.owner, f.group)


def retire(system, path, log):
    """A file we generated before that the settings no longer call for: unregister and remove it."""
    system.run(["ucf", "--package", PACKAGE, "--purge", path])
    system.run(["ucfr", "--purge", PACKAGE, path])
    if path == COROSYNC_CONF:
        remove_diversion(system)
    else:
        system.remove(path)
    for suffix in (".ucf-dist", ".ucf-old", ".ucf-new"):
        system.remove(path + suffix)
    log(f"removed {path}, which the settings no longer call for")


def load_generated(system):
    data = system.read_or_none(GENERATED_LIST)
    return [line for line in (data or b"").decode("utf-8").splitlines() if line.startswith("/")]


def save_generated(system, paths):
    system.write_atomic(GENERATED_LIST, "".join(f"{p}\n" for p in sorted(paths)), mode=0o644)

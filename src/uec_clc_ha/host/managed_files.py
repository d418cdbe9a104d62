"""The one writer of managed files: the settings file and every generated file, with ucf's registry kept true.

Called by the maintainer helpers (uec_clc_ha.maint) on configure, and by
`uec-clc-ha-ctl set` and `apply`.  Policy 10.7.3: files that maintainer
scripts generate are not conffiles, keep the admin's changes and go on
purge, so on a host where the package is installed every write goes through
ucf (`ucf NEW DEST` + `ucfr`), whoever makes it:

- the postinst (``Installer(system, log, "package")``): ucf's three-way
  handling; an admin's edit is kept and the new version left beside it as
  DEST.ucf-dist;
- set and apply (``Installer(system, log, "admin")``): the admin asked for
  exactly this content, so it replaces the file (UCF_FORCE_CONFFNEW) and ucf
  records it as the pristine version, so a later postinst never mistakes our
  own write for a hand edit.  A hand-edited file it replaces is kept first
  in /var/lib/uec-clc-ha/replaced/.

Every generated file is listed in /var/lib/uec-clc-ha/generated-files (the
postrm removes them on purge), files the settings no longer call for are
retired, and ucf's leftovers never stay in a directory whose every file a
tool reads (ifupdown sources /etc/network/interfaces.d/* whole): they move to
/var/lib/uec-clc-ha/ucf-kept/.

Policy 10.7.4: /etc/corosync/corosync.conf and /etc/default/sbd are
conffiles of corosync and sbd, so each is taken over with `dpkg-divert
--package uec-clc-ha --rename` before it is written (by the postinst, from
the list `python3 -m uec_clc_ha.maint diversions` prints), and given back
when the settings no longer call for it, or on purge.

Where the package is not installed (a tree under --root, a source checkout)
there is no registry to keep: files are written atomically, as they are.
"""

import hashlib
import os
import time

from uec_clc_ha.host.paths import (DPKG_DIVERSIONS_DB, DPKG_INFO, GENERATED_LIST, PACKAGE, REPLACED, STAGING,
                                   UCF_HASHFILE, UCF_KEPT, UCF_REGISTRY)

# Other packages' conffiles we take over (Policy 10.7.4): path -> where the package's own version goes.
DIVERTED_TO = {
    "/etc/corosync/corosync.conf": "/etc/corosync/corosync.conf.distrib",
    "/etc/default/sbd": "/etc/default/sbd.distrib",
}
UCF_SUFFIXES = (".ucf-dist", ".ucf-old", ".ucf-new")
# Directories whose every file a tool reads, whatever its name.
READ_ALL_DIRS = ("/etc/network/interfaces.d", "/etc/modules-load.d")


def _dpkg_divert(system, *args):
    root = [] if system.is_live else [f"--root={system.root}"]
    return system.run(["dpkg-divert", *root, "--package", PACKAGE, "--rename", *args])


def diverted_by_us(system, path):
    """True when dpkg's diversion of path (in the root's dpkg database) belongs to uec-clc-ha."""
    data = system.read_or_none(DPKG_DIVERSIONS_DB)
    if not data:
        return False
    lines = data.decode("utf-8", "replace").splitlines()
    for i in range(0, len(lines) - 2, 3):
        if lines[i] == path and lines[i + 2] == PACKAGE:
            return True
    return False


def is_conffile_of(system, package, path):
    """True when the root's dpkg lists path as a conffile of package."""
    data = system.read_or_none(f"{DPKG_INFO}/{package}.conffiles")
    return bool(data) and path in data.decode("utf-8", "replace").split()


def remove_diversion(system, path):
    """Give a file back to its package: ours goes, the diverted original returns."""
    if not diverted_by_us(system, path):
        return False
    system.remove(path)
    _dpkg_divert(system, "--divert", DIVERTED_TO[path], "--remove", path)
    return True


def package_installed(system):
    """True when the root's dpkg has uec-clc-ha installed (unpacked at least) and ucf is there."""
    return system.exists(f"{DPKG_INFO}/{PACKAGE}.list") and system.which("ucf") is not None


def _staged_path(path):
    return f"{STAGING}/{path.strip('/').replace('/', '__')}"


def _md5(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def ucf_hash(system, path):
    """The md5 ucf recorded for path (the last version it installed), or None."""
    data = system.read_or_none(UCF_HASHFILE) or b""
    for line in data.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] == path:
            return fields[0]
    return None


def _registered(system, path):
    data = system.read_or_none(UCF_REGISTRY)
    return bool(data) and any(line.split()[-1:] == [path] for line in data.decode("utf-8", "replace").splitlines())


def _fix_mode(system, f):
    st = system.stat(f.path)
    if st is not None and st.st_mode & 0o7777 != f.mode:
        system.set_owner_mode(f.path, f.mode, f.owner, f.group)


class Installer:
    """Writes managed files for one caller: "package" (the postinst) or "admin" (set, apply)."""

    def __init__(self, system, log, mode):
        if mode not in ("package", "admin"):
            raise ValueError(mode)
        self.system, self.log, self.mode = system, log, mode
        self.use_ucf = mode == "package" or (system.is_live and package_installed(system))

    def install(self, f):
        """Install one RenderedFile; returns "unchanged", "installed", "kept-local" or "replaced-local"."""
        if not self.use_ucf:
            return self._plain(f)
        system = self.system
        current = system.read_or_none(f.path)
        recorded = ucf_hash(system, f.path)
        if current == f.content and recorded == _md5(f.content) and _registered(system, f.path) \
                and not any(system.exists(f.path + s) for s in UCF_SUFFIXES):
            _fix_mode(system, f)
            return "unchanged"
        # Not what ucf last installed (or never registered): somebody else's content.
        hand_edited = current is not None and current != f.content and recorded != _md5(current)
        if hand_edited and self.mode == "admin":
            self._keep_replaced(f.path, current)
        self._ucf(f)
        now = system.read_or_none(f.path)
        if now != f.content and self.mode == "admin":
            # ucf leaves a file alone when its registered version already equals the new one, even
            # with UCF_FORCE_CONFFNEW; the registry is right then, so the admin's write is ours to do.
            system.write_atomic(f.path, f.content, mode=f.mode, owner=f.owner, group=f.group)
            now = f.content
        if now == f.content:
            _fix_mode(system, f)
            for suffix in UCF_SUFFIXES:
                system.remove(f.path + suffix)
            if hand_edited:
                return "replaced-local"
            return "unchanged" if current == f.content else "installed"
        if system.exists(f"{f.path}.ucf-dist"):
            self._move_leftovers(f.path)
            self.log(f"kept your changed {f.path}; the version generated from the settings is "
                     f"{self._dist_name(f.path)}")
        else:
            self.log(f"kept your changed {f.path} (the settings give the same version as last time; "
                     "`uec-clc-ha-ctl diff` shows your changes, `uec-clc-ha-ctl apply` puts the generated "
                     "version back)")
        return "kept-local"

    def _plain(self, f):
        current = self.system.read_or_none(f.path)
        if current == f.content:
            _fix_mode(self.system, f)
            return "unchanged"
        self.system.write_atomic(f.path, f.content, mode=f.mode, owner=f.owner, group=f.group)
        return "installed"

    def _ucf(self, f):
        system = self.system
        system.makedirs(STAGING, mode=0o700)
        staged = _staged_path(f.path)
        system.write_atomic(staged, f.content, mode=f.mode & 0o600 or 0o400)
        try:
            system.makedirs(os.path.dirname(f.path))
            if self.mode == "package":
                system.run(["ucf", "--package", PACKAGE, "--debconf-ok", system.path(staged), f.path],
                           debconf=True)
            else:
                system.run(["ucf", "--package", PACKAGE, system.path(staged), f.path],
                           env={"UCF_FORCE_CONFFNEW": "1", "DEBIAN_FRONTEND": "noninteractive"})
            system.run(["ucfr", PACKAGE, f.path])
        finally:
            system.remove(staged)

    def _keep_replaced(self, path, content):
        """A copy of a hand-edited file that an admin command is about to replace (0600)."""
        copy = f"{REPLACED}/{path.strip('/').replace('/', '__')}.{time.strftime('%Y%m%dT%H%M%S')}"
        self.system.makedirs(REPLACED, mode=0o700)
        self.system.write_atomic(copy, content, mode=0o600)
        self.log(f"{path} had been edited by hand; it is replaced by the version generated from the "
                 f"settings, and your version is kept as {copy}")

    def _dist_name(self, path):
        kept = f"{UCF_KEPT}/{os.path.basename(path)}.ucf-dist"
        return kept if os.path.dirname(path) in READ_ALL_DIRS else f"{path}.ucf-dist"

    def _move_leftovers(self, path):
        """ucf's *.ucf-* files out of directories whose every file a tool reads."""
        if os.path.dirname(path) not in READ_ALL_DIRS:
            return
        for suffix in UCF_SUFFIXES:
            leftover = path + suffix
            data = self.system.read_or_none(leftover)
            if data is None:
                continue
            self.system.makedirs(UCF_KEPT, mode=0o700)
            self.system.write_atomic(f"{UCF_KEPT}/{os.path.basename(leftover)}", data, mode=0o600)
            self.system.remove(leftover)

    def retire(self, path):
        """A file we generated before that the settings no longer call for: unregister and remove it."""
        system = self.system
        if self.use_ucf:
            system.run(["ucf", "--package", PACKAGE, "--purge", path])
            system.run(["ucfr", "--purge", PACKAGE, path])
        if path in DIVERTED_TO:
            remove_diversion(system, path)
        else:
            system.remove(path)
        for suffix in UCF_SUFFIXES:
            system.remove(path + suffix)
            system.remove(f"{UCF_KEPT}/{os.path.basename(path)}{suffix}")
        self.log(f"removed {path}, which the settings no longer call for")

    def install_generated(self, files):
        """Every generated file of a build, the retired ones removed, the list for purge kept.

        Returns {path: result of install} for the files of this build.
        """
        results = {path: self.install(f) for path, f in sorted(files.items())}
        if self.use_ucf:
            for path in sorted(set(load_generated(self.system)) - set(files)):
                self.retire(path)
            save_generated(self.system, files)
        return results


def load_generated(system):
    data = system.read_or_none(GENERATED_LIST)
    return [line for line in (data or b"").decode("utf-8").splitlines() if line.startswith("/")]


def save_generated(system, paths):
    system.write_atomic(GENERATED_LIST, "".join(f"{p}\n" for p in sorted(paths)), mode=0o644)

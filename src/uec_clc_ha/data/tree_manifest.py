"""What a directory tree holds, entry by entry, so two trees can be proven identical.

Used by uec_clc_ha.data.migration to verify a copy before anything is switched,
to check a kept backup before it is discarded, and by the tests.  For every
entry: its type, mode, owner, group, mtime (ns), size, the SHA-256 of a
regular file's content, a symlink's target, a device's number, every
extended attribute (ACLs are the system.posix_acl_* attributes), and which
paths share an inode (hard links).  Files are hashed on two threads
(hashlib releases the GIL), which keeps verification as fast as reading.
"""

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor

def sha256_file(path):
    with open(path, "rb", buffering=0) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return []
    out = []
    for name in sorted(names):
        try:
            out.append([name, os.getxattr(path, name, follow_symlinks=False).hex()])
        except OSError:
            continue
    return out


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "char"),
                       (stat.S_ISBLK, "block")):
        if test(mode):
            return name
    return "unknown"


def walk(top):
    """(relative path, lstat) of top itself ('.') and of everything under it, parents first."""
    yield ".", os.lstat(top)
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(top, rel) if rel else top) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            yield path, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(path)


def manifest(top, progress=None):
    """{relative path: entry tuple} of a tree; ``progress(bytes)`` is told of each hashed file."""
    entries, files, inodes = {}, [], {}
    for rel, st in walk(top):
        kind = _kind(st.st_mode)
        full = os.path.join(top, rel)
        link = ""
        if kind == "file" and st.st_nlink > 1:
            link = inodes.setdefault((st.st_dev, st.st_ino), rel)
        detail = ""
        if kind == "symlink":
            detail = os.readlink(full)
        elif kind in ("char", "block"):
            detail = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
        elif kind == "file":
            files.append((rel, full, st.st_size))
        # Lists only (no tuples), so a manifest compares equal after a JSON round trip.
        entries[rel] = [kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns,
                        st.st_size if kind in ("file", "symlink") else 0,
                        detail, link, _xattrs(full), st.st_blocks if kind == "file" else 0]

    def digest(item):
        rel, full, size = item
        value = sha256_file(full)
        if progress:
            progress(size)
        return rel, value

    with ThreadPoolExecutor(max_workers=2) as pool:
        for rel, value in pool.map(digest, files):
            entries[rel][6] = value
    return entries


FIELDS = ("type", "mode", "uid", "gid", "mtime", "size", "content/target", "hard link of", "xattrs/ACLs")


def differences(expected, actual, limit=20):
    """Human-readable differences between two manifests (empty when identical).

    Allocated blocks are compared only one way: a copy may be sparser than
    its source, never fuller (sparse files must stay sparse).
    """
    out = []
    for rel in sorted(set(expected) | set(actual)):
        a, b = expected.get(rel), actual.get(rel)
        if a is None:
            out.append(f"{rel}: only in the copy")
        elif b is None:
            out.append(f"{rel}: missing from the copy")
        else:
            for name, x, y in zip(FIELDS, a, b):
                if x != y:
                    out.append(f"{rel}: {name} differs")
            if a[0] == "file" and b[9] > a[9] + 64:
                out.append(f"{rel}: the copy is not sparse ({b[9]} blocks for {a[9]})")
        if len(out) >= limit:
            out.append("… (more differences not shown)")
            break
    return out


def total_bytes(top):
    """(apparent bytes of regular files, allocated bytes) under top: for progress and space checks."""
    apparent = allocated = 0
    for _, st in walk(top):
        allocated += st.st_blocks * 512
        if stat.S_ISREG(st.st_mode):
            apparent += st.st_size
    return apparent, allocated

"""A partial Debian mirror of the next release for the lab's offline nodes, as an air-gapped site carries one in.

Called by the release-upgrade scenario (tests/lab/test_lab_release_upgrade.py)
through mirror(): the nodes have no network beyond the lab, so the packages
that move a node from one Debian release to the next come on the labdist
share (read-only 9p, /mnt/lab-dist in the guests), under archive/SUITE/.

What goes in is what the nodes will ask for: a chroot with the lab image's
package set on the old release (lablib.chroot.base_root of
config.image_packages(), the same `apt-get satisfy` the image build runs) and
uec-clc-ha from this tree unpacked, its sources switched to the new
release, then the very command the admin runs on a node, `apt-get
full-upgrade`, with --print-uris: every .deb it would fetch, with its size
and hash.  Those are fetched from this host's mirrors, checked, and laid out
at their pool paths; beside them each suite's signed InRelease and its
Packages.xz exactly as Debian publishes them (also under by-hash/), so the
nodes' apt verifies Debian's own signatures (bookworm's
debian-archive-keyring holds trixie's keys), as with any mirror.  A node
reads it with

    deb file:/mnt/lab-dist/archive/trixie/debian trixie trixie-updates main    (one line per suite)
    deb file:/mnt/lab-dist/archive/trixie/debian-security trixie-security main

(sources_list() writes them).  Built once per (old, new, package set,
uec-clc-ha .deb) under build/lab/dist/archive/ and reused; an interrupted
build is discarded.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

from . import chroot, config, packages

ARCH = "amd64"
GUEST_ROOT = "/mnt/lab-dist/archive"
# The lab's nodes hold no recommended packages (the image and every install use
# --no-install-recommends); the upgrade keeps it so, here and on the nodes.
UPGRADE = ["apt-get", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold", "full-upgrade"]


def directory(new):
    return os.path.join(config.DIST, "archive", new)


def _key(old, new, deb):
    h = hashlib.sha256(json.dumps([old, new, sorted(config.image_packages()), UPGRADE]).encode())
    with open(deb, "rb") as fh:
        h.update(hashlib.sha256(fh.read()).digest())
    with open(__file__, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()[:16]


def _name(uri):
    """The archive's directory for a mirror URI: its last path element (debian, debian-security)."""
    return urllib.parse.urlparse(uri).path.rstrip("/").rsplit("/", 1)[-1] or "debian"


def _suites(new):
    """[(mirror URI, suite, components)] of new's apt sources on this host (chroot.host_sources)."""
    _, lines = chroot.host_sources(new)
    return [(uri, suite, components) for _, uri, suite, *components in map(str.split, lines)]


def sources_list(new):
    """The sources.list a node uses to upgrade from the share."""
    return "".join(f"deb file:{GUEST_ROOT}/{new}/{_name(uri)} {suite} {' '.join(components)}\n"
                   for uri, suite, components in _suites(new))


def _fetch(url, path, digest=None, size=None):
    """url to path; ``digest``: "SHA256:hex" or "MD5Sum:hex" as apt prints it, checked with ``size``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".part"
    subprocess.run(["curl", "-fsS", "--retry", "3", "-o", tmp, url], check=True, timeout=900)
    kind, _, want = (digest or "").partition(":")
    algorithm = {"SHA256": "sha256", "SHA512": "sha512", "MD5Sum": "md5"}.get(kind)
    if algorithm or size is not None:
        with open(tmp, "rb") as fh:
            data = fh.read()
        if (algorithm and hashlib.new(algorithm, data).hexdigest() != want) or \
                (size is not None and len(data) != size):
            os.unlink(tmp)
            raise RuntimeError(f"{url}: not the file the archive's index describes ({digest}, {size} bytes)")
    os.rename(tmp, path)


# What apt-get update fetches of each suite (the first of these compressions the InRelease lists, as apt
# picks it): a missing file on a file: source is an error, not a 404 apt passes over.
INDEXES = (f"main/binary-{ARCH}/Packages", "main/i18n/Translation-en")
COMPRESSIONS = (".xz", ".bz2", ".gz")


def _indexes(out, new):
    """Each suite's InRelease and the INDEXES (and their by-hash copies), as published."""
    for uri, suite, _ in _suites(new):
        dists = os.path.join(out, _name(uri), "dists", suite)
        _fetch(f"{uri}/dists/{suite}/InRelease", os.path.join(dists, "InRelease"))
        with open(os.path.join(dists, "InRelease"), encoding="utf-8") as fh:
            sha256 = fh.read().partition("\nSHA256:\n")[2]
        listed = dict((name, digest) for digest, _, name in re.findall(r"^ ([0-9a-f]{64})\s+(\d+)\s+(\S+)$",
                                                                       sha256, re.M))
        for index in INDEXES:
            found = [index + c for c in COMPRESSIONS if index + c in listed]
            if not found:
                if index.endswith("Packages"):
                    raise RuntimeError(f"{uri} {suite}: InRelease lists no {index}.xz/.bz2/.gz")
                continue
            digest = listed[found[0]]
            target = os.path.join(dists, found[0])
            _fetch(f"{uri}/dists/{suite}/{found[0]}", target, f"SHA256:{digest}")
            by_hash = os.path.join(os.path.dirname(target), "by-hash", "SHA256", digest)
            os.makedirs(os.path.dirname(by_hash), exist_ok=True)
            os.link(target, by_hash)


def _uris(old, new, deb, log):
    """[(uri, size, digest)] of every .deb `apt-get full-upgrade` fetches on a node of the lab going old -> new
    (the digest as apt prints it, MD5Sum or SHA256, or "" where it prints none)."""
    base = chroot.base_root(config.image_packages(), suite=old)
    with tempfile.TemporaryDirectory() as tmp:
        with chroot.ChrootRoot(base, tmp, network=True) as root:
            inside = [root.copy_in(each, "/tmp") for each in packages.with_library(deb)]
            # unpacked, not configured (nothing to configure here): apt's resolver weighs its Depends
            # (fence-agents-sbd once fence-agents is 4.16) as on a node
            root.run(["dpkg", "--unpack", *inside], timeout=600)
            _, lines = chroot.host_sources(new)
            root.write("/etc/apt/sources.list", "".join(lines))
            root.run(["apt-get", "update"], timeout=1800)
            done = root.run([*UPGRADE, "--print-uris"], timeout=1800)
    found = [(uri, int(size), digest) for uri, size, digest in
             re.findall(r"^'(\S+\.deb)' \S+ (\d+) ?(\S*)$", done.stdout, re.M)]
    if not found:
        raise RuntimeError(f"apt-get full-upgrade {old} -> {new} would fetch nothing:\n{done.stdout[-2000:]}")
    log(f"archive: {len(found)} packages take a node from {old} to {new}")
    return found


def mirror(old, new, deb, log=print):
    """The share's archive for old -> new (built when missing or stale); its host path."""
    final = directory(new)
    stamp = os.path.join(final, "archive.json")
    key = _key(old, new, deb)
    try:
        with open(stamp) as fh:
            if json.load(fh)["key"] == key:
                return final
    except (OSError, ValueError, KeyError):
        pass
    os.makedirs(os.path.dirname(final), exist_ok=True)
    with open(final + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tmp = tempfile.mkdtemp(prefix=f"{new}.tmp", dir=os.path.dirname(final))
        os.chmod(tmp, 0o755)        # apt's unprivileged _apt reads the indexes where they lie (file: sources)
        try:
            sizes = 0
            for uri, size, digest in _uris(old, new, deb, log):
                mirror_path, _, pool = urllib.parse.urlparse(uri).path.partition("/pool/")
                # at the index's Filename (apt quotes "+" as %2b in the URI)
                path = os.path.join(tmp, _name(mirror_path), "pool", urllib.parse.unquote(pool))
                _fetch(uri, path, digest, size)
                sizes += os.path.getsize(path)
            _indexes(tmp, new)
            with open(os.path.join(tmp, "archive.json"), "w") as fh:
                json.dump({"key": key, "old": old, "new": new, "bytes": sizes}, fh)
            shutil.rmtree(final, ignore_errors=True)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log(f"archive: {sizes >> 20} MiB of {new} packages in {final}")
    return final

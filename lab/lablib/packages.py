"""The .debs the lab installs: uec-clc-ha from this tree, the release before it, the stand-in eucalyptus-cloud.

Called by `labctl up` (and by the upgrade scenario, which brings a pair up on
the previous release: tests/fixtures/uec-clc-ha_PREVIOUS_all.deb).  Each is rebuilt only when its inputs changed (a hash
of the files that go into it), into build/lab/dist/: uec-clc-ha by
tools/build-deb.sh (dpkg-buildpackage + lintian, exactly `make deb`), the
stand-in by lab/standin/build_package.py.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess

from . import config, host

STANDIN = os.path.join(config.TOP, "lab", "standin")
OURS_RE = re.compile(r"^uec-clc-ha_([^_]+)_all\.deb$")
LIBRARY = "python3-uec-clc-ha"
ARBITER = "uec-clc-ha-arbiter"
PREVIOUS = "0.3.0"           # the release a pair is upgraded from (tests/fixtures/README.md)


def _tree_hash(paths):
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.encode() + b"\0")
        if os.path.islink(path):
            h.update(os.readlink(path).encode())
        elif os.path.isfile(path):
            with open(path, "rb") as fh:
                h.update(fh.read())
            h.update(str(os.stat(path).st_mode & 0o111).encode())
    return h.hexdigest()[:16]


def tree_files():
    """The tree as tools/build-deb.sh packs it: tracked and untracked-not-ignored files that exist,
    relative to the top (also what test_debian13 copies into its Debian 13 root)."""
    out = subprocess.run(["git", "-C", config.TOP, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    return [f for f in out if f and os.path.exists(os.path.join(config.TOP, f))]


def _source_files():
    """What goes into the package: the tree without tests/."""
    return [os.path.join(config.TOP, f) for f in tree_files() if not f.startswith("tests/")]


def _cached(name, digest, build):
    os.makedirs(config.DIST, exist_ok=True)
    record = os.path.join(config.DIST, f"{name}.json")
    try:
        with open(record) as fh:
            known = json.load(fh)
        if known["hash"] == digest and os.path.exists(known["deb"]):
            return known["deb"], False
    except (OSError, ValueError, KeyError):
        pass
    deb = build()
    with open(record, "w") as fh:
        json.dump({"hash": digest, "deb": deb}, fh)
    return deb, True


def ours():
    """(path of uec-clc-ha_VERSION_all.deb, built now?); its siblings: with_library(), arbiter_of()."""
    def build():
        out = os.path.join(config.DIST, "uec-clc-ha")
        host.run([os.path.join(config.TOP, "tools", "build-deb.sh")], timeout=1200,
                 env={"PATH": host.PATH, "DIST_DIR": out, "LC_ALL": "C.UTF-8", "HOME": "/root"})
        return next(os.path.join(out, n) for n in sorted(os.listdir(out)) if OURS_RE.match(n))
    return _cached("uec-clc-ha", _tree_hash(_source_files()), build)


def _sibling(deb, package):
    version = OURS_RE.match(os.path.basename(deb)).group(1)
    return os.path.join(os.path.dirname(deb), f"{package}_{version}_all.deb")


def with_library(deb):
    """The .debs that install ``deb``: for uec-clc-ha, [python3-uec-clc-ha's .deb beside it, deb] since 0.6.0
    (the library split out then), [deb] for an earlier release (tests/fixtures); any other .deb alone."""
    if not OURS_RE.match(os.path.basename(deb)):
        return [deb]                  # not uec-clc-ha's (the stand-in eucalyptus-cloud)
    library = library_of(deb)
    return [library, deb] if os.path.exists(library) else [deb]


def library_of(deb):
    """The python3-uec-clc-ha .deb built with ``deb``."""
    return _sibling(deb, LIBRARY)


def arbiter_of(deb):
    """The uec-clc-ha-arbiter .deb built with ``deb``."""
    return _sibling(deb, ARBITER)


def previous():
    """Path of the release before this one (tests/fixtures), copied where the guests see build/lab/dist."""
    name = f"uec-clc-ha_{PREVIOUS}_all.deb"
    out = os.path.join(config.DIST, "previous")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(os.path.join(config.TOP, "tests", "fixtures", name), os.path.join(out, name))
    return os.path.join(out, name)


def standin():
    """(path of the stand-in eucalyptus-cloud .deb, built now?)."""
    files = [os.path.join(d, n) for d, _, names in os.walk(STANDIN) for n in names if "__pycache__" not in d]

    def build():
        done = host.run(["/usr/bin/python3", os.path.join(STANDIN, "build_package.py"),
                         os.path.join(config.DIST, "standin")], timeout=600)
        return done.stdout.strip().splitlines()[-1]
    return _cached("standin", _tree_hash(files), build)

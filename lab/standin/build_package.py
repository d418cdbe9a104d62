#!/usr/bin/python3
"""Build the lab's stand-in eucalyptus-cloud .deb from lab/standin/ (the lab and the package tests only).

Called by the lab (lab/lablib/packages.py) when the stand-in's inputs
changed: `build_package.py OUT_DIR` writes OUT_DIR/eucalyptus-cloud_VERSION_all.deb
and prints its path.  The package holds the launcher stand-in, the
image-store-proxy stand-in, package/ (configuration, init scripts, systemd
unit, maintainer scripts) and a populated /var/lib/eucalyptus and
/var/lib/image-store-proxy: ssh keys, an HSQLDB-like db directory, buckets
and some megabytes of images, generated from a fixed seed so every build has
the same bytes, and DEBIAN/md5sums, against which the lab checks that the
data survived migration onto DRBD.
"""

import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "2.0.3-0standin1"
SEED = 20100601
IMAGE_MIB = (3, 2, 2)             # image files, MiB each: some megabytes of replicated data


def _random_bytes(rng, size):
    return rng.getrandbits(8 * size).to_bytes(size, "little") if size else b""


def populate(root):
    rng = random.Random(SEED)
    files = {
        "var/lib/eucalyptus/.ssh/id_rsa": b"-----BEGIN OPENSSH PRIVATE KEY-----\nlab stand-in, not a key\n"
                                          b"-----END OPENSSH PRIVATE KEY-----\n",
        "var/lib/eucalyptus/.ssh/id_rsa.pub": b"ssh-rsa AAAAlabstandin eucalyptus@clc\n",
        "var/lib/eucalyptus/db/eucalyptus_general.script": b"CREATE SCHEMA PUBLIC AUTHORIZATION DBA\n" * 200,
        "var/lib/eucalyptus/db/eucalyptus_general.properties": b"version=1.8.0\nmodified=no\n",
        "var/lib/eucalyptus/db/eucalyptus_images.data": _random_bytes(rng, 256 * 1024),
        "var/lib/eucalyptus/nodes.list": b"",
        "var/lib/eucalyptus/bukkits/images/ubuntu-10.04-x86_64.manifest.xml":
            b"<manifest><image>ubuntu-10.04-x86_64</image></manifest>\n",
        "var/lib/eucalyptus/webapps/root/index.html": b"<html>Eucalyptus</html>\n",
        "var/lib/image-store-proxy/images/index.json": b'{"images": ["ubuntu-10.04", "ubuntu-10.10", "debian-5"]}\n',
    }
    for i, mib in enumerate(IMAGE_MIB):
        files[f"var/lib/image-store-proxy/images/image-{i}.img"] = _random_bytes(rng, mib << 20)
    files["var/lib/eucalyptus/bukkits/images/ubuntu-10.04-x86_64.part.0"] = _random_bytes(rng, 1 << 20)
    for path, data in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(data)
    os.chmod(os.path.join(root, "var/lib/eucalyptus/.ssh/id_rsa"), 0o600)
    for d in ("var/lib/eucalyptus/CC", "var/lib/eucalyptus/volumes", "var/lib/eucalyptus/modules"):
        os.makedirs(os.path.join(root, d), exist_ok=True)


def md5sums(root):
    lines = []
    for dirpath, _, names in sorted(os.walk(root)):
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] == "DEBIAN":
            continue
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    lines.append(f"{hashlib.md5(fh.read()).hexdigest()}  {os.path.relpath(path, root)}\n")
    return "".join(lines)


def build(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="standin-pkg.") as tmp:
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(HERE, "package"), root, symlinks=True)
        os.makedirs(os.path.join(root, "usr/sbin"), exist_ok=True)
        for name in ("eucalyptus-cloud", "image-store-proxy"):
            shutil.copy2(os.path.join(HERE, name), os.path.join(root, "usr/sbin", name))
            os.chmod(os.path.join(root, "usr/sbin", name), 0o755)
        os.symlink("eucalyptus-cloud.service", os.path.join(root, "lib/systemd/system/eucalyptus.service"))
        populate(root)
        control = os.path.join(root, "DEBIAN", "control")
        with open(control + ".in", encoding="utf-8") as fh:
            text = fh.read().replace("@VERSION@", VERSION)
        os.unlink(control + ".in")
        with open(control, "w", encoding="utf-8") as fh:
            fh.write(text)
        with open(os.path.join(root, "DEBIAN", "conffiles"), "w", encoding="utf-8") as fh:
            fh.write("/etc/eucalyptus/eucalyptus.conf\n/etc/eucalyptus/standin.json\n"
                     "/etc/init.d/eucalyptus\n/etc/init.d/image-store-proxy\n")
        with open(os.path.join(root, "DEBIAN", "md5sums"), "w", encoding="utf-8") as fh:
            fh.write(md5sums(root))
        for dirpath, dirnames, names in os.walk(root):
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), 0o755)
        deb = os.path.join(out_dir, f"eucalyptus-cloud_{VERSION}_all.deb")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb], check=True,
                       stdout=subprocess.DEVNULL)
    return deb


if __name__ == "__main__":
    print(build(sys.argv[1]))

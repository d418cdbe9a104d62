"""Throwaway Debian systems for the package tests: the .deb goes into a chroot, never onto this host.

Called, as root, by the package tests under tests/integration (and by their
self-test, tests/integration/test_chroot_root.py) when their fixtures are set up:

    base = base_root(PACKAGES)                   # cached; built on first use (minutes)
    with ChrootRoot(base, tmp_path) as root:     # per test: an overlay on the base (ms)
        root.copy_in(deb, "/tmp/pkg.deb")
        before = root.snapshot()
        root.run(["apt-get", "install", "-y", "/tmp/pkg.deb"])
        root.run(["apt-get", "purge", "-y", "uec-clc-ha"])
        assert diff_snapshots(before, root.snapshot()) == ([], [], [])

base_root() debootstraps the suite (minbase) from the mirror this host's apt
uses, satisfies the relations inside (package names, or Depends relations with
alternatives and versions; no recommends) and keeps the result as a
directory, /var/cache/uec-clc-ha-tests/SUITE-HASH (UEC_CLC_HA_TEST_CACHE
overrides the directory; SUITE-HASH.log is the build log), HASH covering suite,
packages and CACHE_VERSION (bump it when the recipe changes).  It is built in
a temporary directory under a lock and renamed when complete: an interrupted
build is discarded, parallel sessions wait for one build.  The base keeps
apt's lists (so `apt-get install ./x.deb` resolves dependencies offline),
the host's entries for SUITE and SUITE-* as /etc/apt/sources.list (for a suite
the host does not use, trixie on a bookworm host, its own release's entries
with the suite renamed: the same mirrors), and
/usr/sbin/policy-rc.d (exit 101: invoke-rc.d starts no service), and is
settled so that an install + purge of a clean package leaves snapshot() as it was.

ChrootRoot mounts an overlay (lower: the base, never written; upper and work
directories in a temporary directory) and removes it on exit.  run() executes
a command under chroot in new mount, PID, UTS, IPC and (unless network=True)
network namespaces, with its own /proc, a read-only /sys, a minimal /dev
(tmpfs: null zero full random urandom tty, private pts, shm), and a tmpfs /run.
Whatever the command mounts or starts dies with it, so the overlay is the only
mount on the host and no daemon outlives run().  Inside, unshare, mount -t
tmpfs, mount -t overlay (lower dirs anywhere in the root, upper dir on a
tmpfs: an upper dir on the root's own overlay is refused), veth and bridge
links work; dummy links do not (this kernel has no dummy driver).  /tmp is part
of the root (kept between run() calls); /run is not.  /dev has no log socket,
loop devices or net/tun.
"""

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import warnings

CACHE_VERSION = 1
CACHE_DIR = os.environ.get("UEC_CLC_HA_TEST_CACHE", "/var/cache/uec-clc-ha-tests")
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8", "PATH": SYSTEM_PATH, "HOME": "/root"}
OVERLAY_SOURCE = "uec-clc-ha-root"      # the overlay's source name in findmnt
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def control_depends(control=os.path.join(TOP, "debian", "control"), package="uec-clc-ha"):
    """The binary package's Depends, one relation each, as `apt-get satisfy` takes them.

    Alternatives and versions are kept ("fence-agents-sbd | fence-agents (<< 4.16~)"):
    apt picks what the suite has, as it does for the .deb itself.  ${python3:Depends}
    stands for python3; ${misc:Depends} for debconf, which minbase has.  A
    relation on a package of this source (python3-uec-clc-ha) stands for that
    package's own Depends: its .deb is installed beside the package's, never
    from the archive.  Recommends and Suggests are left out on purpose: the
    package must work with --no-install-recommends.
    """
    with open(control, encoding="utf-8") as fh:
        paragraphs = re.split(r"\n\s*\n", fh.read())
    stanzas = {}
    for para in paragraphs:
        name = re.search(r"^Package:\s*(\S+)\s*$", para, re.M)
        if name:
            field = re.search(r"^Depends:(.*(?:\n[ \t].*)*)", para, re.M)
            stanzas[name.group(1)] = field.group(1) if field else ""
    relations = []

    def add(name):
        for item in stanzas[name].replace("\n", " ").split(","):
            item = " ".join(item.split())
            if item == "${python3:Depends}":
                item = "python3"
            if not item or item.startswith("${"):
                continue
            own = relation_names(item)[0]
            if own in stanzas:
                add(own)
            elif item not in relations:
                relations.append(item)
    add(package)
    return relations


def relation_names(relation):
    """The package names of one relation's alternatives: "a | b (<< 2)" -> ["a", "b"]."""
    return [re.split(r"[\s(\[]", alt.strip(), maxsplit=1)[0] for alt in relation.split("|")]


# A Debian 12 Cloud Controller as the package tests need it: exactly uec-clc-ha's
# Depends (no Recommends: what the package needs must be a Depends), plus the
# tools the tests themselves drive: debconf-set-selections, update-rc.d and
# systemd's tools (not as PID 1) for the boot start-up tests, ps.
TEST_TOOLS = ["debconf-utils", "sysvinit-utils", "init-system-helpers", "systemd", "procps"]
CLC_PACKAGES = control_depends() + TEST_TOOLS
ARBITER_PACKAGES = control_depends(package="uec-clc-ha-arbiter") + TEST_TOOLS
SETUP_FAILED = 111

# snapshot() leaves out: the mount points run() covers (proc sys dev run), scratch
# space (tmp var/tmp), apt's download cache and lists, logs, man-db's index (its trigger builds
# it on the first install of any man page where man-db is installed), and the backups that
# dpkg, debconf and ucf rotate on every run.  Everything else is compared.
NOISE = ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/cache/apt", "/var/lib/apt/lists", "/var/log",
         "/var/cache/man")
NOISE_RE = re.compile(r"^/var/cache/debconf/[^/]*-old$|^/var/lib/dpkg/[^/]*-old$"
                      r"|^/var/lib/ucf/(hashfile|registry)\.\d+$")

UNSHARE = ["unshare", "--mount", "--propagation", "private", "--uts", "--ipc", "--pid", "--fork", "--kill-child"]

# $1 root, $2 "host" or "private" network, then the command.  Runs in the new
# namespaces, so every mount here disappears with the command.
_RUN_SH = r'''
root=$1 net=$2 path=$PATH
shift 2
( set -e
  PATH=/usr/sbin:/usr/bin:/sbin:/bin
  mount -t proc -o nosuid,nodev,noexec uec-clc-ha "$root/proc"
  mount -t sysfs -o ro,nosuid,nodev,noexec uec-clc-ha "$root/sys"
  mount -t tmpfs -o mode=755,nosuid,size=16m uec-clc-ha "$root/dev"
  cd "$root/dev"
  mknod -m 666 null c 1 3; mknod -m 666 zero c 1 5; mknod -m 666 full c 1 7
  mknod -m 666 random c 1 8; mknod -m 666 urandom c 1 9; mknod -m 666 tty c 5 0
  mkdir pts shm
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 uec-clc-ha pts
  mount -t tmpfs -o mode=1777,nosuid,nodev uec-clc-ha shm
  ln -s pts/ptmx ptmx; ln -s /proc/self/fd fd
  ln -s /proc/self/fd/0 stdin; ln -s /proc/self/fd/1 stdout; ln -s /proc/self/fd/2 stderr
  mount -t tmpfs -o mode=755,nosuid,nodev uec-clc-ha "$root/run"
  mkdir -m 1777 "$root/run/lock"
  [ "$net" = host ] || ip link set lo up
) || { echo "chroot_root: namespace set-up failed" >&2; exit 111; }
PATH=$path exec chroot "$root" "$@"
'''


class CommandFailed(subprocess.CalledProcessError):
    def __str__(self):
        return f"{super().__str__()}\n--- stdout\n{(self.stdout or '')[-3000:]}\n--- stderr\n{(self.stderr or '')[-3000:]}"


def command_in(root, argv, network=False):
    """The host command line that runs argv chrooted into root in private namespaces."""
    return [*UNSHARE, *([] if network else ["--net"]), "--", "/bin/sh", "-c", _RUN_SH, "sh",
            root, "host" if network else "private", *argv]


def run_in(root, argv, input=None, env=None, check=True, timeout=600, network=False):
    """Run argv chrooted into root in private namespaces (see the module docstring)."""
    try:
        done = subprocess.run(command_in(root, argv, network),
                              input=input, env={**DEFAULT_ENV, **(env or {})}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_all_in(root)          # unshare is dead; --kill-child's SIGKILL reaches the rest soon after
        raise
    if done.returncode == SETUP_FAILED and "chroot_root: namespace set-up failed" in done.stderr:
        raise RuntimeError(f"cannot set up namespaces for {argv}: {done.stderr}")
    if check and done.returncode != 0:
        raise CommandFailed(done.returncode, argv, done.stdout, done.stderr)
    return subprocess.CompletedProcess(argv, done.returncode, done.stdout, done.stderr)


# -- the cached base ------------------------------------------------------
def host_sources(suite):
    """(mirror, sources.list lines): this host's apt entries for suite and suite-*."""
    entries = []
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*"))]:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if path.endswith(".sources"):
            for para in re.split(r"\n\s*\n", text):
                f = {m[1].lower(): m[2].split() for m in re.finditer(r"^([\w-]+):[ \t]*(.*)$", para, re.M)}
                if f.get("enabled", ["yes"])[0] != "no" and "deb" in f.get("types", []):
                    entries += [(u, s, f.get("components", [])) for u in f.get("uris", []) for s in f.get("suites", [])]
        elif path.endswith(".list"):
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
                if len(words) >= 3 and words[0] == "deb":
                    entries.append((words[1], words[2], words[3:]))
    mine = [(u, s, c) for u, s, c in entries if s == suite or s.startswith(suite + "-")]
    own = host_codename()
    if not mine and own:        # another release from the same mirrors: bookworm-security -> trixie-security
        mine = [(u, suite + s[len(own):], c) for u, s, c in entries if s == own or s.startswith(own + "-")]
    mirror = next((u for u, s, _ in mine if s == suite), None)
    if mirror is None:
        raise RuntimeError(f"no apt source for {suite} on this host to reuse as the mirror")
    return mirror, [f"deb {u} {s} {' '.join(c) or 'main'}\n" for u, s, c in mine]


def host_codename(os_release="/etc/os-release"):
    """This host's release codename (bookworm), or None."""
    try:
        with open(os_release, encoding="utf-8") as fh:
            m = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", fh.read(), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


def _unmount_under(path):
    """Lazily unmount whatever is mounted at or below path (deepest first)."""
    out = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], stdout=subprocess.PIPE, text=True).stdout
    targets = [t.encode().decode("unicode_escape") for t in out.split()]
    for t in sorted((t for t in targets if t == path or t.startswith(path + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", t], stderr=subprocess.DEVNULL)


def _remove_tree(path):
    _unmount_under(path)
    shutil.rmtree(path, ignore_errors=True)


def _processes_in(root):
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            r = os.readlink(f"/proc/{pid}/root")
        except OSError:
            continue
        if r == root or r.startswith(root + "/"):
            pids.append(int(pid))
    return pids


def _kill_all_in(root, wait=10):
    """SIGKILL every process whose root is in root; wait until they are gone."""
    deadline = time.monotonic() + wait
    while (pids := _processes_in(root)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    return _processes_in(root)


def _build(root, suite, packages, log):
    mirror, sources = host_sources(suite)
    os.chmod(root, 0o755)           # mkdtemp made it 0700: the chroot's / for _apt, nobody, ...

    def step(argv, chrooted=True):
        log.write(f"\n### {' '.join(argv)}\n")
        log.flush()
        if chrooted:
            done = run_in(root, argv, network=True, check=False, timeout=3600)
            log.write(done.stdout + done.stderr)
        else:
            done = subprocess.run([*UNSHARE, "--", *argv], stdout=log, stderr=subprocess.STDOUT,
                                  env=DEFAULT_ENV, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed (exit {done.returncode}); see {log.name}")

    step(["debootstrap", "--variant=minbase", suite, root, mirror], chrooted=False)
    with open(os.path.join(root, "usr/sbin/policy-rc.d"), "w") as fh:
        fh.write("#!/bin/sh\n# chroot.py: no service starts in a test root\nexit 101\n")
    os.chmod(os.path.join(root, "usr/sbin/policy-rc.d"), 0o755)
    with open(os.path.join(root, "etc/apt/sources.list"), "w") as fh:
        fh.writelines(sources)
    step(["apt-get", "update"])
    step(["apt-get", "upgrade", "-y"])     # debootstrap took SUITE alone: add SUITE-updates, -security
    # satisfy, not install: a relation may hold alternatives and versions (control_depends)
    step(["apt-get", "satisfy", "-y", "--no-install-recommends", *packages])
    step(["apt-get", "clean"])      # drops the .debs, keeps the lists
    # Settle what the tools otherwise change once, on first use, in the first test that
    # uses them: apt's remove path rewrites dpkg's status through --set-selections (which
    # canonicalises fields debootstrap wrote, e.g. apt's Priority), and ucf creates its cache.
    step(["sh", "-c", "dpkg --get-selections | dpkg --set-selections"])
    step(["mkdir", "-p", "/var/lib/ucf/cache"])
    left = _processes_in(root)
    if left:
        raise RuntimeError(f"processes still running in {root}: {left}")


def base_root(packages, suite="bookworm"):
    """The cached root for (suite, packages): built on first use, then reused as is."""
    packages = sorted(set(packages))
    key = hashlib.sha256(json.dumps([suite, packages, CACHE_VERSION]).encode()).hexdigest()[:16]
    final = os.path.join(CACHE_DIR, f"{suite}-{key}")
    if os.path.isdir(final):
        return final
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(final + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(final):
            return final
        for stale in glob.glob(final + ".tmp*"):     # under the lock: left by an interrupted build
            _remove_tree(stale)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(final) + ".tmp", dir=CACHE_DIR)
        try:
            with open(final + ".log", "w") as log:
                _build(tmp, suite, packages, log)
            with open(final + ".json", "w") as fh:
                json.dump({"suite": suite, "packages": packages, "cache_version": CACHE_VERSION,
                           "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, fh, indent=1)
            os.rename(tmp, final)
        except BaseException:
            _remove_tree(tmp)
            raise
    return final


# -- snapshots --------------------------------------------------------------
_HASHES = {}    # (dev, ino, size, mtime, ctime) -> sha256, for files untouched for a while


def _sha256(path, st, old_before):
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key in _HASHES:
        return _HASHES[key]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    if st.st_ctime_ns < old_before:     # too recent a change could repeat within one timestamp tick
        _HASHES[key] = h.hexdigest()
    return h.hexdigest()


def snapshot(top):
    """{path in root: (type, mode, uid, gid, sha256 | link target | device | None)}, NOISE left out."""
    old_before = time.time_ns() - 2_000_000_000
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        base = "" if dirpath == top else "/" + os.path.relpath(dirpath, top)
        dirnames[:] = [d for d in dirnames if f"{base}/{d}" not in NOISE]
        names = [("/", top)] if dirpath == top else []
        names += [(f"{base}/{n}", os.path.join(dirpath, n)) for n in dirnames + filenames]
        for name, path in names:
            if name in NOISE or NOISE_RE.match(name):
                continue
            st = os.lstat(path)
            fmt = stat.S_IFMT(st.st_mode)
            if fmt == stat.S_IFREG:
                kind, extra = "f", _sha256(path, st, old_before)
            elif fmt == stat.S_IFLNK:
                kind, extra = "l", os.readlink(path)
            elif fmt == stat.S_IFDIR:
                kind, extra = "d", None
            elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
                kind, extra = "c" if fmt == stat.S_IFCHR else "b", (os.major(st.st_rdev), os.minor(st.st_rdev))
            else:
                kind, extra = "p" if fmt == stat.S_IFIFO else "s", None
            out[name] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, extra)
    return out


def diff_snapshots(a, b):
    """(added, removed, changed): sorted paths going from snapshot a to snapshot b."""
    return (sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys()),
            sorted(p for p in a.keys() & b.keys() if a[p] != b[p]))


# -- the per-test root -------------------------------------------------------
def _reap_stale_overlays():
    """Remove the roots of ChrootRoots whose process died before cleaning up: each
    live ChrootRoot holds a lock on the owner.lock file beside its mount point."""
    out = subprocess.run(["findmnt", "-rn", "-t", "overlay", "-o", "SOURCE,TARGET"],
                         stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        source, _, target = line.partition(" ")
        target = target.encode().decode("unicode_escape")
        if source != OVERLAY_SOURCE:
            continue
        try:
            fd = os.open(os.path.join(os.path.dirname(target), "owner.lock"), os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _remove_tree(os.path.dirname(target))
        except OSError:
            pass            # its owner is alive
        finally:
            os.close(fd)


class ChrootRoot:
    """A root made from base for one test; a context manager.  Attribute path: the merged root.

    workdir (e.g. pytest's tmp_path) holds the overlay's upper and work directories;
    network=True lets run() use the host's network instead of a private, empty one.
    plain=True makes the root a plain directory inside the overlay rather than its
    mount point, as when an image is built with debootstrap and chroot: "/" inside is
    then not a mount point (the overlay's lower directory is the cache directory, and
    the root is the base's directory within it).
    """

    def __init__(self, base, workdir=None, network=False, plain=False):
        self.base, self.network, self.plain = base, network, plain
        self._workdir = os.fspath(workdir) if workdir is not None else None
        self.dir = self.path = self.mount = self._lock = None

    def __enter__(self):
        _reap_stale_overlays()
        self.dir = tempfile.mkdtemp(prefix="chroot-root.", dir=self._workdir)
        upper, work, self.mount = (os.path.join(self.dir, n) for n in ("upper", "work", "root"))
        for d in (upper, work, self.mount):
            os.mkdir(d)
        lower = os.path.dirname(self.base) if self.plain else self.base
        self.path = os.path.join(self.mount, os.path.basename(self.base)) if self.plain else self.mount
        self._lock = os.open(os.path.join(self.dir, "owner.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        os.chmod(upper, 0o755)      # the root directory's attributes come from the upper dir
        try:
            subprocess.run(["mount", "-t", "overlay", OVERLAY_SOURCE,
                            "-o", f"lowerdir={lower},upperdir={upper},workdir={work}", self.mount],
                           check=True, stderr=subprocess.PIPE, text=True)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Unmount and delete everything; safe to call twice or after a failed set-up."""
        if self.dir is None:
            return
        if os.path.ismount(self.mount):
            _kill_all_in(self.mount)    # only if a test started processes outside run()
            for _ in range(10):
                if subprocess.run(["umount", self.mount], stderr=subprocess.DEVNULL).returncode == 0:
                    break
                time.sleep(0.3)
            else:
                warnings.warn(f"{self.mount} was busy: detached it lazily")
                subprocess.run(["umount", "-l", self.mount])
        _remove_tree(self.dir)
        if self._lock is not None:
            os.close(self._lock)
        self.dir = self.path = self.mount = self._lock = None

    # -- commands and files
    def command(self, argv):
        """Host command line for argv inside the root (for a terminal: tmux runs it)."""
        return command_in(self.path, argv, self.network)

    def run(self, argv, input=None, env=None, check=True, timeout=600):
        """argv inside the root (text mode, output captured); env adds to DEFAULT_ENV."""
        return run_in(self.path, argv, input=input, env=env, check=check, timeout=timeout, network=self.network)

    def host_path(self, root_path, follow=True):
        """Where root_path is on the host, symlinks resolved inside the root as chroot would."""
        parts = [p for p in root_path.split("/") if p not in ("", ".")]
        done, hops = [], 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                done = done[:-1]
                continue
            here = os.path.join(self.path, *done, part)
            if (parts or follow) and os.path.islink(here):
                hops += 1
                if hops > 40:
                    raise OSError(errno.ELOOP, "too many symbolic links", root_path)
                target = os.readlink(here)
                done = [] if target.startswith("/") else done
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            else:
                done.append(part)
        return os.path.join(self.path, *done)

    def copy_in(self, host_path, root_path):
        """Copy a file or directory tree from the host; returns the copy's path in the root."""
        dest = self.host_path(root_path)
        if os.path.isdir(dest):
            dest = os.path.join(dest, os.path.basename(os.path.normpath(host_path)))
        if os.path.isdir(host_path):
            shutil.copytree(host_path, dest, symlinks=True)
        else:
            shutil.copy2(host_path, dest)
        return "/" + os.path.relpath(dest, self.path)

    def read(self, root_path):
        with open(self.host_path(root_path), "rb") as fh:
            return fh.read()

    def exists(self, root_path):
        return os.path.exists(self.host_path(root_path))

    def write(self, root_path, data, mode=0o644):
        """Create or replace a file's content (str is UTF-8) and set its mode; the directory must exist."""
        path = self.host_path(root_path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(path, mode)

    def snapshot(self):
        return snapshot(self.path)

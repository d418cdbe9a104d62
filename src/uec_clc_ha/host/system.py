"""The only side-effect layer: every file and command goes through System(root).

Used by every layer above host/: the settings pipeline and the verifier
(config), DRBD bring-up and the data moves (data), the cluster steps, the
CLI and the maintainer helpers.  Every write, rename, symlink, tree removal,
lock and spawned process of theirs is made here (the OCF agent, which
imports only the error tree, keeps its own few).  Paths are always given as
they are on the target host ("/etc/...") and mapped under ``root``, so unit
tests work on a temporary tree and only integration tests touch the real
host.  Commands run from argv lists, never through a shell, with LC_ALL=C
so their output can be parsed.  Scratch is the private temporary directory
the verifier hands its copies to the real checkers in.
"""

import ctypes
import errno
import fcntl
import grp
import mmap
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

from uec_clc_ha.errors import CommandFailure, DeviceProblem, NotFound, PermissionProblem, ToolMissing

# Where tools live on a Debian host, searched even when PATH is minimal.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Completed:
    """What a finished command left: its argv, exit code and output."""

    argv: tuple
    rc: int
    stdout: str
    stderr: str


class System:
    """Files and commands of one host, seen through a root directory."""

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)

    @property
    def is_live(self):
        """True when the root is the running host's own /."""
        return self.root == "/"

    # -- paths -------------------------------------------------------------
    def path(self, host_path):
        """Map an absolute host path under the root."""
        if not host_path.startswith("/"):
            raise ValueError(f"not an absolute path: {host_path}")
        if self.is_live:
            return host_path
        return os.path.join(self.root, host_path.lstrip("/"))

    def exists(self, host_path):
        return os.path.lexists(self.path(host_path))

    def read_bytes(self, host_path):
        try:
            with open(self.path(host_path), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise NotFound(f"{host_path} does not exist") from None
        except PermissionError:
            raise PermissionProblem(f"{host_path} cannot be read: permission denied") from None

    def read(self, host_path):
        return self.read_bytes(host_path).decode("utf-8")

    def read_or_none(self, host_path):
        try:
            return self.read_bytes(host_path)
        except NotFound:
            return None

    def stat(self, host_path):
        try:
            return os.lstat(self.path(host_path))
        except FileNotFoundError:
            return None

    def listdir(self, host_path):
        try:
            return sorted(os.listdir(self.path(host_path)))
        except FileNotFoundError:
            return []

    def is_dir(self, host_path):
        """A real directory, not a symlink to one."""
        p = self.path(host_path)
        return os.path.isdir(p) and not os.path.islink(p)

    def readlink(self, host_path):
        """Where a symlink points, or None when host_path is not a symlink."""
        p = self.path(host_path)
        return os.readlink(p) if os.path.islink(p) else None

    def statvfs(self, host_path):
        return os.statvfs(self.path(host_path))

    # -- owners ------------------------------------------------------------
    def _lookup(self, table, name, host_db):
        """Resolve a user or group name through the root's own passwd/group file."""
        if name.isdigit():
            return int(name)
        data = None if self.is_live else self.read_or_none(f"/etc/{table}")
        if data is None:
            try:
                return host_db(name)
            except KeyError:
                raise NotFound(f"no {'user' if table == 'passwd' else 'group'} named {name}") from None
        for line in data.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[0] == name:
                return int(fields[2])
        raise NotFound(f"no {'user' if table == 'passwd' else 'group'} named {name} in {self.path('/etc/' + table)}")

    def uid(self, name):
        return self._lookup("passwd", name, lambda n: pwd.getpwnam(n).pw_uid)

    def gid(self, name):
        return self._lookup("group", name, lambda n: grp.getgrnam(n).gr_gid)

    # -- writing -----------------------------------------------------------
    def makedirs(self, host_path, mode=0o755):
        os.makedirs(self.path(host_path), mode=mode, exist_ok=True)

    def write_atomic(self, host_path, data, mode=0o644, owner="root", group="root"):
        """Write a file whole or not at all: temp file in the same directory, fsync, rename.

        The temp file is created with mode 0600 and gets its final owner and
        mode before the rename, so a secret is never readable by others, not
        even for a moment.
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        target = self.path(host_path)
        directory = os.path.dirname(target)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".uec-clc-ha.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if os.geteuid() == 0:
                os.chown(tmp, self.uid(owner), self.gid(group))
            os.chmod(tmp, mode)
            os.rename(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self.fsync_dir(os.path.dirname(host_path))

    def fsync_dir(self, host_dir):
        """Make a directory's entries (a rename, a new file) durable."""
        fd = os.open(self.path(host_dir), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def set_owner_mode(self, host_path, mode, owner="root", group="root"):
        target = self.path(host_path)
        if os.geteuid() == 0:
            os.chown(target, self.uid(owner), self.gid(group))
        os.chmod(target, mode)

    def remove(self, host_path):
        try:
            os.unlink(self.path(host_path))
        except FileNotFoundError:
            pass

    def remove_tree(self, host_path):
        """Delete a directory tree (callers say why it is theirs to delete)."""
        shutil.rmtree(self.path(host_path))

    def rename(self, src, dst):
        """Rename, durably: both directories' entries are synced."""
        os.rename(self.path(src), self.path(dst))
        for d in {os.path.dirname(src), os.path.dirname(dst)}:
            self.fsync_dir(d)

    def symlink_atomic(self, link, target):
        """Make link point to target in one step (a temporary name, then a durable rename)."""
        tmp = f"{link}.uec-clc-ha-new"
        self.remove(tmp)
        os.symlink(target, self.path(tmp))
        self.rename(tmp, link)

    @contextmanager
    def exclusive_lock(self, host_path, busy):
        """Hold flock(LOCK_EX) on host_path (created 0600) for the block; ``busy()`` is raised when
        another process holds it.  A child that inherited the descriptor (an orphaned cp) still holds it."""
        fd = os.open(self.path(host_path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy() from None
            yield
        finally:
            os.close(fd)

    # -- raw sectors of a shared disk ------------------------------------------
    def sector_size(self, host_path):
        """The logical sector size of a block device (BLKSSZGET); 512 for a regular file (a test's disk)."""
        fd = self._open_disk(host_path, os.O_RDONLY)
        try:
            return _logical_sector_size(fd)
        finally:
            os.close(fd)

    def read_sector(self, host_path, index, size):
        """Sector ``index`` (of ``size`` bytes) as the disk holds it: O_DIRECT on a block device, so no
        page cache answers for the peer's writes."""
        return self._sector_io(host_path, index, size, os.O_RDONLY, None)

    def write_sector(self, host_path, index, data):
        """Write one whole sector, synchronously and past the page cache (O_DIRECT | O_SYNC)."""
        self._sector_io(host_path, index, len(data), os.O_WRONLY | os.O_SYNC, data)

    def _sector_io(self, host_path, index, size, flags, data):
        verb = "read" if data is None else "write"
        fd = self._open_disk(host_path, flags)
        try:
            buf = mmap.mmap(-1, size)           # page-aligned, as O_DIRECT needs
            try:
                if data is not None:
                    buf.write(data)
                io = os.preadv if data is None else os.pwritev
                got = io(fd, [buf], index * size)
                if got != size:
                    raise DeviceProblem(f"{host_path}: short {verb} of sector {index} ({got} of {size} bytes)")
                return bytes(buf) if data is None else None
            finally:
                buf.close()
        except OSError as e:
            raise DeviceProblem(f"{host_path}: cannot {verb} sector {index}: {e.strerror}") from None
        finally:
            os.close(fd)

    def _open_disk(self, host_path, flags):
        path = self.path(host_path)
        try:
            st = os.stat(path)
            if stat.S_ISBLK(st.st_mode):
                flags |= os.O_DIRECT
            return os.open(path, flags)
        except FileNotFoundError:
            raise NotFound(f"{host_path} does not exist") from None
        except PermissionError:
            raise PermissionProblem(f"{host_path} cannot be opened: permission denied") from None
        except OSError as e:
            raise DeviceProblem(f"{host_path} cannot be opened: {e.strerror}") from None

    # -- the network ---------------------------------------------------------
    def exchange(self, host, port, data, timeout=20, limit=1 << 20):
        """Send ``data`` over TCP to host:port and return the first line of the answer (bytes, newline kept).

        CommandFailure (exit -1) when the host cannot be reached, closes
        without a line, or takes longer than ``timeout`` seconds.
        """
        argv = ("tcp", f"{host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=timeout) as conn:
                conn.settimeout(timeout)
                conn.sendall(data)
                buf = b""
                while b"\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    if len(buf) > limit:
                        raise CommandFailure(argv, -1, f"the answer from {host}:{port} is too long")
        except OSError as e:
            raise CommandFailure(argv, -1, f"{host}:{port}: {e.strerror or e}") from None
        if b"\n" not in buf:
            raise CommandFailure(argv, -1, f"{host}:{port} closed the connection without an answer")
        return buf[:buf.index(b"\n") + 1]

    # -- commands ----------------------------------------------------------
    def which(self, tool):
        """Full path of an installed tool, searching the system directories too."""
        search = os.environ.get("PATH", "") + ":" + SYSTEM_PATH
        return shutil.which(tool, path=search)

    def require(self, tool, package=None):
        found = self.which(tool)
        if not found:
            raise ToolMissing(tool, package)
        return found

    def run(self, argv, rcs=(0,), env=None, input=None, timeout=120, cwd=None, in_root=False,
            debconf=False):
        """Run argv (never through a shell) and return Completed.

        Raises CommandFailure when the exit code is not in ``rcs`` (None
        accepts every code) and ToolMissing when the program does not exist.
        ``in_root``: a tool that acts on the system it runs in (update-rc.d)
        runs chrooted into a root other than /.  ``debconf``: the command
        speaks the debconf protocol of the maintainer script that called us
        (ucf --debconf-ok): it inherits standard input and fd 3, and its
        standard output goes to standard error, never to the protocol.
        """
        if in_root and not self.is_live:
            argv = ["chroot", self.root, *argv]
        if debconf:
            return self._run_debconf(argv, rcs, env, timeout)
        full_env = dict(os.environ)
        full_env["PATH"] = full_env.get("PATH", "") + ":" + SYSTEM_PATH
        full_env["LC_ALL"] = "C"
        if env:
            full_env.update(env)
        if isinstance(input, str):
            input = input.encode("utf-8")
        try:
            proc = subprocess.run(
                list(argv), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=full_env, timeout=timeout, cwd=cwd, check=False,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError as e:
            if e.errno == errno.ENOENT and e.filename in (argv[0], None):
                raise ToolMissing(argv[0]) from None
            raise
        except subprocess.TimeoutExpired as e:
            raise CommandFailure(argv, -1, f"timed out after {timeout} s") from e
        return self._completed(argv, proc, rcs)

    def spawn(self, argv):
        """Start argv in the background (never through a shell), LC_ALL=C, no standard input, its
        output piped; it dies with us (PR_SET_PDEATHSIG), so a killed step leaves no copy running.
        Returns the Popen; ToolMissing when the program does not exist."""
        env = dict(os.environ, LC_ALL="C", PATH=os.environ.get("PATH", "") + ":" + SYSTEM_PATH)
        try:
            return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, preexec_fn=_die_with_parent, env=env)
        except FileNotFoundError:
            raise ToolMissing(argv[0]) from None

    def _completed(self, argv, proc, rcs):
        done = Completed(tuple(argv), proc.returncode,
                         (proc.stdout or b"").decode("utf-8", "replace"),
                         (proc.stderr or b"").decode("utf-8", "replace"))
        if rcs is not None and done.rc not in rcs:
            raise CommandFailure(argv, done.rc, done.stderr, done.stdout)
        return done

    def _run_debconf(self, argv, rcs, env, timeout):
        full_env = dict(os.environ, LC_ALL="C", PATH=os.environ.get("PATH", "") + ":" + SYSTEM_PATH)
        full_env.update(env or {})
        fds = (3,) if _fd_open(3) else ()
        try:
            proc = subprocess.run(list(argv), stdout=sys.stderr.fileno(), stderr=subprocess.PIPE, env=full_env,
                                  timeout=timeout, pass_fds=fds, check=False)
        except FileNotFoundError:
            raise ToolMissing(argv[0]) from None
        except subprocess.TimeoutExpired as e:
            raise CommandFailure(argv, -1, f"timed out after {timeout} s") from e
        if proc.stderr:
            sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
        return self._completed(argv, proc, rcs)


BLKSSZGET = 0x1268          # linux/fs.h: _IO(0x12, 104)


def _logical_sector_size(fd):
    if not stat.S_ISBLK(os.fstat(fd).st_mode):
        return 512
    return struct.unpack("i", fcntl.ioctl(fd, BLKSSZGET, b"\0" * 4))[0]


def _die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)        # PR_SET_PDEATHSIG


class Scratch:
    """A private temporary directory (mode 0700) for copies handed to checkers; gone when the block ends.

    The verifier writes its copies of the generated files here, secrets
    included: each file is created exclusively with its final mode, so it
    is never readable by others, not even for a moment.
    """

    def __init__(self, prefix="uec-clc-ha."):
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.dir = self._tmp.name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data, mode=0o600):
        """Create name (never an existing file) holding data; returns its full path."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = self.path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def mkdir(self, name, mode=0o755):
        """A directory inside (it may be bind-mounted where a tool looks); returns its full path."""
        path = self.path(name)
        os.makedirs(path, mode=mode, exist_ok=True)
        return path

    def symlink(self, name, target):
        """name -> target (directories made as needed); returns the link's full path."""
        path = self.path(name)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        os.symlink(target, path)
        return path

    def copy_out(self, name, dest):
        """Copy one file out of the scratch directory (a test keeps what a checker loaded)."""
        shutil.copyfile(self.path(name), dest)


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False

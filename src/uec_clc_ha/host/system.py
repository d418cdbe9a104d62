"""The only side-effect layer: every file and command goes through System(root).

Used by the CLI subcommands, the verifier and (in later steps) the host
steps.  Paths are always given as they are on the target host ("/etc/...")
and mapped under ``root``, so unit tests work on a temporary tree and only
integration tests touch the real host.  Commands run from argv lists, never
through a shell, with LC_ALL=C so their output can be parsed.
"""

import errno
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from uec_clc_ha.errors import CommandFailure, NotFound, PermissionProblem, ToolMissing

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


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False

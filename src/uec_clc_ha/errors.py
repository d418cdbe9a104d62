"""The one error tree of uec-clc-ha.

Raised anywhere below the entry points; caught only by the two top-level
handlers: guarded() here, for uec-clc-ha-ctl (uec_clc_ha.cli.main) and the
maintainer helpers (uec_clc_ha.maint), and uec_clc_ha.agent.ocf's for the
OCF agent.  Each error knows the exit code of the CLI and the OCF return code it
maps to, so no module below the handlers decides how the process ends.
"""

import sys

# OCF return codes (OCF resource agent API 1.1).
OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_ARGS = 2
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_PERM = 4
OCF_ERR_INSTALLED = 5
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7

# uec-clc-ha-ctl exit codes (documented in uec-clc-ha-ctl(8)).
EXIT_OK = 0
EXIT_FAILED = 1        # a check found problems, or a step failed
EXIT_USAGE = 2         # bad command line
EXIT_INVALID = 3       # the settings are invalid; nothing was written
EXIT_VERIFY = 4        # a rendered file was rejected by its real checker
EXIT_COMMAND = 5       # an external command failed
EXIT_REFUSED = 6       # a safety rule refused the step; nothing was changed
EXIT_NOT_FOUND = 7     # a file or tool the step needs is missing
EXIT_PERMISSION = 8    # not allowed to read or write something
EXIT_WAITING = 9       # done as far as it can be now; it finishes when the peer arrives


class UecError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code = EXIT_FAILED
    ocf_rc = OCF_ERR_GENERIC

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class UsageError(UecError):
    """The command line asks for something that does not exist."""

    exit_code = EXIT_USAGE
    ocf_rc = OCF_ERR_ARGS


class Problem:
    """One broken rule: the field it concerns and what the rule is."""

    __slots__ = ("field", "rule")

    def __init__(self, field, rule):
        self.field = field
        self.rule = rule

    def __str__(self):
        return f"{self.field}: {self.rule}"

    def __repr__(self):
        return f"Problem({self.field!r}, {self.rule!r})"

    def __eq__(self, other):
        return isinstance(other, Problem) and (self.field, self.rule) == (other.field, other.rule)

    def __hash__(self):
        return hash((self.field, self.rule))


class ValidationError(UecError):
    """The settings break one or more rules; every problem is listed."""

    exit_code = EXIT_INVALID
    ocf_rc = OCF_ERR_CONFIGURED

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid settings ({len(self.problems)} problem(s)); nothing was written:\n{lines}")


class BadParameter(UecError):
    """A parameter is wrong in itself (unknown choice, malformed URL, not a number)."""

    exit_code = EXIT_INVALID
    ocf_rc = OCF_ERR_CONFIGURED


class SettingsFileError(UecError):
    """The settings file cannot be parsed (not deb822, unknown key, ...)."""

    exit_code = EXIT_INVALID
    ocf_rc = OCF_ERR_CONFIGURED


class VerifyError(UecError):
    """A real checker (drbdadm, corosync, crm_verify, heartbeat) rejected a rendered file."""

    exit_code = EXIT_VERIFY
    ocf_rc = OCF_ERR_CONFIGURED

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"rendered configuration rejected by its checker; nothing was written:\n{lines}")


class CheckFailed(UecError):
    """`check` found problems: the settings' rules or a real checker's; every one is listed."""

    exit_code = EXIT_FAILED
    ocf_rc = OCF_ERR_CONFIGURED

    def __init__(self, stage, problems):
        self.stage = stage
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"check failed: {len(self.problems)} problem(s) in the {stage}:\n{lines}")


class CommandFailure(UecError):
    """An external command exited with a code it was not allowed to."""

    exit_code = EXIT_COMMAND
    ocf_rc = OCF_ERR_GENERIC

    def __init__(self, argv, rc, stderr="", stdout=""):
        self.argv = list(argv)
        self.rc = rc
        self.stderr = stderr
        self.stdout = stdout
        detail = (stderr or stdout or "").strip()
        tail = f": {detail.splitlines()[-1]}" if detail else ""
        super().__init__(f"command {' '.join(self.argv)!s} exited {rc}{tail}")


class ToolMissing(UecError):
    """A program the step needs is not installed."""

    exit_code = EXIT_NOT_FOUND
    ocf_rc = OCF_ERR_INSTALLED

    def __init__(self, tool, package=None):
        self.tool = tool
        hint = f" (install the {package} package)" if package else ""
        super().__init__(f"{tool} is not installed{hint}")


class NotFound(UecError):
    """A file the step needs does not exist."""

    exit_code = EXIT_NOT_FOUND
    ocf_rc = OCF_ERR_INSTALLED


class DeviceProblem(UecError):
    """A shared disk cannot be read or written as the step needs (missing, short I/O, not SBD's)."""

    exit_code = EXIT_FAILED
    ocf_rc = OCF_ERR_GENERIC


class NotVerifiable(UecError):
    """A real checker cannot judge a file here (not installed, or no private namespace possible).

    pipeline.check reports it as a warning naming the file and the way to
    check it later; it is never counted as a pass.
    """

    exit_code = EXIT_NOT_FOUND
    ocf_rc = OCF_ERR_INSTALLED


class PermissionProblem(UecError):
    """Reading or writing was not allowed."""

    exit_code = EXIT_PERMISSION
    ocf_rc = OCF_ERR_PERM


class NotRunningCleanly(UecError):
    """The Cloud Controller did not reach the wanted state in time (start or stop failed)."""

    exit_code = EXIT_FAILED
    ocf_rc = OCF_ERR_GENERIC


class Waiting(UecError):
    """A step cannot finish yet (the peer is not installed or not up): what is done stays done.

    The message says what happens when the peer arrives, or which command to run.
    """

    exit_code = EXIT_WAITING
    ocf_rc = OCF_ERR_GENERIC


class Refused(UecError):
    """A safety rule refused the step; the message names the condition and the way out."""

    exit_code = EXIT_REFUSED
    ocf_rc = OCF_ERR_GENERIC


def guarded(prog, action, stderr=None):
    """Run action(); turn every UecError into its message and exit code.

    The top-level handler of uec-clc-ha-ctl (uec_clc_ha.cli.main) and of the
    maintainer helpers (uec_clc_ha.maint), which share it; the OCF agent has
    its own.
    """
    stderr = stderr or sys.stderr
    try:
        return action()
    except UecError as e:
        print(f"{prog}: {e}", file=stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=stderr)
        return 130

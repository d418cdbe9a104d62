"""OCF resource agent logic of ocf:ubuntu:eucaclc (the recipe's step 7).

Called only by the entry point src/ocf/eucaclc (installed as
/usr/lib/ocf/resource.d/ubuntu/eucaclc), which Pacemaker runs for every
action.  main() is the agent's top-level handler: every action returns an
explicit OCF code, and every UecError is mapped to its OCF code there and
nowhere else.  Nothing happens at import, and the depth-0 monitor path
imports only the standard library's os, re, sys and time.
"""

import os
import sys
import time

from uec_clc_ha.agent import meta as agent_meta, params as agent_params, clc_process, service_manager
from uec_clc_ha.agent.service_manager import SYSV_SCRIPT
from uec_clc_ha.errors import (OCF_ERR_GENERIC, OCF_ERR_PERM, OCF_ERR_UNIMPLEMENTED, OCF_NOT_RUNNING, OCF_SUCCESS,
                               BadParameter, NotFound, PermissionProblem, UecError)
from uec_clc_ha.agent.ocf_log import Log

USAGE = "usage: eucaclc {start|stop|monitor|validate-all|reload|reload-agent|meta-data|usage|methods}\n"
METHODS = ("auto", "direct", "systemd", "upstart", "sysv")
TOOLS = {"systemd": "systemctl", "upstart": "initctl"}


# -- monitor ------------------------------------------------------------------
def process_status(params, probe=False, proc="/proc"):
    """(rc, reason, pid) from the pidfile and /proc alone: the depth-0 check.

    0: the pidfile names a live eucalyptus-cloud.  7: cleanly stopped (no
    pidfile and no such process; also a probe's verdict on a stale pidfile
    left by a crash, which a later start cleans).  1: failed (the pidfile
    names a dead process, a zombie or somebody else's process, or a
    eucalyptus-cloud runs without a pidfile).  ``proc``: where /proc is
    (the tests give a fake one).
    """
    pid = clc_process.read_pidfile(params.pidfile)
    if pid is None:
        strays = clc_process.find_all(params.binary, proc)
        if strays:
            return OCF_ERR_GENERIC, f"eucalyptus-cloud runs as PID {strays[0]} but {params.pidfile} is missing", None
        return OCF_NOT_RUNNING, "stopped", None
    if pid < 0:
        reason = f"{params.pidfile} does not hold a PID"
    else:
        state = clc_process.state(pid, proc)
        if state == "alive" and clc_process.is_clc(pid, params.binary, proc):
            return OCF_SUCCESS, f"running as PID {pid}", pid
        if state == "alive":
            reason = f"{params.pidfile} names PID {pid}, which is not eucalyptus-cloud (a recycled PID)"
        else:
            reason = f"{params.pidfile} names PID {pid}, which is {'a zombie' if state == 'zombie' else 'dead'}"
    if probe and not clc_process.find_all(params.binary, proc):
        return OCF_NOT_RUNNING, f"stopped (stale pidfile: {reason})", None
    return OCF_ERR_GENERIC, reason, None


def health_problem(params, depth, timeout):
    """None when the deeper checks pass; otherwise what failed."""
    if depth < 10:
        return None
    from uec_clc_ha.agent import clc_health

    problem = clc_health.register_problem(params.register_url, timeout)
    if problem is None and depth >= 20:
        problem = clc_health.heartbeat_problem(params.heartbeat_url, timeout)
    return problem


def monitor(params, log):
    probe = params.interval == 0
    if probe:
        problem = installation_problem(params)
        if problem:
            log.info(f"probe: {problem}; reporting not running")
            return OCF_NOT_RUNNING
    rc, reason, pid = process_status(params, probe)
    if rc != OCF_SUCCESS:
        if rc == OCF_ERR_GENERIC:
            log.exit_reason(reason)
        else:
            log.debug(reason)
        return rc
    depth = params.depth
    if depth >= 10 and params.interval > 0 and recently_healthy(params, pid):
        depth = 0
    problem = health_problem(params, depth, max(1.0, min(5.0, params.timeout / 3)))
    if problem:
        log.exit_reason(f"eucalyptus-cloud runs but is not healthy: {problem}")
        return OCF_ERR_GENERIC
    if depth >= 10:
        note_healthy(params, pid)
    return OCF_SUCCESS


def _health_interval(params):
    text = params.health_interval
    return int(text) if text.isdigit() else 0


def recently_healthy(params, pid, now=None):
    """Whether a recurring deep monitor may skip the health URLs: the same daemon (pid) was found healthy
    less than health_interval ago (less half this monitor's interval, so that the check falls due on the
    monitor nearest the interval, not the one after it)."""
    every = _health_interval(params)
    if every <= 0:
        return False
    try:
        with open(params.health_stamp) as fh:
            noted = fh.read().strip()
        age = (time.time() if now is None else now) - os.stat(params.health_stamp).st_mtime
    except OSError:
        return False
    return noted == str(pid) and 0 <= age < every - params.interval / 2


def note_healthy(params, pid):
    """Remember that daemon pid answered its health URLs now (a tmpfs file; losing it costs one check)."""
    try:
        os.makedirs(os.path.dirname(params.health_stamp), exist_ok=True)
        with open(params.health_stamp + ".new", "w") as fh:
            fh.write(f"{pid}\n")
        os.replace(params.health_stamp + ".new", params.health_stamp)
    except OSError:
        pass


# -- validate -----------------------------------------------------------------
def parameter_problem(params):
    """What makes a parameter wrong in itself (OCF 6), or None."""
    if params.start_method not in METHODS:
        return (f"start_method={params.start_method!r} is not one of "
                                    f"{', '.join(METHODS)}")
    from urllib.parse import urlsplit

    for name in ("register_url", "heartbeat_url"):
        url = getattr(params, name)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"{name}={url!r} is not an http:// or https:// URL with a host"
        try:
            parts.port
        except ValueError:
            return f"{name}={url!r} has an invalid port"
    if params.stop_grace and not params.stop_grace.isdigit():
        return f"stop_grace={params.stop_grace!r} is not a whole number of seconds"
    if params.health_interval and not params.health_interval.isdigit():
        return f"health_interval={params.health_interval!r} is not a whole number of seconds"
    for name in ("binary", "pidfile", "config", "output"):
        if not os.path.isabs(getattr(params, name)):
            return f"{name}={getattr(params, name)!r} is not an absolute path"
    return None


def installation_problem(params):
    """What the agent needs but is not installed here (OCF 5), or None."""
    method = params.start_method
    if method in ("auto", "direct") or method not in METHODS:
        if not (os.path.isfile(params.binary) and os.access(params.binary, os.X_OK)):
            if method == "direct" or not _service_available():
                return f"binary {params.binary} is missing or not executable"
    tool = TOOLS.get(method)
    if tool and not _which(tool):
        return f"start_method={method} needs {tool}, which is not installed"
    if method == "sysv":
        if not os.access(SYSV_SCRIPT, os.X_OK):
            return f"start_method=sysv needs {SYSV_SCRIPT}, which is missing"
    try:
        import pwd
        pwd.getpwnam(params.user)
    except KeyError:
        return f"user={params.user!r} does not exist on this node"
    return None


def _service_available():
    return service_manager.detect_method()[0] != "direct"


def _which(tool):
    for d in (os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        if d and os.access(os.path.join(d, tool), os.X_OK):
            return os.path.join(d, tool)
    return None


def validate(params):
    """Raise the error whose OCF code fits the first problem found."""
    problem = parameter_problem(params)
    if problem:
        raise BadParameter(problem)
    if params.config_problem:
        raise PermissionProblem(params.config_problem)
    problem = installation_problem(params)
    if problem:
        raise NotFound(problem)


# -- start / stop -------------------------------------------------------------
def _method(params, log):
    if params.start_method != "auto":
        return params.start_method
    method, why = service_manager.detect_method()
    log.info(f"start_method=auto: using {method} ({why})")
    return method


def _margin(timeout):
    """Seconds kept back from an operation's timeout for clean-up."""
    return min(30.0, max(3.0, timeout * 0.1))


def start(params, log):
    validate(params)
    rc, reason, _ = process_status(params)
    if rc == OCF_SUCCESS and not health_problem(params, 10, 5.0):
        log.info(f"already running ({reason})")
        return OCF_SUCCESS
    began = time.monotonic()
    deadline = began + params.timeout - _margin(params.timeout)
    if rc == OCF_ERR_GENERIC:
        strays = clc_process.find_all(params.binary)
        if strays:
            # Never a second Cloud Controller beside one we do not track: stop (which
            # kills every eucalyptus-cloud) must run first, and Pacemaker will do that.
            log.exit_reason(f"not starting: {reason}; eucalyptus-cloud already runs as PID(s) {strays}")
            return OCF_ERR_GENERIC
        log.info(f"removing stale pidfile: {reason}")
        _remove(params.pidfile)
    method = _method(params, log)
    from uec_clc_ha.agent import clc_control

    if rc != OCF_SUCCESS:
        log.info(f"starting eucalyptus-cloud ({method})")
        try:
            clc_control.start(method, params, max(1.0, deadline - time.monotonic()))
        except UecError as e:
            log.exit_reason(f"start failed: {e}")
            _clean_up(params, log, method, began)
            return OCF_ERR_GENERIC
    last = "not started"
    while time.monotonic() < deadline:
        rc, reason, pid = process_status(params)
        if rc == OCF_SUCCESS:
            last = health_problem(params, 10, max(1.0, min(5.0, deadline - time.monotonic())))
            if last is None:
                note_healthy(params, pid)
                log.info(f"eucalyptus-cloud started and answers ({reason}) after "
                         f"{time.monotonic() - began:.1f} s")
                return OCF_SUCCESS
        else:
            last = reason
        time.sleep(1.0)
    log.exit_reason(f"eucalyptus-cloud did not become healthy within {params.timeout:.0f} s "
                    f"(start timeout less {_margin(params.timeout):.0f} s for clean-up): {last}")
    _clean_up(params, log, method, began)
    return OCF_ERR_GENERIC


def _clean_up(params, log, method, began):
    """After a failed start: leave nothing behind, within what is left of the start timeout."""
    from uec_clc_ha.agent import clc_control

    deadline = began + params.timeout - 1
    pid = clc_process.read_pidfile(params.pidfile)
    pids = [pid] if pid and pid > 0 and clc_process.is_clc(pid, params.binary) else []
    pids += [p for p in clc_process.find_all(params.binary) if p not in pids]
    try:
        clc_control.stop(method, params, pids, grace=min(5.0, max(1.0, deadline - time.monotonic()) / 2),
                         deadline=deadline)
    except UecError as e:
        log.err(f"clean-up after the failed start: {e}")
    _remove(params.pidfile)


def stop_grace(params):
    if params.stop_grace:
        return float(params.stop_grace)
    return max(5.0, params.timeout - 10)


def stop(params, log, proc="/proc"):
    """Stop every Cloud Controller this node runs; success when none is left.

    A failed stop gets the node fenced, so a bad or missing parameter does
    not make stop fail: it is logged, the parameter falls back to what can
    still identify the CLC (the default launcher path, no pidfile, signals
    instead of a service manager), and whatever runs is stopped.
    """
    problem = parameter_problem(params)
    if problem:
        params = _usable_for_stop(params)
        log.warn(f"stop with a bad parameter ({problem}): stopping whatever eucalyptus-cloud runs here "
                 f"(binary {params.binary}, start_method {params.start_method})")
    pid = clc_process.read_pidfile(params.pidfile) if params.pidfile else None
    pids = [pid] if pid and pid > 0 and clc_process.state(pid, proc) == "alive" and \
        clc_process.is_clc(pid, params.binary, proc) else []
    pids += [p for p in clc_process.find_all(params.binary, proc) if p not in pids]
    if not pids:
        if pid is not None:
            log.info(f"not running; removing stale pidfile {params.pidfile}")
        _remove(params.pidfile)
        return OCF_SUCCESS
    from uec_clc_ha.agent import clc_control

    began = time.monotonic()
    deadline = began + params.timeout - 1
    grace = min(stop_grace(params), max(1.0, params.timeout - 5))
    method = _method(params, log)
    log.info(f"stopping eucalyptus-cloud (PIDs {pids}, {method}, grace {grace:.0f} s)")
    how = clc_control.stop(method, params, pids, grace, deadline)
    _remove(params.pidfile)
    log.info(f"eucalyptus-cloud {how} in {time.monotonic() - began:.1f} s")
    return OCF_SUCCESS


def _usable_for_stop(params):
    """A copy of params in which every bad value is replaced by one stop can use."""
    values = {name: getattr(params, name) for name in params.__slots__}
    if values["start_method"] not in METHODS:
        values["start_method"] = "direct"           # no service manager named: signals only
    if not os.path.isabs(values["binary"]):
        values["binary"] = agent_params.DEFAULT_BINARY
    if not os.path.isabs(values["pidfile"]):
        values["pidfile"] = ""
    if not os.path.isabs(values["output"]):
        values["output"] = os.devnull
    if values["stop_grace"] and not values["stop_grace"].isdigit():
        values["stop_grace"] = ""
    values["health_interval"] = "0"
    return agent_params.Params(**values)


def _remove(path):
    if not path:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- entry --------------------------------------------------------------------
def validate_all(params, log):
    validate(params)
    return OCF_SUCCESS


def reload(params, log):
    validate(params)
    log.info("parameters re-read; they take effect from the next action")
    return OCF_SUCCESS


ACTIONS = {
    "start": start,
    "stop": stop,
    "monitor": monitor,
    "status": monitor,
    "validate-all": validate_all,
    "reload": reload,
    "reload-agent": reload,
}


def main(argv, env=None):
    """Run one action; returns its OCF code.  The agent's only error handler."""
    action = argv[1] if len(argv) > 1 else ""
    if action == "meta-data":
        sys.stdout.write(agent_meta.metadata_xml())
        return OCF_SUCCESS
    if action in ("usage", "help"):
        sys.stdout.write(USAGE)
        return OCF_SUCCESS
    if action == "methods":
        sys.stdout.write("".join(f"{name}\n" for name in list(ACTIONS) + ["meta-data", "usage", "methods"]))
        return OCF_SUCCESS
    log = Log(env)
    handler = ACTIONS.get(action)
    if handler is None:
        sys.stderr.write(USAGE)
        return OCF_ERR_UNIMPLEMENTED
    try:
        params = agent_params.from_env(action, env)
        return handler(params, log)
    except UecError as e:
        log.exit_reason(str(e))
        return e.ocf_rc
    except OSError as e:
        log.exit_reason(f"{action}: {e}")
        return OCF_ERR_PERM if isinstance(e, PermissionError) else OCF_ERR_GENERIC

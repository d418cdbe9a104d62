"""The eucaclc agent against the stand-in daemon: every fault of the matrix, for real.

Each test gets its own stand-in installation on its own loopback ports;
whatever a test leaves running is killed afterwards.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from clc_standin import AGENT, Installation, public_agent

OK, GENERIC, PERM, INSTALLED, CONFIGURED, NOT_RUNNING = 0, 1, 4, 5, 6, 7


def test_start_monitor_stop_cycle_is_idempotent(clc):
    assert clc.agent("monitor")[0] == NOT_RUNNING
    assert clc.agent("stop")[0] == OK                   # stop when stopped
    assert clc.agent("start")[0] == OK
    assert clc.agent("start")[0] == OK                  # start when started
    assert clc.agent("monitor")[0] == OK
    assert clc.agent("monitor", OCF_CHECK_LEVEL=20)[0] == OK
    assert clc.agent("stop")[0] == OK
    assert clc.agent("stop")[0] == OK
    assert clc.agent("monitor")[0] == NOT_RUNNING
    assert clc.pids() == [] and not os.path.exists(clc.pidfile)


def test_start_runs_the_launcher_as_the_init_script_did(clc):
    assert clc.agent("start")[0] == OK
    pid = int(open(clc.pidfile).read())
    args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
    tail = [a.decode() for a in args[args.index(clc.binary.encode()):]]
    assert tail == [clc.binary, "--log-level=INFO", "-o", clc.output, "-e", clc.output, "-h", clc.root,
                    "-u", "root", "--pidfile", clc.pidfile, "-f", "-L", "console-log"]
    assert open(f"/proc/{pid}/comm").read().strip() == "eucalyptus-clou"


def test_the_daemon_keeps_its_stdio_and_start_never_waits_on_it(clc):
    """The launcher's --out=&1 --err=&2 default: without -o/-e the daemon holds whatever it inherited.

    The agent runs with pipes as its stdout and stderr (as under Pacemaker,
    and as clc.agent() runs it): start must return, and the agent's pipes
    must reach end-of-file as soon as the agent exits.
    """
    began = time.monotonic()
    rc, err = clc.agent("start", timeout=60)
    assert rc == OK, err
    assert time.monotonic() - began < 30
    pid = int(open(clc.pidfile).read())
    held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (1, 2)}
    assert held == {clc.output}, held                  # the daemon writes its console log there ...
    deadline = time.monotonic() + 10
    while b"bootstrapping" not in open(clc.output, "rb").read() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b"bootstrapping" in open(clc.output, "rb").read()
    assert clc.agent("stop")[0] == OK


def test_cloud_opts_redirecting_output_are_respected(clc, tmp_path):
    log = tmp_path / "own.log"
    rc, err = clc.agent("start", cloud_opts=f"--log-level=DEBUG --out={log} --err=&1")
    assert rc == OK, err
    pid = int(open(clc.pidfile).read())
    args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    assert b"-o" not in args and b"-e" not in args
    assert {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (1, 2)} == {str(log)}


def test_the_standin_keeps_inherited_stdio_like_the_real_launcher(clc):
    """The stand-in itself: run by hand with -f and no -o/-e, a pipe on its stdout never reaches EOF."""
    read_end, write_end = os.pipe()
    launcher = subprocess.Popen([clc.binary, "-h", clc.root, "-u", "root", "--pidfile", clc.pidfile, "-f"],
                                stdout=write_end, stderr=write_end, stdin=subprocess.DEVNULL)
    os.close(write_end)
    try:
        assert launcher.wait(timeout=30) == 0                  # the launcher returns ...
        pid = int(open(clc.pidfile).read())
        assert os.readlink(f"/proc/{pid}/fd/1").startswith("pipe:")   # ... its daemon holds the pipe
        os.set_blocking(read_end, False)
        time.sleep(0.5)
        try:
            data = os.read(read_end, 4096)
        except BlockingIOError:
            data = None
        assert data != b"", "the pipe reached end-of-file while the daemon runs"
    finally:
        clc.kill_everything()
        os.close(read_end)


def test_a_start_with_the_jvm_default_delay(clc):
    """The stand-in's default start-up time (20 s, a JVM): start waits for it, within its timeout."""
    clc.set_faults(start_delay=None)
    began = time.monotonic()
    rc, err = clc.agent("start", OCF_RESKEY_CRM_meta_timeout="90000", timeout=120)
    assert rc == OK, err
    assert time.monotonic() - began >= 20
    assert clc.agent("monitor", OCF_CHECK_LEVEL=10)[0] == OK
    assert clc.agent("stop")[0] == OK


def test_kill_9_is_never_reported_running(clc):
    assert clc.agent("start", children=1)[0] == OK
    for pid in clc.pids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    rc, err = clc.agent("monitor", OCF_RESKEY_CRM_meta_interval="20000")
    assert rc == GENERIC, err                               # a recurring monitor: failed, never "stopped"
    assert "ocf-exit-reason:" in err and ("dead" in err or "zombie" in err)
    assert clc.agent("monitor")[0] == NOT_RUNNING          # a probe: stale pidfile, nothing running
    assert clc.agent("start")[0] == OK                      # cleans the stale pidfile
    assert clc.agent("monitor")[0] == OK


def test_recycled_pid_is_not_running(clc):
    other = subprocess.Popen(["sleep", "60"])
    try:
        with open(clc.pidfile, "w") as fh:
            fh.write(f"{other.pid}\n")
        rc, err = clc.agent("monitor", OCF_RESKEY_CRM_meta_interval="20000")
        assert rc == GENERIC and "not eucalyptus-cloud" in err
        assert clc.agent("monitor")[0] == NOT_RUNNING       # probe
        assert clc.agent("stop")[0] == OK
        assert other.poll() is None, "stop must never signal an unrelated process"
        assert not os.path.exists(clc.pidfile)
    finally:
        other.kill()
        other.wait()


def test_daemon_ignoring_sigterm_is_killed_within_the_stop_timeout(clc):
    clc.set_faults(ignore_sigterm=True, children=2)
    assert clc.agent("start")[0] == OK
    assert len(clc.pids()) == 3
    began = time.monotonic()
    rc, err = clc.agent("stop", OCF_RESKEY_CRM_meta_timeout="8000")
    elapsed = time.monotonic() - began
    assert rc == OK, err
    assert elapsed < 8, f"stop took {elapsed:.1f} s, beyond its 8 s timeout"
    assert "SIGKILL" in err
    assert clc.pids() == [] and not os.path.exists(clc.pidfile)


def test_stop_grace_parameter(clc):
    clc.set_faults(ignore_sigterm=True)
    assert clc.agent("start")[0] == OK
    began = time.monotonic()
    assert clc.agent("stop", stop_grace=1)[0] == OK
    assert time.monotonic() - began < 10
    assert clc.pids() == []


def test_failing_health_endpoint(clc):
    assert clc.agent("start")[0] == OK
    clc.set_faults(register_fail=True)
    assert clc.agent("monitor")[0] == OK                    # depth 0: the process is fine
    rc, err = clc.agent("monitor", OCF_CHECK_LEVEL=10)
    assert rc == GENERIC and "503" in err
    clc.set_faults(heartbeat_fail=True)
    assert clc.agent("monitor", OCF_CHECK_LEVEL=10)[0] == OK
    rc, err = clc.agent("monitor", OCF_CHECK_LEVEL=20)
    assert rc == GENERIC and "local eucalyptus component" in err


def test_a_hung_daemon_is_caught_by_the_deep_monitor_and_a_restart_clears_it(clc):
    # SIGUSR1: the running JVM hangs (process and ports kept, no answer), as in a deadlock
    assert clc.agent("start")[0] == OK
    pid = int(open(clc.pidfile).read().split()[0])
    os.kill(pid, signal.SIGUSR1)
    assert clc.agent("monitor")[0] == OK                    # depth 0 cannot see it
    rc, err = clc.agent("monitor", OCF_CHECK_LEVEL=10)
    assert rc == GENERIC and "did not answer" in err
    assert clc.agent("stop")[0] == OK and clc.pids() == []
    assert clc.agent("start")[0] == OK                      # a new daemon: healthy again
    assert clc.agent("monitor", OCF_CHECK_LEVEL=10)[0] == OK


def test_slow_start_beyond_the_timeout_fails_and_leaves_nothing(clc):
    clc.set_faults(start_delay=600, children=1)
    began = time.monotonic()
    rc, err = clc.agent("start", OCF_RESKEY_CRM_meta_timeout="10000")
    assert time.monotonic() - began < 10
    assert rc == GENERIC and "did not become healthy" in err and "did not answer" in err
    assert clc.pids() == [] and not os.path.exists(clc.pidfile)


def test_missing_binary(clc):
    os.unlink(clc.binary)
    rc, err = clc.agent("validate-all")
    assert rc == INSTALLED and "binary" in err
    assert clc.agent("monitor")[0] == NOT_RUNNING           # probe
    assert clc.agent("start")[0] == INSTALLED
    assert clc.agent("stop")[0] == OK


def test_unreadable_config(clc):
    os.chmod(clc.config, 0o600)
    agent, pythonpath = public_agent()          # nobody may not reach the checkout (a clone under /root)
    env = dict(clc.env(), PYTHONPATH=pythonpath)
    env["OCF_RESKEY_config"] = clc.config
    done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", agent,
                           "validate-all"], env=env, stderr=subprocess.PIPE, text=True)
    assert done.returncode == PERM and "permission denied" in done.stderr


def test_config_that_is_a_directory(clc):
    assert clc.agent("validate-all", config=clc.root)[0] == PERM


@pytest.mark.parametrize("param,value,words", [
    ("start_method", "launchd", "start_method"),
    ("register_url", "ftp://127.0.0.1/register", "register_url"),
    ("heartbeat_url", "not a url", "heartbeat_url"),
    ("stop_grace", "ten", "stop_grace"),
    ("pidfile", "relative/path.pid", "pidfile"),
])
def test_bad_parameter(clc, param, value, words):
    rc, err = clc.agent("validate-all", **{param: value})
    assert rc == CONFIGURED and words in err and "ocf-exit-reason:" in err


def test_unknown_user_is_not_installed(clc):
    rc, err = clc.agent("validate-all", user="no-such-user-here")
    assert rc == INSTALLED and "no-such-user-here" in err


def test_runs_as_the_configured_user(cert):
    top = tempfile.mkdtemp(prefix="eucaclc-user-")     # readable by nobody, unlike pytest's tmp_path
    os.chmod(top, 0o755)
    inst = Installation(os.path.join(top, "euca"), *cert)
    try:
        assert inst.agent("start", user="nobody", OCF_RESKEY_CRM_meta_timeout="30000")[0] == OK
        pid = int(open(inst.pidfile).read())
        assert os.stat(f"/proc/{pid}").st_uid == int(subprocess.check_output(["id", "-u", "nobody"]))
        assert inst.agent("stop")[0] == OK
    finally:
        inst.kill_everything()
        shutil.rmtree(top)


def test_logs_go_to_ha_logfile_not_stdout(clc, tmp_path):
    log = tmp_path / "ha.log"
    done = subprocess.run([AGENT, "start"], env=clc.env(HA_LOGFILE=str(log)), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    assert done.returncode == OK and done.stdout == ""
    text = log.read_text()
    assert "eucaclc(res_uec)" in text and "started and answers" in text


def test_a_daemon_without_pidfile_is_never_doubled(clc):
    assert clc.agent("start")[0] == OK
    pid = int(open(clc.pidfile).read())
    os.unlink(clc.pidfile)                                  # lost pidfile, daemon still running
    rc, err = clc.agent("monitor", OCF_RESKEY_CRM_meta_interval="20000")
    assert rc == GENERIC and "is missing" in err
    rc, err = clc.agent("start")
    assert rc == GENERIC and "already runs" in err
    assert clc.pids() == [pid]                              # no second instance
    assert clc.agent("stop")[0] == OK and clc.pids() == []
    assert clc.agent("start")[0] == OK


@pytest.mark.parametrize("argv", [["tail", "-f", "{binary}"], ["/bin/sh", "-c", "sleep 60", "{binary}"],
                                  ["/usr/bin/python3", "-c", "import time; time.sleep(60)", "{binary}"]])
def test_a_process_that_only_names_the_launcher_is_not_the_clc(clc, argv):
    reader = subprocess.Popen([a.format(binary=clc.binary) for a in argv], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        assert clc.agent("monitor")[0] == NOT_RUNNING                          # probe
        assert clc.agent("monitor", OCF_RESKEY_CRM_meta_interval="20000")[0] == NOT_RUNNING
        assert clc.agent("stop")[0] == OK
        assert reader.poll() is None, "stop signalled a process that only names the launcher"
        with open(clc.pidfile, "w") as fh:
            fh.write(f"{reader.pid}\n")
        rc, err = clc.agent("monitor", OCF_RESKEY_CRM_meta_interval="20000")
        assert rc == GENERIC and "not eucalyptus-cloud" in err
        assert clc.agent("start")[0] == OK                                     # not "already runs"
        assert clc.agent("stop")[0] == OK
        assert reader.poll() is None
    finally:
        reader.kill()
        reader.wait()


@pytest.mark.parametrize("param,value", [("start_method", "launchd"), ("pidfile", "relative/x.pid"),
                                         ("binary", "eucalyptus-cloud"), ("stop_grace", "ten"),
                                         ("register_url", "ftp://x/")])
def test_stop_with_a_bad_parameter_still_stops_the_clc(clc, param, value):
    assert clc.agent("stop", **{param: value})[0] == OK            # nothing runs: success
    assert clc.agent("start")[0] == OK
    rc, err = clc.agent("stop", **{param: value})
    assert rc == OK, err
    assert "bad parameter" in err
    assert clc.pids() == []

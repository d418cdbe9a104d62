"""start_method sysv, systemd, upstart and auto: the agent hands the CLC to the host's service manager.

sysv runs for real: a private mount namespace lays an init script over
/etc/init.d (the host's own directory is never touched).  systemd and upstart
cannot run here (no systemd as PID 1, no upstart), so a fake systemctl or
initctl first on PATH stands in, doing what the unit or job would do.
"""

import os
import subprocess

import pytest

import skip_policy

from clc_standin import AGENT

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need root")

OK, NOT_RUNNING = 0, 7


def control_script(inst, log):
    """A service script: start runs the launcher as the init script did, stop uses its -S."""
    return (f"#!/bin/sh\necho \"$@\" >> {log}\n"
            "case \"$1\" in\n"
            f"start|start-eucalyptus) exec {inst.binary} --log-level=INFO -h {inst.root} -u root "
            f"--pidfile {inst.pidfile} -f -L console-log ;;\n"
            f"stop) exec {inst.binary} -h {inst.root} --pidfile {inst.pidfile} -S ;;\n"
            "esac\nexit 0\n")


def write_exec(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o755)


def in_private_init_d(init_d, inst, action, **params):
    argv = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
            'mount --bind "$1" /etc/init.d && shift && exec "$@"', "sh", init_d, AGENT, action]
    done = subprocess.run(argv, env=inst.env(**params), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120)
    return done.returncode, done.stderr


@pytest.mark.parametrize("method", ["sysv", "auto"])
def test_sysv_init_script(clc, tmp_path, method):
    if os.path.isdir("/run/systemd/system") and method == "auto":
        pytest.skip(skip_policy.reason("host-runs-systemd", "start_method=auto would pick systemd"))
    init_d, log = tmp_path / "init.d", tmp_path / "calls"
    init_d.mkdir()
    write_exec(init_d / "eucalyptus-cloud", control_script(clc, log))
    rc, err = in_private_init_d(str(init_d), clc, "start", start_method=method)
    assert rc == OK, err
    if method == "auto":
        assert "start_method=auto: using sysv" in err
    assert clc.agent("monitor", OCF_CHECK_LEVEL=10)[0] == OK
    rc, err = in_private_init_d(str(init_d), clc, "stop", start_method=method)
    assert rc == OK, err
    assert log.read_text().split() == ["start", "stop"]
    assert clc.pids() == [] and clc.agent("monitor")[0] == NOT_RUNNING


@pytest.mark.parametrize("method,tool,name", [("systemd", "systemctl", "eucalyptus-cloud.service"),
                                              ("upstart", "initctl", "eucalyptus")])
def test_service_manager(clc, tmp_path, method, tool, name):
    bindir, log = tmp_path / "bin", tmp_path / "calls"
    bindir.mkdir()
    write_exec(bindir / tool, control_script(clc, log))
    path = f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    rc, err = _agent(clc, "start", path, start_method=method)
    assert rc == OK, err
    assert clc.agent("monitor")[0] == OK
    rc, err = _agent(clc, "stop", path, start_method=method)
    assert rc == OK, err
    assert log.read_text().splitlines() == [f"start {name}", f"stop {name}"]
    assert clc.pids() == []


def test_missing_service_manager_tool_is_not_installed(clc, tmp_path):
    if os.path.exists("/sbin/initctl"):
        pytest.skip(skip_policy.reason("host-has-initctl"))
    rc, err = _agent(clc, "validate-all", str(tmp_path), start_method="upstart")
    assert rc == 5 and "initctl" in err


def _agent(inst, action, path, **params):
    env = inst.env(**params)
    env["PATH"] = path
    done = subprocess.run([AGENT, action], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    return done.returncode, done.stderr

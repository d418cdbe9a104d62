"""Table tests of the agent's return-code logic, with /proc and the pidfile faked."""

import pytest

from uec_clc_ha.agent import ocf as agent, params as agent_params, clc_process, euca_conf
from uec_clc_ha.errors import OCF_ERR_CONFIGURED, OCF_ERR_GENERIC, OCF_NOT_RUNNING, OCF_SUCCESS

BINARY = "/usr/sbin/eucalyptus-cloud"

# pidfile content, the pidfile's process (None: absent), other processes, probe -> rc, words.
# A process is (state letter, argv, comm) in a fake /proc.
CLC = ("S", [BINARY, "-f"], "eucalyptus-clou")
READER = ("S", ["less", BINARY], "less")                       # names the launcher, does not run it
STATUS = [
    (None, None, [], False, OCF_NOT_RUNNING, "stopped"),
    (None, None, [CLC], False, OCF_ERR_GENERIC, "is missing"),
    (None, None, [READER], False, OCF_NOT_RUNNING, "stopped"),
    ("junk", None, [], False, OCF_ERR_GENERIC, "does not hold a PID"),
    ("100", CLC, [], False, OCF_SUCCESS, "running as PID 100"),
    ("100", None, [], False, OCF_ERR_GENERIC, "dead"),
    ("100", ("Z", [], "eucalyptus-clou"), [], False, OCF_ERR_GENERIC, "zombie"),
    ("100", ("S", ["sleep", "60"], "sleep"), [], False, OCF_ERR_GENERIC, "recycled PID"),
    ("100", READER, [], False, OCF_ERR_GENERIC, "recycled PID"),
    ("100", None, [], True, OCF_NOT_RUNNING, "stale pidfile"),
    ("100", ("S", ["sleep", "60"], "sleep"), [], True, OCF_NOT_RUNNING, "stale pidfile"),
    ("100", None, [CLC], True, OCF_ERR_GENERIC, "dead"),
]


def fake_proc(tmp_path, processes):
    """A /proc with {pid: (state letter, argv, comm)}."""
    proc = tmp_path / "proc"
    proc.mkdir()
    for pid, (letter, argv, name) in processes.items():
        d = proc / str(pid)
        d.mkdir()
        (d / "stat").write_bytes(f"{pid} ({name}) {letter} 1 1 1".encode())
        (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
        (d / "comm").write_text(name + "\n")
    return str(proc)


@pytest.mark.parametrize("pidfile,own,others,probe,rc,words", STATUS)
def test_process_status(tmp_path, pidfile, own, others, probe, rc, words):
    processes = {555 + i: p for i, p in enumerate(others)}
    if own:
        processes[100] = own
    pidpath = tmp_path / "euca.pid"
    if pidfile is not None:
        pidpath.write_text(pidfile + "\n")
    params = agent_params.from_env("monitor", {"OCF_RESKEY_binary": BINARY, "OCF_RESKEY_config": "/nonexistent",
                                               "OCF_RESKEY_pidfile": str(pidpath)})
    got, reason, _ = agent.process_status(params, probe=probe, proc=fake_proc(tmp_path, processes))
    assert (got, words in reason) == (rc, True), reason


SCRIPT = "#!/usr/bin/python3\nprint('launcher')\n"

# argv, the binary's first line (None: a compiled launcher) -> runs the launcher?
RUNS = [
    ([BINARY, "-f"], None, True),
    (["eucalyptus-cloud", "-f"], None, True),                # started by name from PATH
    (["/usr/bin/python3", BINARY, "-f"], SCRIPT, True),     # the #! interpreter running it
    (["/usr/bin/python3", "-S", BINARY], SCRIPT, True),
    (["/usr/bin/perl", BINARY], SCRIPT, False),             # not its interpreter
    (["less", BINARY], None, False),
    (["tail", "-f", BINARY], SCRIPT, False),
    (["/usr/bin/python3", "-c", "pass", BINARY], SCRIPT, False),
    (["/bin/sh", "-c", "sleep 60", BINARY], None, False),
    (["vi", "/etc/init.d/eucalyptus-cloud"], None, False),
    ([], None, False),
]


@pytest.mark.parametrize("argv,first_line,expected", RUNS)
def test_what_runs_the_launcher(tmp_path, argv, first_line, expected):
    binary = BINARY
    if first_line:
        path = tmp_path / "eucalyptus-cloud"
        path.write_text(first_line)
        binary = str(path)
        argv = [binary if a == BINARY else a for a in argv]
    assert clc_process.runs_binary(argv, binary) is expected


# argv, comm -> one of the data steps' programs runs?
PROGRAMS = [
    (["/usr/sbin/eucalyptus-cloud", "-f"], "eucalyptus-clou", True),
    (["/usr/bin/python3", "/usr/bin/image-store-proxy"], "image-store-pro", True),
    (["/usr/bin/python3", "/usr/bin/image-store-proxy"], "python3", True),
    (["/bin/sh", "/etc/init.d/image-store-proxy", "start"], "image-store-pro", True),
    (["less", "/etc/init.d/image-store-proxy"], "less", False),
    (["tail", "-f", "/var/log/eucalyptus/cloud-output.log", "/usr/sbin/eucalyptus-cloud"], "tail", False),
    (["vim", "/etc/init.d/image-store-proxy"], "vim", False),
    (["grep", "-r", "image-store-proxy", "/etc"], "grep", False),
]


@pytest.mark.parametrize("argv,name,expected", PROGRAMS)
def test_what_counts_as_eucalyptus_running(argv, name, expected):
    from uec_clc_ha.data import drbd_state

    assert clc_process.runs_program(argv, name, drbd_state.PROGRAMS) is expected


PARAMS = [
    ({}, None),
    ({"start_method": "launchd"}, "start_method"),
    ({"register_url": "ftp://x/register"}, "register_url"),
    ({"register_url": "https://:8443/register"}, "register_url"),
    ({"heartbeat_url": "http://127.0.0.1:99999/services/Heartbeat"}, "invalid port"),
    ({"stop_grace": "-5"}, "stop_grace"),
    ({"stop_grace": "1.5"}, "stop_grace"),
    ({"health_interval": "30s"}, "health_interval"),
    ({"pidfile": "x.pid"}, "pidfile"),
]


@pytest.mark.parametrize("values,words", PARAMS)
def test_parameter_problems(values, words):
    env = {f"OCF_RESKEY_{k}": v for k, v in values.items()}
    env["OCF_RESKEY_config"] = "/nonexistent"
    problem = agent.parameter_problem(agent_params.from_env("validate-all", env))
    assert (problem is None) if words is None else (words in problem)


def test_defaults_come_from_eucalyptus_conf(tmp_path):
    conf = tmp_path / "eucalyptus.conf"
    conf.write_text('# c\nEUCALYPTUS="/opt/euca"\nexport EUCA_USER=eucalyptus2\nCLOUD_OPTS="--remote-dns -l DEBUG"\n')
    p = agent_params.from_env("monitor", {"OCF_RESKEY_config": str(conf)})
    assert p.binary == "/opt/euca/usr/sbin/eucalyptus-cloud"
    assert p.pidfile == "/opt/euca/var/run/eucalyptus/eucalyptus-cloud.pid"
    assert (p.user, p.cloud_opts) == ("eucalyptus2", "--remote-dns -l DEBUG")


def test_parameters_override_and_fallbacks():
    p = agent_params.from_env("stop", {"OCF_RESKEY_config": "/nonexistent", "OCF_RESKEY_user": "u",
                                       "OCF_RESKEY_CRM_meta_timeout": "45000"})
    assert (p.eucalyptus, p.user, p.cloud_opts, p.timeout) == ("/", "u", "--log-level=INFO", 45.0)
    assert agent.stop_grace(p) == 35.0
    assert agent_params.from_env("start", {"OCF_RESKEY_config": "/nonexistent"}).timeout == 300.0


def test_interval_zero_is_a_probe():
    env = {"OCF_RESKEY_config": "/nonexistent"}
    assert agent_params.from_env("monitor", env).interval == 0
    assert agent_params.from_env("monitor", dict(env, OCF_RESKEY_CRM_meta_interval="20000")).interval == 20.0


@pytest.mark.parametrize("text,expected", [
    ('A="x y"\n', {"A": "x y"}),
    ("A='$HOME'\n", {"A": "$HOME"}),
    ('A=/x\nB="$A/y"\nC=${A}z\n', {"A": "/x", "B": "/x/y", "C": "/xz"}),
    ('A="a\\"b"  # trailing\n', {"A": 'a"b'}),
    ("  export A=1\n#B=2\nnot an assignment\n", {"A": "1"}),
    ('A=$(rm -rf /)\n', {"A": "$(rm"}),
    ('A=1\nA=2\n', {"A": "2"}),
])
def test_eucalyptus_conf_is_parsed_not_executed(text, expected):
    assert euca_conf.parse(text) == expected


def test_unknown_action_and_meta_data(capsys):
    assert agent.main(["eucaclc", "frobnicate"], env={}) == 3
    assert agent.main(["eucaclc", "meta-data"], env={}) == OCF_SUCCESS
    out = capsys.readouterr().out
    for name in ("config", "eucalyptus", "binary", "user", "pidfile", "cloud_opts", "start_method",
                 "register_url", "heartbeat_url", "stop_grace"):
        assert f'<parameter name="{name}"' in out


def test_validate_maps_bad_parameter_to_6(capsys):
    rc = agent.main(["eucaclc", "validate-all"], env={"OCF_RESKEY_config": "/nonexistent",
                                                      "OCF_RESKEY_start_method": "bogus"})
    assert rc == OCF_ERR_CONFIGURED
    assert "ocf-exit-reason:start_method='bogus'" in capsys.readouterr().err


class _Log:
    def __getattr__(self, name):
        return lambda *a, **k: None


def _deep_monitor(tmp_path, monkeypatch, pid=100, health="ok", interval="10000", every="30"):
    """One recurring depth-10 monitor with the process found alive as `pid`; (rc, health checks made)."""
    checks = []

    def health_problem(params, depth, timeout):
        if depth >= 10:
            checks.append(depth)
            return None if health == "ok" else health
        return None
    monkeypatch.setattr(agent, "process_status", lambda params, probe=False: (OCF_SUCCESS, "running", pid))
    monkeypatch.setattr(agent, "health_problem", health_problem)
    monkeypatch.setattr(agent, "installation_problem", lambda params: None)
    params = agent_params.from_env("monitor", {
        "OCF_RESKEY_config": "/nonexistent", "OCF_CHECK_LEVEL": "10", "OCF_RESKEY_CRM_meta_interval": interval,
        "OCF_RESKEY_health_interval": every, "HA_RSCTMP": str(tmp_path / "rsctmp"),
        "OCF_RESOURCE_INSTANCE": "res_uec"})
    rc = agent.monitor(params, _Log())
    return rc, len(checks), params


def test_a_recurring_deep_monitor_checks_health_every_health_interval(tmp_path, monkeypatch):
    import os
    import time
    assert _deep_monitor(tmp_path, monkeypatch)[:2] == (OCF_SUCCESS, 1)      # nothing noted yet: checks
    rc, checks, params = _deep_monitor(tmp_path, monkeypatch)
    assert (rc, checks) == (OCF_SUCCESS, 0)                                   # healthy 0 s ago: process only
    assert params.health_stamp == str(tmp_path / "rsctmp" / "eucaclc-res_uec.health")
    now = time.time()
    os.utime(params.health_stamp, (now - 24, now - 24))                       # 24 s < 30 - 10/2
    assert _deep_monitor(tmp_path, monkeypatch)[1] == 0
    os.utime(params.health_stamp, (now - 26, now - 26))                       # due on the monitor nearest 30 s
    assert _deep_monitor(tmp_path, monkeypatch)[1] == 1
    assert _deep_monitor(tmp_path, monkeypatch)[1] == 0
    assert _deep_monitor(tmp_path, monkeypatch, pid=101)[1] == 1              # a new daemon: checked at once


def test_a_hung_daemon_is_checked_again_on_every_monitor_until_it_answers(tmp_path, monkeypatch):
    import os
    import time
    _, _, params = _deep_monitor(tmp_path, monkeypatch)
    now = time.time()
    os.utime(params.health_stamp, (now - 40, now - 40))
    assert _deep_monitor(tmp_path, monkeypatch, health="no answer")[:2] == (OCF_ERR_GENERIC, 1)
    assert _deep_monitor(tmp_path, monkeypatch, health="no answer")[:2] == (OCF_ERR_GENERIC, 1)


@pytest.mark.parametrize("interval,every", [("0", "30"), ("10000", "0"), ("10000", "")])
def test_probes_and_health_interval_zero_always_check(tmp_path, monkeypatch, interval, every):
    for _ in range(2):
        assert _deep_monitor(tmp_path, monkeypatch, interval=interval, every=every)[1] == 1


def test_the_meta_data_stays_within_the_ocf_dtd_debian_ships():
    # Debian 12's ra-api-1.dtd (ocf-tester validates against it) knows neither reloadable nor reload-agent,
    # so a new health_interval restarts the CLC (Deep-Monitor-Interval says so)
    from uec_clc_ha.agent import meta
    xml = meta.metadata_xml()
    assert '<parameter name="health_interval" unique="0" required="0">' in xml
    assert "reloadable" not in xml and "reload-agent" not in xml

"""Table tests of the agent's return-code logic, with /proc and the pidfile faked."""

import pytest

from uec_clc_ha import agent, agent_params, clc_process, euca_conf
from uec_clc_ha.errors import OCF_ERR_CONFIGURED, OCF_ERR_GENERIC, OCF_NOT_RUNNING, OCF_SUCCESS

BINARY = "/usr/sbin/eucalyptus-cloud"

# pidfile content, process state, is eucalyptus-cloud, other eucalyptus-cloud processes, probe -> rc, words
STATUS = [
    (None, "absent", False, [], False, OCF_NOT_RUNNING, "stopped"),
    (None, "absent", False, [4242], False, OCF_ERR_GENERIC, "is missing"),
    (-1, "absent", False, [], False, OCF_ERR_GENERIC, "does not hold a PID"),
    (100, "alive", True, [], False, OCF_SUCCESS, "running as PID 100"),
    (100, "absent", False, [], False, OCF_ERR_GENERIC, "dead"),
    (100, "zombie", True, [], False, OCF_ERR_GENERIC, "zombie"),
    (100, "alive", False, [], False, OCF_ERR_GENERIC, "recycled PID"),
    (100, "absent", False, [], True, OCF_NOT_RUNNING, "stale pidfile"),
    (100, "alive", False, [], True, OCF_NOT_RUNNING, "stale pidfile"),
    (100, "absent", False, [555], True, OCF_ERR_GENERIC, "dead"),
]


@pytest.mark.parametrize("pid,state,is_clc,others,probe,rc,words", STATUS)
def test_process_status(monkeypatch, pid, state, is_clc, others, probe, rc, words):
    monkeypatch.setattr(clc_process, "read_pidfile", lambda path: pid)
    monkeypatch.setattr(clc_process, "state", lambda p, proc="/proc": state)
    monkeypatch.setattr(clc_process, "is_clc", lambda p, binary, proc="/proc": is_clc)
    monkeypatch.setattr(clc_process, "find_all", lambda binary, proc="/proc": list(others))
    params = agent_params.from_env("monitor", {"OCF_RESKEY_binary": BINARY, "OCF_RESKEY_config": "/nonexistent"})
    got, reason, _ = agent.process_status(params, probe=probe)
    assert (got, words in reason) == (rc, True), reason


PARAMS = [
    ({}, None),
    ({"start_method": "launchd"}, "start_method"),
    ({"register_url": "ftp://x/register"}, "register_url"),
    ({"register_url": "https://:8443/register"}, "register_url"),
    ({"heartbeat_url": "http://127.0.0.1:99999/services/Heartbeat"}, "invalid port"),
    ({"stop_grace": "-5"}, "stop_grace"),
    ({"stop_grace": "1.5"}, "stop_grace"),
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

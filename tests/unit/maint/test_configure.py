"""The maintainer helpers' logic, with a fake debconf and a temporary root."""

import pytest

import live_node
from scenarios import SCENARIOS, full_raw, write_settings
from uec_clc_ha.cluster import live_apply, node_facts
from uec_clc_ha.config import answers, changes as config_changes, keyring, pipeline, settings_file
from uec_clc_ha.errors import ValidationError
from uec_clc_ha.maint import __main__ as maint_main, configure as maint


class FakeDebconf:
    def __init__(self, values):
        self.values = dict(values)
        self.flags = {}
        self.substs = {}

    def get(self, question):
        return self.values.get(question, "")

    def set(self, question, value):
        self.values[question] = value

    def subst(self, question, key, value):
        self.substs[(question, key)] = value

    def fset(self, question, flag, value):
        self.flags[(question, flag)] = value


def answered(name="corosync-drbd84", **overrides):
    values = dict(full_raw(name), **overrides)
    db = {answers.question(q): values.get(key, "") for q, key in answers.SETTINGS_QUESTIONS.items()}
    db.update({answers.question(q): values.get(key, "") for q, key in answers.SECRET_QUESTIONS.items()})
    db[answers.question("disable-boot-startup")] = "true"
    db[answers.question("initial-primary")] = "true" if values["Initial-Primary"] == values["Local-Node"] else "false"
    return FakeDebconf(db)


def test_empty_secret_answer_keeps_the_files_secret(root):
    write_settings(root, "corosync-drbd84")
    db = answered(**{"Cluster-Secret": ""})
    changes, secrets, _ = answers.read(db)
    text, generated = config_changes.with_answers(root, changes, secrets)
    assert generated is None
    assert settings_file.parse(text)["Cluster-Secret"] == SCENARIOS["corosync-drbd84"]["Cluster-Secret"]


def test_first_node_without_a_secret_gets_one_generated(root):
    db = answered(**{"Cluster-Secret": ""})
    changes, secrets, _ = answers.read(db)
    text, generated = config_changes.with_answers(root, changes, secrets)
    assert generated and settings_file.parse(text)["Cluster-Secret"] == generated


def test_same_answers_leave_the_text_untouched(root):
    text = write_settings(root, "corosync-drbd84")
    changes, secrets, _ = answers.read(answered())
    assert config_changes.with_answers(root, changes, secrets) == (text, None)


def test_prepare_reports_every_invalid_answer_and_writes_nothing(root, monkeypatch):
    db = answered(**{"VIP": "10.10.10.300", "Peer-Node": "clc1"})
    with pytest.raises(ValidationError) as e:
        maint.prepare(root, db)
    assert {p.field for p in e.value.problems} >= {"VIP", "Peer-Node"}
    shown = db.substs[(answers.question("settings-invalid"), "problems")]
    assert "VIP: must be an IPv4 address" in shown and "Peer-Node: must differ" in shown
    assert db.flags[(answers.question("settings-invalid"), "seen")] == "false"
    assert not root.exists(maint.PENDING) and not root.exists("/etc/uec-clc-ha/uec-clc-ha.conf")


def test_unanswered_install_is_not_prepared(root):
    db = FakeDebconf({answers.question("local-node"): "clc1"})
    assert maint.prepare(root, db) == 0
    assert not root.exists(maint.PENDING)
    assert db.flags[(answers.question("secret-generated"), "seen")] == "true"     # no empty secret note


def test_settings_last_holds_no_secret(root):
    text = write_settings(root, "corosync-drbd9-ipmi")
    maint.record_last(root, text)
    last = root.read(maint.LAST)
    assert "VIP: 198.51.100.100" in last
    assert SCENARIOS["corosync-drbd9-ipmi"]["Cluster-Secret"] not in last
    assert "bmc-password" not in last
    assert root.stat(maint.LAST).st_mode & 0o777 == 0o600


def test_forget_secrets_clears_both_passwords():
    db = answered("corosync-drbd9-ipmi")
    answers.forget_secrets(db)
    assert db.get(answers.question("cluster-secret")) == "" and db.get(answers.question("ipmi-password")) == ""


def test_unknown_action_is_a_usage_error(capsys):
    assert maint_main.main(["frobnicate"]) == 2
    assert "unknown action" in capsys.readouterr().err


@pytest.mark.parametrize("error", [RuntimeError("boom"), OSError(5, "Input/output error")])
def test_a_failing_data_step_never_fails_the_postinst_and_is_not_repeated(root, monkeypatch, capsys, error):
    from uec_clc_ha.data import drbd_init
    from uec_clc_ha.config import settings

    def fails(*args, **kwargs):
        raise error
    monkeypatch.setattr(drbd_init, "init", fails)
    db = answered()
    db.set(answers.question("initialize-drbd"), "true")
    db.set(answers.question("migrate-data"), "true")
    _, _, actions = answers.read(db)
    config = settings.require_valid(full_raw("corosync-drbd84"))
    assert maint.data_steps(root, config, actions, db) is False
    err = capsys.readouterr().err
    assert "NOT DONE: `uec-clc-ha-ctl drbd-init --yes`" in err and "run `uec-clc-ha-ctl drbd-init --yes`" in err
    assert db.get(answers.question("initialize-drbd")) == "false"
    assert db.get(answers.question("migrate-data")) == "false"


def test_data_steps_that_ran_are_reset_too(root, monkeypatch):
    from uec_clc_ha.data import drbd_init, migration
    from uec_clc_ha.config import settings

    ran = []
    monkeypatch.setattr(drbd_init, "init", lambda *a, **k: ran.append(("drbd-init", k.get("wait"))))
    monkeypatch.setattr(migration, "migrate", lambda *a, **k: ran.append(("migrate", None)))
    db = answered()
    db.set(answers.question("initialize-drbd"), "true")
    db.set(answers.question("migrate-data"), "true")
    _, _, actions = answers.read(db)
    assert maint.data_steps(root, settings.require_valid(full_raw("corosync-drbd84")), actions, db)
    assert ran == [("drbd-init", False), ("migrate", None)]          # the postinst never waits for a sync
    assert answers.read(db)[2]["initialize-drbd"] is False and answers.read(db)[2]["migrate-data"] is False


def test_prepare_clears_the_secrets_from_debconf_even_when_it_fails(root):
    db = answered("corosync-drbd9-ipmi", **{"VIP": "10.10.10.300"})
    assert db.get(answers.question("cluster-secret")) and db.get(answers.question("ipmi-password"))
    with pytest.raises(ValidationError):
        maint.prepare(root, db)
    assert db.get(answers.question("cluster-secret")) == "" and db.get(answers.question("ipmi-password")) == ""


def test_the_second_node_never_generates_a_secret(root):
    second = {"Local-Node": "clc2", "Peer-Node": "clc1", "Local-Address": "198.51.100.12",
              "Peer-Address": "198.51.100.11", "Replication-Local-Address": "203.0.113.2",
              "Replication-Peer-Address": "203.0.113.1", "Cluster-Secret": ""}
    db = answered(**second)
    with pytest.raises(ValidationError) as e:
        maint.prepare(root, db)
    problem = [p for p in e.value.problems if p.field == "Cluster-Secret"]
    assert problem and "enter the cluster secret of the first node" in problem[0].rule
    assert "second, different secret would split the cluster" in problem[0].rule
    shown = db.substs[(answers.question("settings-invalid"), "problems")]
    assert "Cluster-Secret:" in shown
    assert not root.exists(maint.PENDING) and not root.exists("/etc/uec-clc-ha/uec-clc-ha.conf")


def test_an_arbiter_answered_with_no_secret_is_refused_for_the_secret_nobody_has_seen(root):
    db = answered(**{"Cluster-Secret": "", "Arbiter": "198.51.100.13"})
    with pytest.raises(ValidationError) as e:
        maint.prepare(root, db)
    problem = [p for p in e.value.problems if p.field == "Arbiter"]
    assert problem and "arbiter host holds already" in problem[0].rule
    assert "Arbiter:" in db.substs[(answers.question("settings-invalid"), "problems")]
    assert not root.exists(maint.PENDING) and not root.exists("/etc/uec-clc-ha/uec-clc-ha.conf")


def test_an_arbiter_answered_with_the_secret_typed_is_in_the_settings(root):
    changes, secrets, _ = answers.read(answered(Arbiter="198.51.100.13"))
    text, generated = config_changes.with_answers(root, changes, secrets)
    parsed = settings_file.parse(text)
    assert generated is None and parsed["Arbiter"] == "198.51.100.13"
    assert parsed["Cluster-Secret"] == SCENARIOS["corosync-drbd84"]["Cluster-Secret"]


def test_the_arbiter_question_left_empty_adds_no_arbiter(root):
    text = write_settings(root, "corosync-drbd84")
    changes, secrets, _ = answers.read(answered(Arbiter=""))
    assert changes["Arbiter"] == "" and config_changes.with_answers(root, changes, secrets) == (text, None)


def test_a_failed_install_keeps_the_secret_for_the_rerun_not_debconf(root):
    import json

    text = write_settings(root, "corosync-drbd84")
    root.remove("/etc/uec-clc-ha/uec-clc-ha.conf")
    root.write_atomic(maint.PENDING, json.dumps({"text": text, "generated": False}), mode=0o600)
    changes, secrets, _ = answers.read(answered(**{"Cluster-Secret": ""}))
    new, generated = config_changes.with_answers(root, changes, secrets, *maint._pending_secret(root))
    assert generated is None
    assert settings_file.parse(new)["Cluster-Secret"] == SCENARIOS["corosync-drbd84"]["Cluster-Secret"]


# -- what an upgrade or a reconfigure does on a node whose cluster is up -------------------------------------
def test_the_cluster_is_brought_up_by_the_postinst_the_first_time_only(root, monkeypatch, capsys):
    from uec_clc_ha.cluster import cluster_init
    from uec_clc_ha.config import settings
    from uec_clc_ha.host import applied, paths

    runs = []
    monkeypatch.setattr(cluster_init, "init", lambda *a, **k: runs.append(k))
    config = settings.require_valid(full_raw("corosync-drbd84"))
    maint.start_step(root, config, data_done=True)
    assert len(runs) == 1
    applied.record(root, paths.CRM_FILE, b"what cluster-init loaded")
    maint.start_step(root, config, data_done=True)        # an upgrade, a reconfigure: the stack is left alone
    assert len(runs) == 1
    assert "brought up on this node before" in capsys.readouterr().err


def data_moved(root):
    import os

    config_raw = full_raw("corosync-drbd84")
    write_settings(root, "corosync-drbd84")
    for d in config_raw["Data-Directories"].split():
        root.makedirs(os.path.dirname(d))
        os.symlink(f"{config_raw['Mount-Point']}/{os.path.basename(d)}", root.path(d))


def test_no_to_disable_boot_startup_never_enables_eucalyptus_on_drbd_data(root, monkeypatch, capsys):
    from uec_clc_ha.host import boot

    calls = []
    monkeypatch.setattr(boot, "disable", lambda system, log: calls.append("disable"))
    monkeypatch.setattr(boot, "restore", lambda system, log: calls.append("restore"))
    maint.boot_step(root, disable=False)
    assert calls == ["restore"]                 # data where Eucalyptus left it: boot start-up as it was
    calls.clear()
    data_moved(root)
    maint.boot_step(root, disable=False)
    assert calls == ["disable"] and "stays disabled although the answer was no" in capsys.readouterr().err


# -- the postinst on a node whose cluster runs: this node's facts published for doctor on the peer --------------
@pytest.fixture
def live(tmp_path, monkeypatch):
    monkeypatch.setattr(node_facts, "is_block_device", lambda system, path: system.exists(path))
    planned = {"steps": []}
    monkeypatch.setattr(live_apply, "plan", lambda system, config, changes, force=False: (planned["steps"], []))

    def make(**kwargs):
        system = live_node.configured(str(tmp_path / "live"), **kwargs)
        system.planned = planned
        return system
    return make


def built_on(system):
    return pipeline.build(system, pipeline.load_raw(system))


def test_the_postinst_publishes_the_facts_of_the_settings_it_installed(live, capsys):
    system = live()
    maint.running_cluster_step(system, built_on(system))
    raw = pipeline.load_raw(system)
    assert {k: v for k, v in system.cib.node_attrs["clc1"].items() if k in node_facts.ATTRIBUTES} == {
        node_facts.DIGEST_ATTR: node_facts.settings_digest(raw, keyring.derive(raw["Cluster-Secret"],
                                                                               raw["Cluster-Name"])),
        node_facts.DISK_ATTR: "134217728", node_facts.RELEASE_ATTR: "debian=12 pacemaker=2.1.5"}
    assert "uec-clc-ha: published for doctor on clc2: uec-clc-ha-settings, uec-clc-ha-disk-bytes, " \
        "uec-clc-ha-release (node attributes of clc1)" in capsys.readouterr().err
    # a dpkg-reconfigure with a new setting the running cluster has not taken: the new digest, and the word on it
    write_settings(system, "corosync-drbd84", **{"Fencing-Delay": "7"})
    system.planned["steps"] = [live_apply.Step("load", ("crm", "configure", "load", "update", "x"))]
    writes = len(system.cib.node_writes)
    maint.running_cluster_step(system, built_on(system))
    assert [name for _, name, _ in system.cib.node_writes[writes:]] == [node_facts.DIGEST_ATTR]
    assert "has not taken the new configuration yet" in capsys.readouterr().err


def test_facts_the_cib_does_not_take_never_fail_the_postinst(live, capsys):
    system = live(refuse_writes=True)
    maint.running_cluster_step(system, built_on(system))
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "published" in line]) == 1
    assert "uec-clc-ha: not published for doctor on clc2: uec-clc-ha-settings: command crm_attribute" in err


def test_into_another_cluster_debians_own_the_postinst_publishes_nothing(live, capsys):
    """A data step not done, so no cluster-init: the cluster Debian's packages started still runs here."""
    system = live(cluster_name="debian")
    maint.running_cluster_step(system, built_on(system))
    assert not system.cib.node_writes and not [a for a in system.calls if a[0] in ("crm_attribute", "attrd_updater")]
    assert "the cluster running here is 'debian', not this pair's 'uec-clc': nothing is published" in \
        capsys.readouterr().err


def test_without_a_running_cluster_the_postinst_publishes_nothing(live, capsys):
    system = live(cluster=False)
    maint.running_cluster_step(system, built_on(system))
    assert [a for a in system.calls if a[0] != "modinfo"] == [["crm_mon", "-1", "--output-as=xml"]]
    assert capsys.readouterr().err == ""


# -- the second node from the first node's join token (uec-clc-ha/join-token) -----------------------------------
def joining(root, monkeypatch, secret=SCENARIOS["corosync-arbiter"]["Cluster-Secret"], **answers_given):
    """A debconf database as debian/config leaves it on the second node: the token, the secret, and the questions
    it filled (this host's name as local-node); the real checkers stand aside (unit tests run no program)."""
    import json

    from uec_clc_ha import __version__
    from uec_clc_ha.config import join_token

    monkeypatch.setattr(maint.pipeline, "check", lambda system, built: [])
    token = join_token.make(full_raw("corosync-arbiter"), __version__)
    db = FakeDebconf({answers.question("join-token"): token, answers.question("cluster-secret"): secret,
                      answers.question("local-node"): "clc2", answers.question("vip-interface"): "eth0",
                      answers.question("replication-interface"): "eth1",
                      answers.question("drbd-disk"): "/dev/vdb1"})
    for q, value in answers_given.items():
        db.set(answers.question(q), value)
    return db, lambda: settings_file.parse(json.loads(root.read(maint.PENDING))["text"])


def test_a_join_token_answers_the_second_nodes_settings(root, monkeypatch):
    db, pending = joining(root, monkeypatch, **{"drbd-disk": "/dev/vdc1"})
    assert maint.prepare(root, db) == 0
    raw = pending()
    assert (raw["Local-Node"], raw["Peer-Node"], raw["Local-Address"], raw["Replication-Local-Address"]) == \
        ("clc2", "clc1", "198.51.100.12", "203.0.113.2")
    assert raw["Arbiter"] == "198.51.100.30" and raw["DRBD-Disk"] == "/dev/vdc1"
    assert raw["Cluster-Secret"] == SCENARIOS["corosync-arbiter"]["Cluster-Secret"]
    # debconf now holds the settings, not the token's word for them: a later reconfigure starts from these
    assert db.get(answers.question("peer-address")) == "198.51.100.11"
    assert db.get(answers.question("initial-primary")) == "false"
    assert db.get(answers.question("cluster-secret")) == ""


@pytest.mark.parametrize("given, said", [({"cluster-secret": "another-pairs-secret-of-some-length"}, "not the one"),
                                         ({"local-node": "clc3"}, "this host is clc3")])
def test_a_join_token_that_does_not_fit_is_refused_and_nothing_is_prepared(root, monkeypatch, given, said):
    from uec_clc_ha.errors import Refused

    db, _ = joining(root, monkeypatch, **given)
    with pytest.raises(Refused) as e:
        maint.prepare(root, db)
    assert said in str(e.value)
    assert not root.exists(maint.PENDING) and db.get(answers.question("cluster-secret")) == ""


def test_a_cut_join_token_is_shown_as_an_invalid_answer(root, monkeypatch):
    db, _ = joining(root, monkeypatch)
    db.set(answers.question("join-token"), db.get(answers.question("join-token"))[:-9])
    with pytest.raises(ValidationError):
        maint.prepare(root, db)
    assert "join token:" in db.substs[(answers.question("settings-invalid"), "problems")]
    assert not root.exists(maint.PENDING)

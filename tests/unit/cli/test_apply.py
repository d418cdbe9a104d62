"""`uec-clc-ha-ctl apply` on a node whose cluster runs: after the live steps, this node's facts published for doctor.

The node is tests/support/live_node (the live path, files under a
temporary root); the real checkers (pipeline.check) and the live steps
themselves (cluster.live_apply, test_live_apply) are played here: what is
tested is apply's sequence around them.
"""

import io

import pytest

import live_node
from uec_clc_ha.cli import apply
from uec_clc_ha.cluster import live_apply, node_facts
from uec_clc_ha.config import keyring, pipeline, settings_file
from uec_clc_ha.errors import CommandFailure
from uec_clc_ha.host import paths


class Args:
    settings = None
    dry_run = False
    force = False


@pytest.fixture
def node(tmp_path, monkeypatch):
    monkeypatch.setattr(node_facts, "is_block_device", lambda system, path: system.exists(path))
    monkeypatch.setattr(pipeline, "check", lambda system, built: pipeline.Problems())
    ran = []
    monkeypatch.setattr(live_apply, "plan", lambda system, config, changes, force=False: (
        [live_apply.Step("what the running services take", ("crm_resource", "--wait"))], []))
    monkeypatch.setattr(live_apply, "run", lambda system, steps: ran.append([s.argv for s in steps]))

    def make(**kwargs):
        system = live_node.configured(str(tmp_path / "root"), **kwargs)
        system.ran = ran
        return system
    return make


def run(system, **options):
    out = io.StringIO()
    args = type("Args", (Args,), options)
    rc = apply.run(args, system, out)
    return rc, out.getvalue()


def digest(system):
    raw = pipeline.load_raw(system)
    return node_facts.settings_digest(raw, keyring.derive(raw["Cluster-Secret"], raw["Cluster-Name"]))


def node_writes(system):
    return [a for a in system.calls if a[:3] == ["crm_attribute", "--type", "nodes"] and "--query" not in a]


def test_apply_publishes_this_nodes_facts_after_the_live_steps(node):
    system = node()
    rc, out = run(system)
    assert rc == 0 and system.ran == [[("crm_resource", "--wait")]]
    assert {k: v for k, v in system.cib.node_attrs["clc1"].items() if k in node_facts.ATTRIBUTES} == {
        node_facts.DIGEST_ATTR: digest(system), node_facts.DISK_ATTR: "134217728",
        node_facts.RELEASE_ATTR: "debian=12 pacemaker=2.1.5"}
    assert out.endswith("published for doctor on clc2: uec-clc-ha-settings, uec-clc-ha-disk-bytes, "
                        "uec-clc-ha-release (node attributes of clc1)\n"), out


def test_apply_with_nothing_to_change_publishes_too_and_a_set_republishes_the_digest(node):
    system = node()
    run(system)
    writes = len(system.cib.node_writes)
    rc, out = run(system)                                # nothing to change: nothing written, nothing said
    assert rc == 0 and "nothing to change" in out and "published" not in out
    assert len(system.cib.node_writes) == writes
    system.cib.node_attrs["clc1"].clear()                  # a node that never published (an older version's)
    rc, out = run(system)
    assert "nothing to change" in out and "published for doctor on clc2: uec-clc-ha-settings" in out
    old = digest(system)
    settings_file.save(system, settings_file.updated_text(system.read(paths.SETTINGS_PATH), {"Fencing-Delay": "7"}))
    writes = len(system.cib.node_writes)
    rc, out = run(system)
    assert rc == 0 and system.cib.node_writes[writes:] == [("clc1", node_facts.DIGEST_ATTR, digest(system))]
    assert digest(system) != old


def test_a_dry_run_publishes_nothing(node):
    system = node()
    rc, out = run(system, dry_run=True)
    assert rc == 0 and node_writes(system) == [] and system.ran == []


def test_apply_whose_live_steps_failed_publishes_nothing(node, monkeypatch):
    system = node()

    def failing(system, steps):
        raise CommandFailure(["crm", "configure", "load", "update", paths.CRM_FILE], 1, "ERROR: bad")
    monkeypatch.setattr(live_apply, "run", failing)
    with pytest.raises(CommandFailure):
        run(system)
    assert node_writes(system) == []


def test_a_cib_that_does_not_take_the_facts_does_not_fail_apply(node):
    system = node(refuse_writes=True)
    rc, out = run(system)
    assert rc == 0
    said = [line for line in out.splitlines() if "published" in line]
    assert len(said) == 1 and said[0].startswith("not published for doctor on clc2: uec-clc-ha-settings:"), out


def test_where_no_cluster_runs_apply_publishes_nothing_and_says_nothing_of_it(node):
    system = node(cluster=False)
    rc, out = run(system)
    assert rc == 0 and "published" not in out and node_writes(system) == []

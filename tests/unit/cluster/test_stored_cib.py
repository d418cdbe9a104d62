"""cluster.stored_cib: which stored CIB is another cluster's, and setting it aside whole."""

import pytest

from uec_clc_ha.cluster import stored_cib
from uec_clc_ha.host import paths
from uec_clc_ha.host.system import System

PAIR = ("clc1", "clc2")

# What Debian's pacemaker leaves after its package's install started it on corosync's own one-node cluster.
DEBIANS = """<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="5" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-have-watchdog" name="have-watchdog" value="true"/>
        <nvpair id="cib-bootstrap-options-dc-version" name="dc-version" value="2.1.5-a3f44794f94"/>
        <nvpair id="cib-bootstrap-options-cluster-infrastructure" name="cluster-infrastructure" value="corosync"/>
        <nvpair id="cib-bootstrap-options-cluster-name" name="cluster-name" value="{name}"/>
      </cluster_property_set>
    </crm_config>
    <nodes>{nodes}</nodes>
    <resources>{resources}</resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
"""
NODE1 = '<node id="1" uname="node1"/>'
PAIR_NODES = '<node id="1" uname="clc1"/><node id="2" uname="clc2"/>'
A_RESOURCE = '<primitive id="res_ip" class="ocf" provider="heartbeat" type="IPaddr2"/>'


def cib(name="debian", nodes=NODE1, resources=""):
    return DEBIANS.format(name=name, nodes=nodes, resources=resources)


@pytest.fixture
def node(tmp_path):
    system = System(str(tmp_path))
    system.makedirs(stored_cib.CIB_DIR)
    return system


@pytest.mark.parametrize("text, why", [
    (cib(), "it is the CIB of the cluster 'debian'"),
    (cib(name="uec-clc"), "it lists node of another cluster (node1)"),
    (cib(name="uec-clc", nodes=PAIR_NODES + NODE1 + '<node id="3" uname="node3"/>'),
     "it lists nodes of another cluster (node1, node3)"),
    (cib(name="", nodes=NODE1), "it lists node of another cluster (node1)"),
])
def test_a_cib_without_resources_of_another_cluster_or_naming_other_nodes_is_anothers(node, text, why):
    node.write_atomic(paths.PACEMAKER_CIB, text)
    assert stored_cib.whose(node, "uec-clc", PAIR) == why


@pytest.mark.parametrize("text", [
    cib(name="uec-clc", nodes=PAIR_NODES),
    cib(name="uec-clc", nodes=""),
    cib(resources=A_RESOURCE),                              # resources: never set aside, whatever its name
    "<cib><configuration",                                  # unreadable: Pacemaker falls back to its backups
])
def test_no_cib_this_pairs_one_with_resources_or_an_unreadable_one_is_left(node, text):
    assert stored_cib.whose(node, "uec-clc", PAIR) is None
    node.write_atomic(paths.PACEMAKER_CIB, text)
    assert stored_cib.whose(node, "uec-clc", PAIR) is None


def test_set_aside_moves_every_file_and_a_later_one_does_not_overwrite_the_first(node):
    files = {"cib.xml": cib(), "cib.xml.sig": "abc\n", "cib-1.raw": cib(), "cib-1.raw.sig": "def\n",
             "cib.last": "1\n"}
    for name, text in files.items():
        node.write_atomic(f"{stored_cib.CIB_DIR}/{name}", text)
    assert stored_cib.set_aside(node) == paths.SAVED_CIB
    assert node.listdir(stored_cib.CIB_DIR) == [] and node.is_dir(stored_cib.CIB_DIR)
    assert {name: node.read(f"{paths.SAVED_CIB}/{name}") for name in node.listdir(paths.SAVED_CIB)} == files
    node.write_atomic(paths.PACEMAKER_CIB, cib(name="other"))
    assert stored_cib.set_aside(node) == paths.SAVED_CIB + ".1"
    assert node.read(f"{paths.SAVED_CIB}/cib.xml") == cib()
    assert node.read(f"{paths.SAVED_CIB}.1/cib.xml") == cib(name="other")

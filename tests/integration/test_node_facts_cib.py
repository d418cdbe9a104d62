"""uec_clc_ha.cluster.node_facts against Pacemaker's own crm_attribute and cibadmin, on a CIB file.

Pacemaker's tools work on a CIB file instead of the cluster's when CIB_file
names one: the permanent node attributes node_facts reads, writes and
deletes are checked there with the real tools (the argv they accept, the
exit code of an attribute that is not there, what --quiet prints, that a
value already in place is not written again), and the scripted CIB of the
unit tests (tests/support/cib_model) is held to the same answers.  Where a
CIB file differs from a running cluster: no controller, so the nodes are
created in the file (cibadmin --create) instead of by their joining.
"""

import os
import re
import subprocess

import pytest

from cib_model import Cib
from uec_clc_ha.cluster import node_facts
from uec_clc_ha.host.system import SYSTEM_PATH, System

FACTS = node_facts.Facts(digest="ab" * 32, disk_bytes="134217728", disk_problem=None, debian="12",
                         pacemaker="2.1.5")


def tool(*argv, check=True):
    """A Pacemaker tool, on the CIB file the fixture put in the environment (as System.run passes it on)."""
    done = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                          env=dict(os.environ, PATH=SYSTEM_PATH, LC_ALL="C"))
    assert not check or done.returncode == 0, (argv, done.returncode, done.stderr)
    return done


@pytest.fixture
def cib(tmp_path, monkeypatch):
    """An empty CIB (as this Pacemaker writes one) holding the nodes clc1 and clc2; the tools use it."""
    path = tmp_path / "cib.xml"
    path.write_text(tool("cibadmin", "--empty").stdout)
    monkeypatch.setenv("CIB_file", str(path))
    for i, node in enumerate(("clc1", "clc2"), 1):
        tool("cibadmin", "--create", "-o", "nodes", "-X", f'<node id="{i}" uname="{node}"/>')
    return path


def epoch():
    return int(re.search(r'\bepoch="(\d+)"', tool("cibadmin", "-Q", "--no-children").stdout).group(1))


def test_published_written_read_and_not_written_again(cib):
    system = System("/")
    assert node_facts.cib_answers(system)
    assert [node_facts.published(system, "clc1", n) for n in node_facts.ATTRIBUTES] == [None, None, None]
    written, failed = node_facts.publish(system, "clc1", FACTS)
    assert failed == [] and written == list(node_facts.ATTRIBUTES)
    assert {n: node_facts.published(system, "clc1", n) for n in node_facts.ATTRIBUTES} == FACTS.attributes()
    before = epoch()
    assert node_facts.publish(system, "clc1", FACTS) == ([], [])
    assert epoch() == before                                      # a steady node does not touch the CIB
    # the peer's own, read from this node (doctor's comparison), and a size that can no longer be read
    node_facts.publish(system, "clc2", FACTS)
    assert node_facts.published(system, "clc2", node_facts.DIGEST_ATTR) == FACTS.digest
    gone = node_facts.Facts(FACTS.digest, None, node_facts.DISK_UNREADABLE, "12", "2.1.5")
    assert node_facts.publish(system, "clc1", gone) == ([f"{node_facts.DISK_ATTR} removed"], [])
    assert node_facts.published(system, "clc1", node_facts.DISK_ATTR) is None
    assert node_facts.published(system, "clc2", node_facts.DISK_ATTR) == "134217728"


def test_a_node_the_cib_does_not_know_is_one_failure_each_not_an_exception(cib):
    written, failed = node_facts.publish(System("/"), "clc9", FACTS)
    assert written == [] and len(failed) == 3 and "Could not map name=clc9" in failed[0]


def test_the_scripted_cib_answers_as_the_real_tools_do(cib):
    """Every command node_facts runs, in the order a first publication and a later change run them: the exit
    codes and standard output of cib_model's Cib are the real tools'."""
    model = Cib()
    base = ["crm_attribute", "--type", "nodes", "--node", "clc1", "--name", node_facts.DIGEST_ATTR]
    for argv in (base + ["--query", "--quiet"], base + ["--update", FACTS.digest], base + ["--query", "--quiet"],
                 base + ["--query"], base + ["--delete"], base + ["--delete"], base + ["--query", "--quiet"]):
        real = tool(*argv, check=False)
        rc, out = model.answer(None, argv)
        assert (rc, out) == (real.returncode, real.stdout), argv

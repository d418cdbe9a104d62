"""`uec-clc-ha-ctl join-token` on one root and `join` on another (uec_clc_ha.cli.join*, config.join_token).

The oracle of a good join is doctor's own comparison: both nodes' settings digests (what doctor publishes and
compares between the nodes) are equal, and the second node's file reads back as the first node's with the node
names and addresses swapped.
"""

import base64
import gzip

import pytest

from scenarios import SCENARIOS, write_settings
from uec_clc_ha.cluster import node_facts
from uec_clc_ha.config import join_token, keyring, settings_file
from uec_clc_ha.errors import EXIT_INVALID, EXIT_REFUSED, EXIT_USAGE
from uec_clc_ha.host import paths
from uec_clc_ha.host.system import System

SECRET = SCENARIOS["corosync-arbiter"]["Cluster-Secret"]


@pytest.fixture
def second(tmp_path):
    path = tmp_path / "second"
    path.mkdir()
    return System(str(path))


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    return str(path)


def token_of(ctl, root, scenario="corosync-arbiter", **overrides):
    write_settings(root, scenario, **overrides)
    r = ctl("--root", root.root, "join-token")
    assert r.rc == 0, r
    assert len(r.out.splitlines()) == 1
    return r.out.strip()


def payload_text(token):
    payload = token.split(".")[1]
    return gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).decode()


def with_payload(token, text):
    prefix, _, mac = token.split(".")
    payload = base64.urlsafe_b64encode(gzip.compress(text.encode(), mtime=0)).rstrip(b"=").decode()
    return f"{prefix}.{payload}.{mac}"


def digest(raw):
    return node_facts.settings_digest(raw, keyring.derive(raw["Cluster-Secret"], raw["Cluster-Name"]))


def test_the_second_node_gets_the_first_nodes_settings_swapped(ctl, root, second, secret_file):
    token = token_of(ctl, root)
    r = ctl("--root", second.root, "join", token, "--secret-file", secret_file)
    assert r.rc == 0, r
    first, other = settings_file.load(root), settings_file.load(second)
    for a, b in join_token.SWAPPED:
        assert other[a] == first[b] and other[b] == first[a]
    assert other["Arbiter"] == "198.51.100.30" and other["Initial-Primary"] == "clc1"
    assert digest(first) == digest(other)
    assert second.stat(paths.SETTINGS_PATH).st_mode & 0o777 == 0o600
    assert "prepare-secondary --yes" in r.out and SECRET not in r.out + r.err
    again = ctl("--root", second.root, "join", token, "--secret-file", secret_file)
    assert again.rc == 0 and "nothing to do" in again.out


def test_the_token_carries_no_secret(ctl, root):
    token = token_of(ctl, root, "corosync-drbd9-ipmi")
    text = payload_text(token)
    assert SECRET not in token + text and "bmc-pw-for-tests" not in token + text
    assert "Cluster-Secret" not in text and "IPMI-Password" not in text
    assert "IPMI-User: fence" in text


def test_a_wrong_secret_is_refused_and_nothing_is_written(ctl, root, second, tmp_path):
    token = token_of(ctl, root)
    wrong = tmp_path / "wrong"
    wrong.write_text("another-pairs-secret-of-some-length\n")
    r = ctl("--root", second.root, "join", token, "--secret-file", str(wrong))
    assert r.rc == EXIT_REFUSED and "not the one of the pair 'uec-clc'" in r.err, r
    assert not second.exists(paths.SETTINGS_PATH)


@pytest.mark.parametrize("how", ["payload", "mac"])
def test_an_altered_token_is_refused(ctl, root, second, secret_file, how):
    token = token_of(ctl, root)
    if how == "payload":
        altered = with_payload(token, payload_text(token).replace("VIP: 198.51.100.100", "VIP: 198.51.100.101"))
    else:
        mac = token.rsplit(".", 1)[1]
        altered = token[:-len(mac)] + ("A" if mac[0] != "A" else "B") + mac[1:]
    r = ctl("--root", second.root, "join", altered, "--secret-file", secret_file)
    assert r.rc == EXIT_REFUSED and "altered or damaged" in r.err, r
    assert not second.exists(paths.SETTINGS_PATH)


@pytest.mark.parametrize("cut", [lambda t: t[:-5], lambda t: t[:len(t) // 2] + t[len(t) // 2 + 8:],
                                 lambda t: t.replace("UECJ1.", "")])
def test_a_cut_token_is_invalid_input(ctl, root, second, secret_file, cut):
    r = ctl("--root", second.root, "join", cut(token_of(ctl, root)), "--secret-file", secret_file)
    assert r.rc == EXIT_INVALID and "join token:" in r.err, r
    assert not second.exists(paths.SETTINGS_PATH)


def test_a_token_of_a_newer_version_is_refused_by_name(ctl, root, second, secret_file):
    token = token_of(ctl, root)
    r = ctl("--root", second.root, "join", with_payload(token, payload_text(token) + "Colour: blue\n"),
            "--secret-file", secret_file)
    assert r.rc == EXIT_INVALID and "Colour" in r.err and "same version" in r.err


def test_a_token_for_another_host_is_refused(ctl, root, second, secret_file):
    second.write_atomic("/etc/hostname", "clc3\n")
    r = ctl("--root", second.root, "join", token_of(ctl, root), "--secret-file", secret_file)
    assert r.rc == EXIT_REFUSED and "joins clc2 to clc1" in r.err and "this host is clc3" in r.err
    assert not second.exists(paths.SETTINGS_PATH)


def test_a_node_of_another_pair_is_refused(ctl, root, second, secret_file):
    token = token_of(ctl, root)
    write_settings(second, "corosync-drbd84", **{"Local-Node": "clc2", "Peer-Node": "clc9",
                                                  "Local-Address": "198.51.100.12",
                                                  "Peer-Address": "198.51.100.19",
                                                  "Replication-Local-Address": "203.0.113.2",
                                                  "Replication-Peer-Address": "203.0.113.1"})
    before = second.read(paths.SETTINGS_PATH)
    r = ctl("--root", second.root, "join", token, "--secret-file", secret_file)
    assert r.rc == EXIT_REFUSED and "configured already for the pair" in r.err and "clc9" in r.err
    assert second.read(paths.SETTINGS_PATH) == before


def test_this_hosts_facts_come_from_the_options(ctl, root, second, secret_file):
    r = ctl("--root", second.root, "join", token_of(ctl, root), "--secret-file", secret_file,
            "--vip-interface", "ens3", "--replication-interface", "ens4", "--drbd-disk", "/dev/vdc1")
    assert r.rc == 0, r
    other = settings_file.load(second)
    assert (other["VIP-Interface"], other["Replication-Interface"], other["DRBD-Disk"]) == \
        ("ens3", "ens4", "/dev/vdc1")
    assert digest(other) == digest(settings_file.load(root))       # each node's own: not compared


def test_a_bad_fact_is_refused_naming_the_field(ctl, root, second, secret_file):
    r = ctl("--root", second.root, "join", token_of(ctl, root), "--secret-file", secret_file,
            "--replication-interface", "eth0")
    assert r.rc == EXIT_INVALID and "Replication-Interface: must differ from VIP-Interface" in r.err
    assert not second.exists(paths.SETTINGS_PATH)


def test_ipmi_fencing_needs_the_bmc_password_given_here(ctl, root, second, secret_file, tmp_path):
    token = token_of(ctl, root, "corosync-drbd9-ipmi")
    r = ctl("--root", second.root, "join", token, "--secret-file", secret_file)
    assert r.rc == EXIT_USAGE and "--ipmi-password-file" in r.err
    assert not second.exists(paths.SETTINGS_PATH)
    pw = tmp_path / "bmc"
    pw.write_text("bmc-pw-for-tests\n")
    r = ctl("--root", second.root, "join", token, "--secret-file", secret_file, "--ipmi-password-file", str(pw))
    assert r.rc == 0, r
    other = settings_file.load(second)
    assert (other["IPMI-Local-Address"], other["IPMI-Peer-Address"]) == ("192.0.2.12", "192.0.2.11")
    assert digest(other) == digest(settings_file.load(root))


def test_join_token_refuses_invalid_settings(ctl, root):
    write_settings(root, "corosync-arbiter", VIP="")
    r = ctl("--root", root.root, "join-token")
    assert r.rc == EXIT_INVALID and "VIP" in r.err and r.out == ""


class Terminal:
    """Standard input as a person at a terminal answers: one line per question."""

    def __init__(self, *lines):
        self.lines = list(lines)

    def isatty(self):
        return True

    def readline(self):
        return self.lines.pop(0) + "\n" if self.lines else ""


def test_on_a_terminal_this_hosts_facts_are_asked_offering_the_first_nodes(ctl, root, second, secret_file):
    import io

    from uec_clc_ha.cli import join, parser

    token = token_of(ctl, root)
    args = parser().parse_args(["--root", second.root, "join", token, "--secret-file", secret_file])
    out = io.StringIO()
    assert join.run(args, second, out, stdin=Terminal("", "ens4", "")) == 0
    asked = out.getvalue()
    assert "VIP-Interface of this node [eth0] (as on clc1)" in asked
    assert "Replication-Interface of this node [eth1]" in asked and "DRBD-Disk of this node [/dev/vdb1]" in asked
    other = settings_file.load(second)
    assert (other["VIP-Interface"], other["Replication-Interface"], other["DRBD-Disk"]) == ("eth0", "ens4",
                                                                                             "/dev/vdb1")


@pytest.mark.parametrize("initial, role, refused", [
    ("clc2", "Primary", True),          # clc2, joining again after its purge, still named while clc1 serves
    ("clc2", "Secondary", False),       # a fresh pair whose data is on clc2: it initialises there
    ("clc2", "Unconfigured", False),
    ("clc1", "Primary", False),         # the usual join: the data is here and Initial-Primary says so
])
def test_a_token_that_makes_the_joining_node_the_datas_node_while_the_data_is_here_is_refused(
        root, initial, role, refused):
    from uec_clc_ha.cli import join_token as cli_join_token
    from uec_clc_ha.config import settings
    from uec_clc_ha.errors import Refused

    write_settings(root, "corosync-arbiter", **{"Initial-Primary": initial})
    c = settings.require_valid(settings_file.load(root))
    asked = []

    def drbd_role(system, resource):
        asked.append(resource)
        return role
    if refused:
        with pytest.raises(Refused) as e:
            cli_join_token.not_to_the_data_node(root, c, role=drbd_role)
        assert "Initial-Primary is clc2, the node this token joins, but the data is here: clc1 is DRBD Primary" \
            in str(e.value) and "`uec-clc-ha-ctl set Initial-Primary=clc1`" in str(e.value)
    else:
        cli_join_token.not_to_the_data_node(root, c, role=drbd_role)
    assert asked == ([c.drbd_resource] if initial == "clc2" else [])

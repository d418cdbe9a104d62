"""Table tests of the settings rules: each bad value names its field and rule."""

import pytest

from scenarios import full_raw
from uec_clc_ha.config import settings
from uec_clc_ha.errors import ValidationError

GOOD = "corosync-drbd84"

CASES = [
    # (overrides, field named, words of the rule)
    ({"Local-Address": "10.10.10.300"}, "Local-Address", "IPv4 address"),
    ({"Peer-Address": "198.51.100"}, "Peer-Address", "IPv4 address"),
    ({"VIP": "127.0.0.5"}, "VIP", "unicast"),
    ({"VIP": "203.0.113.50"}, "VIP", "network of the VIP interface"),
    ({"VIP": "198.51.100.11"}, "VIP", "must differ from Local-Address"),
    ({"VIP": "198.51.100.255"}, "VIP", "broadcast"),
    ({"Peer-Address": "198.51.100.11"}, "Peer-Address", "both nodes on one address"),
    ({"Peer-Node": "clc1"}, "Peer-Node", "must differ"),
    ({"Peer-Node": "clc_2"}, "Peer-Node", "host name"),
    ({"Local-Node": "-bad"}, "Local-Node", "host name"),
    ({"VIP-Prefix": "33"}, "VIP-Prefix", "from 8 to 30"),
    ({"VIP-Prefix": "x"}, "VIP-Prefix", "whole number"),
    ({"DRBD-Port": "70000"}, "DRBD-Port", "from 1024 to 65535"),
    ({"DRBD-Port": "5405"}, "DRBD-Port", "corosync"),
    ({"DRBD-Protocol": "D"}, "DRBD-Protocol", "one of: A, B, C"),
    ({"DRBD-Version": "8.3"}, "DRBD-Version", "one of"),
    ({"DRBD-HMAC-Alg": "md5"}, "DRBD-HMAC-Alg", "one of: sha256, sha512, sha1"),
    ({"DRBD-Device": "/dev/sdb"}, "DRBD-Device", "/dev/drbdN"),
    ({"DRBD-Disk": "vdb1"}, "DRBD-Disk", "under /dev"),
    ({"DRBD-Disk": ""}, "DRBD-Disk", "required"),
    ({"DRBD-Sync-Rate": "10MB"}, "DRBD-Sync-Rate", "K, M or G"),
    ({"DRBD-Sync-Rate": "5G"}, "DRBD-Sync-Rate", "at most 4G"),
    ({"Cluster-Stack": "openais"}, "Cluster-Stack", "one of: corosync, heartbeat"),
    ({"Corosync-Token": "50"}, "Corosync-Token", "from 200"),
    ({"Replication-Peer-Address": "203.0.113.1"}, "Replication-Peer-Address", "must differ"),
    ({"Replication-Peer-Address": "203.0.113.9"}, "Replication-Peer-Address", "replication network"),
    ({"Replication-Local-Address": "203.0.113.0", "Replication-Peer-Address": "203.0.113.1"},
     "Replication-Local-Address", "network or broadcast"),
    ({"Replication-Local-Address": "198.51.100.21", "Replication-Peer-Address": "198.51.100.22"},
     "Replication-Prefix", "overlaps the public network"),
    ({"Replication-Interface": "eth0"}, "Replication-Interface", "must differ from VIP-Interface"),
    ({"VIP-Interface": "a-very-long-interface-name"}, "VIP-Interface", "1-15 characters"),
    ({"Ping-Hosts": "198.51.100.100"}, "Ping-Hosts", "must not include VIP"),
    ({"Ping-Hosts": "198.51.100.1 198.51.100.1"}, "Ping-Hosts", "twice"),
    ({"Ping-Hosts": ""}, "Ping-Hosts", "required"),
    ({"Mount-Point": "/var"}, "Mount-Point", "system directory"),
    ({"Mount-Point": "mnt/uec"}, "Mount-Point", "absolute"),
    ({"Data-Directories": "/var/lib/eucalyptus /var/lib/eucalyptus"}, "Data-Directories", "twice"),
    ({"Data-Directories": "/var/lib/eucalyptus /var/lib/eucalyptus/keys"}, "Data-Directories", "inside"),
    ({"Data-Directories": "/var/lib/eucalyptus /srv/eucalyptus"}, "Data-Directories", "would both become"),
    ({"Data-Directories": "/mnt/uecdata/x"}, "Data-Directories", "Mount-Point"),
    ({"Filesystem": "btrfs"}, "Filesystem", "one of"),
    ({"Fencing": "manual"}, "Fencing", "one of: sbd, ipmilan, none"),
    ({"SBD-Device": ""}, "SBD-Device", "required"),
    ({"Fencing": "ipmilan"}, "IPMI-Local-Address", "required"),
    ({"Fencing": "ipmilan", "IPMI-Local-Address": "192.0.2.1", "IPMI-Peer-Address": "192.0.2.1",
      "IPMI-User": "u", "IPMI-Password": "p"}, "IPMI-Peer-Address", "own BMC"),
    ({"Fencing": "ipmilan", "IPMI-Local-Address": "192.0.2.1", "IPMI-Peer-Address": "192.0.2.2",
      "IPMI-User": "u", "IPMI-Password": 'p"q'}, "IPMI-Password", "quotes"),
    ({"Fencing": "ipmilan", "IPMI-Local-Address": "192.0.2.1", "IPMI-Peer-Address": "192.0.2.2",
      "IPMI-User": "u", "IPMI-Password": "p" * 21}, "IPMI-Password", "at most 20 bytes"),
    ({"Fencing": "ipmilan", "IPMI-Local-Address": "192.0.2.1", "IPMI-Peer-Address": "192.0.2.2",
      "IPMI-User": "u" * 17, "IPMI-Password": "p"}, "IPMI-User", "at most 16 bytes"),
    ({"Fencing": "ipmilan", "IPMI-Local-Address": "192.0.2.1", "IPMI-Peer-Address": "192.0.2.2",
      "IPMI-User": "u", "IPMI-Password": "p", "IPMI-Cipher": "18"}, "IPMI-Cipher", "auto or a whole number"),
    ({"Cluster-Secret": ""}, "Cluster-Secret", "never defaulted"),
    ({"Cluster-Secret": "short"}, "Cluster-Secret", "at least 16"),
    ({"Cluster-Secret": " has a leading space, long enough"}, "Cluster-Secret", "begin or end with a space"),
    ({"Cluster-Secret": "a tab\tin it, long enough"}, "Cluster-Secret", "printable text"),
    ({"Cluster-Stack": "heartbeat", "Heartbeat-Deadtime": "1"}, "Heartbeat-Deadtime",
     "greater than Heartbeat-Keepalive"),
    ({"Cluster-Stack": "heartbeat", "Heartbeat-Warntime": "20"}, "Heartbeat-Warntime", "between"),
    ({"Cluster-Stack": "heartbeat", "Heartbeat-Initdead": "20"}, "Heartbeat-Initdead", "twice"),
    ({"Cluster-Stack": "heartbeat", "Heartbeat-Mcast-Group": "198.51.100.7"}, "Heartbeat-Mcast-Group",
     "multicast"),
    ({"Cluster-Stack": "heartbeat", "Heartbeat-Mcast-Port": "7788"}, "Heartbeat-Mcast-Port", "DRBD-Port"),
    ({"Cluster-Name": "bad name"}, "Cluster-Name", "letters, digits"),
    ({"Monitor-Interval": "1"}, "Monitor-Interval", "from 5"),
    ({"Migration-Threshold": "0"}, "Migration-Threshold", "from 1"),
    ({"Image-Store-Proxy": "upstart"}, "Image-Store-Proxy", "one of"),
    ({"Replication-Link-Config": "systemd-networkd"}, "Replication-Link-Config", "one of"),
    # crm parameter injection (`noatime meta target-role=Stopped`) and fstab-breaking spaces
    ({"Mount-Options": "noatime meta target-role=Stopped"}, "Mount-Options", "separated by commas"),
    ({"Mount-Options": "noatime, nodiratime"}, "Mount-Options", "without spaces"),
    ({"Mount-Options": 'noatime"'}, "Mount-Options", "quotes"),
    ({"Mount-Options": "noatime,,nodiratime"}, "Mount-Options", "separated by commas"),
]


@pytest.mark.parametrize("overrides,field,words", CASES, ids=[f"{c[1]}:{c[2]}" for c in CASES])
def test_rule(overrides, field, words):
    raw = full_raw(GOOD)
    raw.update(overrides)
    config, problems = settings.validate(raw)
    assert config is None
    named = [p for p in problems if p.field == field]
    assert named, f"no problem names {field}: {problems}"
    assert any(words in p.rule for p in named), f"{field}: expected {words!r} in {named}"


@pytest.mark.parametrize("name", ["corosync-drbd84", "corosync-drbd9-ipmi", "heartbeat-legacy"])
def test_scenarios_are_valid(name):
    config, problems = settings.validate(full_raw(name))
    assert problems == []
    assert config.cluster_secret


def test_every_problem_reported_at_once():
    raw = full_raw(GOOD)
    raw.update({"Local-Address": "10.10.10.300", "DRBD-Port": "70000", "Peer-Node": "clc1",
                "Cluster-Stack": "nope", "Cluster-Secret": ""})
    _, problems = settings.validate(raw)
    assert {p.field for p in problems} >= {"Local-Address", "DRBD-Port", "Peer-Node", "Cluster-Stack",
                                           "Cluster-Secret"}


def test_secret_value_never_in_a_problem():
    raw = full_raw(GOOD)
    raw["Cluster-Secret"] = "sec\tret-value-that-is-long"
    _, problems = settings.validate(raw)
    assert problems and all("ret-value" not in str(p) for p in problems)


def test_fields_of_the_other_stack_are_not_checked():
    raw = full_raw(GOOD)           # corosync: heartbeat timings may be anything
    raw["Heartbeat-Deadtime"] = "1"
    assert settings.validate(raw)[1] == []


def test_require_valid_raises_with_all_problems():
    raw = full_raw(GOOD)
    raw.update({"VIP": "x", "DRBD-Port": "1"})
    with pytest.raises(ValidationError) as e:
        settings.require_valid(raw)
    assert len(e.value.problems) == 2
    assert "VIP:" in str(e.value) and "DRBD-Port:" in str(e.value)


def test_nodes_sorted_by_name_whichever_is_local():
    raw = full_raw(GOOD)
    a = settings.require_valid(raw)
    swapped = dict(raw, **{"Local-Node": raw["Peer-Node"], "Peer-Node": raw["Local-Node"],
                           "Local-Address": raw["Peer-Address"], "Peer-Address": raw["Local-Address"],
                           "Replication-Local-Address": raw["Replication-Peer-Address"],
                           "Replication-Peer-Address": raw["Replication-Local-Address"]})
    b = settings.require_valid(swapped)
    assert [n.name for n in a.nodes] == [n.name for n in b.nodes] == ["clc1", "clc2"]
    assert [str(n.address) for n in a.nodes] == [str(n.address) for n in b.nodes]
    assert [n.local for n in a.nodes] == [True, False]
    assert [n.local for n in b.nodes] == [False, True]


def test_a_passphrase_with_spaces_is_a_secret():
    raw = full_raw(GOOD)
    raw["Cluster-Secret"] = "correct horse battery staple"
    config, problems = settings.validate(raw)
    assert problems == [] and config.cluster_secret == "correct horse battery staple"


@pytest.mark.parametrize("options", ["noatime", "noatime,nodiratime", "data=ordered,barrier=1,errors=remount-ro",
                                     "commit=30,user_xattr"])
def test_mount_options_as_fstab_writes_them(options):
    config, problems = settings.validate(dict(full_raw(GOOD), **{"Mount-Options": options}))
    assert problems == [] and config.mount_options == options


FENCE_SBD_DEFAULT_POWER_TIMEOUT = 30     # fence-agents 4.12's power_timeout when none is given


@pytest.mark.parametrize("watchdog,msgwait,delay", [(5, 10, 15), (15, 30, 15), (5, 10, 60), (60, 240, 600),
                                                    (2, 4, 0)])
def test_sbd_fencing_timeouts_cover_msgwait_and_the_delay(watchdog, msgwait, delay):
    # fence_sbd kills `sbd message NODE reset` (which sleeps msgwait) at power_timeout, and Pacemaker
    # 2.1.5 counts priority-fencing-delay inside the reboot timeout: both must leave room for the work
    config = settings.require_valid(dict(full_raw(GOOD), **{
        "SBD-Watchdog-Timeout": str(watchdog), "SBD-Msgwait-Timeout": str(msgwait), "Fencing-Delay": str(delay)}))
    assert config.fence_agent_timeout >= msgwait + 10
    assert config.fencing_timeout >= delay + config.fence_agent_timeout + 10
    assert config.fence_peer_timeout > config.fencing_timeout
    if msgwait >= 29:
        assert config.fence_agent_timeout > FENCE_SBD_DEFAULT_POWER_TIMEOUT


def test_ipmi_fencing_timeout_covers_the_delay():
    raw = dict(full_raw("corosync-drbd9-ipmi"), **{"Fencing-Delay": "60"})
    config = settings.require_valid(raw)
    assert config.fence_agent_timeout is None
    assert config.fencing_timeout >= 60 + 60


def test_no_fencing_has_no_fencing_timeouts():
    config = settings.require_valid(full_raw("heartbeat-legacy"))
    assert config.fencing == "none" and config.fencing_timeout is None and config.fence_peer_timeout == 90


def test_an_arbiter_sets_the_quorum_devices_timeouts_and_no_fencing_delay():
    config = settings.require_valid(full_raw("corosync-arbiter"))
    assert config.arbiter_host == "198.51.100.30" and config.priority_fencing_delay == 0
    assert not settings.require_valid(dict(full_raw("corosync-arbiter"), **{"Fencing-Probe-Window": "3"})).fencing_probe
    assert config.qdevice_sync_timeout == 5000 and config.qdevice_timeout == 3000
    assert settings.require_valid(dict(full_raw("corosync-arbiter"), **{"SBD-Watchdog-Timeout": "3",
                                                                          "SBD-Msgwait-Timeout": "6"})
                                  ).qdevice_sync_timeout == 3000       # sbd distrusts a longer one


@pytest.mark.parametrize("value, rule", [("198.51.100.11", "not Local-Address"), ("clc2", "not Peer-Node"),
                                         ("bad_name!", "IPv4 address or a host name")])
def test_the_arbiter_is_a_third_machine(value, rule):
    _, problems = settings.validate(dict(full_raw("corosync-arbiter"), Arbiter=value))
    assert any(p.field == "Arbiter" and rule in p.rule for p in problems), problems

"""Host facts for "auto" settings, read through a temporary root."""

import pytest

from uec_clc_ha.host import detect


def test_drbd_9_from_proc(root):
    root.write_atomic("/proc/drbd", "version: 9.2.8 (api:2/proto:86-122)\n")
    assert detect.drbd_generation(root)[0] == "9"


def test_drbd_84_from_proc(root):
    root.write_atomic("/proc/drbd", "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: x\n")
    assert detect.drbd_generation(root)[0] == "8.4"


def test_drbd_default_is_84_and_says_why(root):
    version, why = detect.drbd_generation(root)
    assert version == "8.4" and "default" in why


def test_netplan_wins_when_it_has_configuration(root):
    root.write_atomic("/etc/network/interfaces", "auto lo\n")
    assert detect.network_config_style(root)[0] == "ifupdown"
    root.write_atomic("/etc/netplan/01-netcfg.yaml", "network: {version: 2}\n")
    assert detect.network_config_style(root)[0] == "netplan"


@pytest.mark.parametrize("files,expected", [
    (["/etc/init.d/image-store-proxy"], "lsb"),
    (["/lib/systemd/system/image-store-proxy.service"], "systemd"),
    (["/etc/init.d/image-store-proxy", "/lib/systemd/system/image-store-proxy.service"], "lsb"),
    ([], "none"),
])
def test_image_store_proxy_auto(root, files, expected):
    for path in files:
        root.write_atomic(path, "#!/bin/sh\n", mode=0o755)
    assert detect.image_store_proxy(root)[0] == expected


def test_private_mounts_need_root_to_be_a_mount_point(tmp_path):
    from uec_clc_ha.config import verify

    mounted = tmp_path / "mounted"
    mounted.write_text("22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw\n"
                       "23 22 0:5 / /proc rw - proc proc rw\n")
    chrooted = tmp_path / "chrooted"
    chrooted.write_text("23 22 0:5 / /proc rw - proc proc rw\n")
    assert verify.private_mounts_possible(str(mounted)) is True
    assert verify.private_mounts_possible(str(chrooted)) is False
    assert verify.private_mounts_possible(str(tmp_path / "no-proc")) is False


ROUTES = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


@pytest.mark.parametrize("lines,expected", [
    (["eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0"], "default"),
    (["eth0\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0"], "public-network"),
    ([], "public-network"),
])
def test_source_address_route_auto(root, lines, expected):
    root.write_atomic("/proc/net/route", ROUTES + "".join(line + "\n" for line in lines))
    assert detect.source_address_route(root)[0] == expected

"""Key derivation: deterministic per (secret, cluster), distinct per purpose, sized for each tool."""

from uec_clc_ha.config import keyring


def test_same_secret_same_keys_on_both_nodes():
    a = keyring.derive("a-cluster-secret-long-enough", "uec-clc")
    keyring.derive.cache_clear()
    b = keyring.derive("a-cluster-secret-long-enough", "uec-clc")
    assert a == b


def test_cluster_name_is_the_salt():
    assert keyring.derive("a-cluster-secret-long-enough", "one") != keyring.derive("a-cluster-secret-long-enough", "two")


def test_keys_are_sized_and_distinct():
    k = keyring.derive("a-cluster-secret-long-enough", "uec-clc")
    assert len(k.corosync_authkey) == 256
    assert len(k.heartbeat_sha1_key) == 40 and int(k.heartbeat_sha1_key, 16) >= 0
    assert 0 < len(k.drbd_shared_secret) <= 64
    assert k.drbd_shared_secret[:40] != k.heartbeat_sha1_key
    assert k.corosync_authkey.hex()[:40] not in (k.drbd_shared_secret, k.heartbeat_sha1_key)
    assert "a-cluster-secret" not in repr(k) and k.drbd_shared_secret not in repr(k)


def test_hkdf_matches_rfc5869_test_case_1():
    prk = bytes.fromhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = keyring.hkdf_expand(prk, info, 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_generated_secrets_are_long_and_fresh():
    a, b = keyring.generate_secret(), keyring.generate_secret()
    assert a != b and len(a) >= 40

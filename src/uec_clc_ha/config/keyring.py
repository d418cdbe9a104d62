"""Every key of the cluster, derived from the one shared cluster secret.

Called by uec_clc_ha.config.render (pure), config.join_token, the arbiter's enrolment and the CLI's
`set --generate-secret`.
Both nodes hold the same Cluster-Secret, so both derive identical keys and no
key file is ever copied between them.  Derivation: PBKDF2-HMAC-SHA256 with
the cluster name as salt stretches the secret into a master key; HKDF-Expand
(RFC 5869, HMAC-SHA256) with a distinct label per purpose gives each key, so
knowing one key reveals neither the secret nor another key.
"""

import functools
import hashlib
import hmac
import secrets as _random
from dataclasses import dataclass

PBKDF2_ITERATIONS = 200_000
SALT_PREFIX = b"uec-clc-ha/v1/"
GENERATED_SECRET_BYTES = 32


@dataclass(frozen=True)
class Keys:
    """The derived keys; repr never shows them."""

    drbd_shared_secret: str      # 48 hex digits (DRBD accepts at most 64 characters)
    heartbeat_sha1_key: str      # 40 hex digits for authkeys "1 sha1 <key>"
    corosync_authkey: bytes      # 256 bytes, as corosync-keygen makes
    arbiter_enrol_key: str       # 64 hex digits: authenticates enrolment with the arbiter (cluster.arbiter_protocol)
    join_token_key: str          # 64 hex digits: authenticates the second node's join token (config.join_token)

    def __repr__(self):
        return "Keys(<derived, not shown>)"

    def all_text(self):
        """Every key written anywhere, as text, for scrubbing them out of diagnostics (doctor's settings digest
        hashes these too, so the list stays as it is: join_token_key is never written, only used)."""
        return (self.drbd_shared_secret, self.heartbeat_sha1_key, self.corosync_authkey.hex(), self.arbiter_enrol_key)


def hkdf_expand(prk, info, length):
    """HKDF-Expand of RFC 5869 with HMAC-SHA256."""
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


@functools.lru_cache(maxsize=8)
def derive(cluster_secret, cluster_name):
    """The Keys of a cluster; deterministic for (secret, cluster name)."""
    master = hashlib.pbkdf2_hmac("sha256", cluster_secret.encode("utf-8"),
                                 SALT_PREFIX + cluster_name.encode("utf-8"), PBKDF2_ITERATIONS)
    return Keys(
        drbd_shared_secret=hkdf_expand(master, b"drbd shared-secret", 24).hex(),
        heartbeat_sha1_key=hkdf_expand(master, b"heartbeat authkeys sha1", 20).hex(),
        corosync_authkey=hkdf_expand(master, b"corosync authkey", 256),
        arbiter_enrol_key=hkdf_expand(master, b"arbiter enrolment", 32).hex(),
        join_token_key=hkdf_expand(master, b"join token", 32).hex(),
    )


def generate_secret():
    """A new random cluster secret (256 bits, URL-safe text without padding)."""
    return _random.token_urlsafe(GENERATED_SECRET_BYTES)

"""The join token: the first node's shared settings in one line, authenticated by the cluster secret.

Called by `uec-clc-ha-ctl join-token` (make: on the first node), `uec-clc-ha-ctl
join` and the postinst's prepare for uec-clc-ha/join-token (open: on the
second node).  Pure: settings and keys in, text out.

    UECJ1.<payload>.<mac>

payload  base64url (no padding) of gzip of "Key: value" lines: the token's own
         fields (Token-Format, Made-By, Secret-Check) and the first node's
         settings that differ from their defaults, Cluster-Name always.  Never
         a secret: Cluster-Secret and IPMI-Password are not in it (the second
         node is given them; a token is a line that ends in shell histories).
         gzip and base64 are Essential tools, so debian/config (POSIX sh) can
         read the first node's values to offer them as defaults; it trusts
         none of them: prepare opens the token again here, with the secret.
mac      base64url of HMAC-SHA256, under a key derived from the cluster secret
         (keyring's join_token_key), over "UECJ1." + payload.
Secret-Check  the first 16 hex digits of an HMAC under the same key of a fixed
         text: a wrong secret is told apart from an altered token.

Opening it for this node swaps what is each node's own (names, addresses,
BMC addresses) and takes the first node's facts of the host (interfaces, the
DRBD disk) unless this node's are given.
"""

import base64
import binascii
import gzip
import hashlib
import hmac
import re
import zlib
from dataclasses import dataclass

from uec_clc_ha.config import keyring, settings
from uec_clc_ha.errors import Problem, Refused, ValidationError

PREFIX = "UECJ1"
FORMAT = "1"
TOKEN_RE = re.compile(r"^UECJ1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$")
OWN = ("Token-Format", "Made-By", "Secret-Check")
CHECK_TEXT = b"uec-clc-ha join token: secret check"
# What each node has of its own, swapped when the second node opens the token.
SWAPPED = (("Local-Node", "Peer-Node"), ("Local-Address", "Peer-Address"),
           ("Replication-Local-Address", "Replication-Peer-Address"), ("IPMI-Local-Address", "IPMI-Peer-Address"))
# Facts of each host: the first node's unless the second node's are given.
HOST_FACTS = ("VIP-Interface", "Replication-Interface", "DRBD-Disk", "Heartbeat-Mcast-Interface",
              "Replication-Link-Config")
FIELD = "join token"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key, payload):
    return _b64(hmac.new(bytes.fromhex(key), f"{PREFIX}.{payload}".encode("ascii"), hashlib.sha256).digest())


def _secret_check(key):
    return hmac.new(bytes.fromhex(key), CHECK_TEXT, hashlib.sha256).hexdigest()[:16]


def make(raw, version):
    """The token of valid settings ``raw`` (the first node's, as the settings file holds them)."""
    config = settings.require_valid(raw)
    keys = keyring.derive(config.cluster_secret, config.cluster_name)
    lines = [f"Token-Format: {FORMAT}", f"Made-By: uec-clc-ha {version}",
             f"Secret-Check: {_secret_check(keys.join_token_key)}"]
    for fd in settings.FIELDS:
        value = raw.get(fd.key, fd.default)
        if fd.secret or (value == fd.default and fd.key != "Cluster-Name"):
            continue
        lines.append(f"{fd.key}: {value}")
    text = "\n".join(lines) + "\n"
    payload = _b64(gzip.compress(text.encode("utf-8"), mtime=0))
    return f"{PREFIX}.{payload}.{_mac(keys.join_token_key, payload)}"


@dataclass(frozen=True)
class Token:
    """A token read but not yet authenticated: ``values`` are the first node's settings, ``own`` its fields."""

    payload: str
    mac: str
    own: dict
    values: dict

    @property
    def first_node(self):
        return self.values.get("Local-Node", "")

    @property
    def joining_node(self):
        return self.values.get("Peer-Node", "")


def read(text):
    """The Token in ``text``; ValidationError (the token is cut, garbled or of another version)."""
    token = "".join(text.split())               # a line broken by a terminal or a mail client
    m = TOKEN_RE.match(token)
    if not m:
        rule = ("is not a whole join token: it starts with UECJ1. and is one line of letters, digits, '-', '_' "
                "and two dots; copy the whole line `uec-clc-ha-ctl join-token` printed on the first node")
        raise ValidationError([Problem(FIELD, rule)])
    payload, mac = m.groups()
    try:
        text = gzip.decompress(_unb64(payload)).decode("utf-8")
    except (binascii.Error, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError):
        raise ValidationError([Problem(FIELD, "is cut or damaged (its content does not decode): copy the whole "
                                              "line again from `uec-clc-ha-ctl join-token` on the first node")]) \
            from None
    own, values, unknown = {}, {}, []
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if not sep:
            raise ValidationError([Problem(FIELD, f"holds a line that is not 'Key: value' ({line[:40]!r})")])
        if key in OWN:
            own[key] = value
        elif settings.field(key) is None or settings.field(key).secret:
            unknown.append(key)
        else:
            values[settings.field(key).key] = value
    if own.get("Token-Format") != FORMAT or unknown:
        made = own.get("Made-By", "another version of uec-clc-ha")
        what = f"settings this version does not know ({', '.join(unknown)})" if unknown else \
            f"token format {own.get('Token-Format', '(none)')}"
        raise ValidationError([Problem(FIELD, f"was made by {made} with {what}: install the same version of "
                                              "uec-clc-ha on both nodes")])
    if "Cluster-Name" not in values or "Local-Node" not in values or "Peer-Node" not in values:
        raise ValidationError([Problem(FIELD, "lacks Cluster-Name, Local-Node or Peer-Node: it was not made by "
                                              "`uec-clc-ha-ctl join-token`")])
    return Token(payload, mac, own, values)


def authenticate(token, secret):
    """Refused unless ``secret`` is the pair's and the token is as the first node made it."""
    try:
        keys = keyring.derive(secret, token.values["Cluster-Name"])
    except UnicodeEncodeError:
        raise ValidationError([Problem("Cluster-Secret", "must be printable text")]) from None
    if not hmac.compare_digest(token.own.get("Secret-Check", ""), _secret_check(keys.join_token_key)):
        raise Refused(f"the cluster secret given is not the one of the pair '{token.values['Cluster-Name']}' "
                      f"({token.first_node} and {token.joining_node}) that made this token: give this node "
                      f"the Cluster-Secret of {token.first_node}. Nothing was written.")
    if not hmac.compare_digest(token.mac, _mac(keys.join_token_key, token.payload)):
        raise Refused(f"the join token was altered or damaged (its authentication does not match the pair's "
                      f"secret): copy it again from `uec-clc-ha-ctl join-token` on {token.first_node}. "
                      "Nothing was written.")


def for_this_node(token, facts=None):
    """(changes, defaults) of the joining node's settings file: the first node's settings with each node's own
    swapped, and this host's facts from ``facts`` (key -> value) where given, the first node's otherwise;
    ``defaults`` the keys that follow the package's default (as on the first node).  No secret."""
    facts = {k: v for k, v in (facts or {}).items() if v}
    values = dict(token.values)
    for a, b in SWAPPED:
        values.pop(a, None)
        values.pop(b, None)
        if b in token.values:
            values[a] = token.values[b]
        if a in token.values:
            values[b] = token.values[a]
    for key in HOST_FACTS:
        if key in facts:
            values[key] = facts[key]
    defaults = [fd.key for fd in settings.FIELDS if not fd.secret and fd.key not in values]
    return values, defaults


def fits(token, host_name, raw):
    """Refused unless the token is for this host and this node has no pair yet, or the token's.

    ``host_name``: this host's name (None when it cannot be told); ``raw``: this
    node's settings as they are (a node without Peer-Node has no pair yet).
    """
    first, joining, pair = token.first_node, token.joining_node, token.values["Cluster-Name"]
    if host_name and host_name.lower() != joining.lower():
        raise Refused(f"this token joins {joining} to {first} (pair '{pair}'), and this host is {host_name}: "
                      f"configure {joining} with it, or make a token for this host on {first} (`uec-clc-ha-ctl "
                      f"set Peer-Node={host_name}` and the peer addresses there first). Nothing was written.")
    if raw.get("Peer-Node") and not (raw.get("Cluster-Name") == pair
                                     and raw.get("Local-Node", "").lower() == joining.lower()
                                     and raw["Peer-Node"].lower() == first.lower()):
        raise Refused(f"this node is configured already for the pair '{raw['Cluster-Name']}' of "
                      f"{raw['Local-Node']} and {raw['Peer-Node']}; the token is of '{pair}' ({first} and "
                      f"{joining}). A join token configures a node that has no pair yet (or updates one of the "
                      "same pair): remove that pair's settings first (`apt-get purge uec-clc-ha` on a node that "
                      "runs no cluster). Nothing was written.")

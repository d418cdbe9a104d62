"""Value checkers for single settings fields: pure functions, no I/O.

Used by uec_clc_ha.config.settings, which attaches one checker to each field.  A
checker takes the raw string and returns the parsed value or raises
FieldRule with the rule the value breaks; the settings module turns that into
a Problem naming the field.
"""

import ipaddress
import re


class FieldRule(Exception):
    """The rule a single value breaks (message only; the caller adds the field)."""


HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
RATE_RE = re.compile(r"^([1-9][0-9]*)([KMG])$")
DEVPATH_RE = re.compile(r"^/dev/[A-Za-z0-9_./:+-]+$")
MOUNT_OPTION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*(=[A-Za-z0-9_.:/@+=-]*)?$")


def text(raw):
    if any(c in raw for c in "\n\r\t") or raw != raw.strip():
        raise FieldRule("must be a single word or line without leading/trailing spaces")
    return raw


def mount_options(raw):
    """mount(8) options as one comma-separated word: safe inside a quoted crm parameter and an fstab field."""
    items = raw.split(",")
    if not raw or not all(MOUNT_OPTION_RE.match(i) for i in items):
        raise FieldRule("must be mount options separated by commas, without spaces or quotes "
                        "(each NAME or NAME=VALUE of letters, digits and _ . + - : / @ =), e.g. noatime,nodiratime")
    return raw


def crm_word(raw):
    """A value that is safe inside a double-quoted crm shell parameter."""
    if not raw or not raw.isprintable() or any(c.isspace() or c in "\"'\\$`" for c in raw):
        raise FieldRule("must be printable characters without spaces, quotes, backslashes, '$' or '`'")
    return raw


def crm_word_at_most(limit):
    """A crm_word of at most ``limit`` bytes (IPMI's 16-byte user names and 20-byte passwords)."""
    def check(raw):
        crm_word(raw)
        if len(raw.encode()) > limit:
            raise FieldRule(f"must be at most {limit} bytes (IPMI's limit; a longer one can never log in)")
        return raw
    return check


def integer_or(word, low, high):
    """``word`` (kept as a string) or a whole number from low to high."""
    number = integer(low, high)

    def check(raw):
        if raw == word:
            return raw
        try:
            return number(raw)
        except FieldRule:
            raise FieldRule(f"must be {word} or a whole number from {low} to {high}") from None
    check.options = (word,)
    return check


def hostname(raw):
    if not HOSTNAME_RE.match(raw):
        raise FieldRule("must be a host name as `uname -n` prints it "
                        "(letters, digits and hyphens, dot-separated labels of at most 63 characters)")
    return raw


def ipv4(raw):
    try:
        addr = ipaddress.IPv4Address(raw)
    except ValueError:
        raise FieldRule("must be an IPv4 address in dotted-quad form (four numbers 0-255), e.g. 192.0.2.10") from None
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.is_reserved or addr.is_link_local:
        raise FieldRule("must be a unicast host address (not 0.0.0.0, loopback, link-local, multicast or reserved)")
    return addr


def host(raw):
    """An IPv4 address or a host name (for a third machine this pair reaches by either)."""
    if re.fullmatch(r"[0-9.]+", raw):
        return ipv4(raw)
    try:
        return hostname(raw)
    except FieldRule:
        raise FieldRule("must be an IPv4 address or a host name (letters, digits and hyphens, dot-separated "
                        "labels of at most 63 characters)") from None


def multicast_v4(raw):
    try:
        addr = ipaddress.IPv4Address(raw)
    except ValueError:
        raise FieldRule("must be an IPv4 multicast address (224.0.0.0-239.255.255.255)") from None
    if not addr.is_multicast:
        raise FieldRule("must be an IPv4 multicast address (224.0.0.0-239.255.255.255)")
    return addr


def ipv4_list(raw):
    items = raw.split()
    if not items:
        raise FieldRule("must list at least one IPv4 address, separated by spaces")
    seen = []
    for item in items:
        addr = ipv4(item)
        if addr in seen:
            raise FieldRule(f"lists {item} twice")
        seen.append(addr)
    return tuple(seen)


def interface(raw):
    if not IFNAME_RE.match(raw) or raw in (".", ".."):
        raise FieldRule("must be a network interface name of 1-15 characters (letters, digits, . _ - : @)")
    return raw


def name(raw):
    if not NAME_RE.match(raw):
        raise FieldRule("must be 1-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")
    return raw


def integer(low, high):
    def check(raw):
        if not re.fullmatch(r"[0-9]+", raw):
            raise FieldRule(f"must be a whole number from {low} to {high}")
        value = int(raw)
        if not low <= value <= high:
            raise FieldRule(f"must be from {low} to {high}")
        return value
    check.__doc__ = f"whole number {low}-{high}"
    return check


def choice(*options):
    def check(raw):
        if raw not in options:
            raise FieldRule(f"must be one of: {', '.join(options)}")
        return raw
    check.options = options          # for shell completion
    return check


def boolean(raw):
    if raw not in ("yes", "no"):
        raise FieldRule("must be yes or no")
    return raw == "yes"


def abs_path(raw):
    if not raw.startswith("/") or "//" in raw or re.search(r"(^|/)\.\.?(/|$)", raw) or any(c.isspace() for c in raw):
        raise FieldRule("must be an absolute, normalised path without spaces")
    if len(raw) > 1 and raw.endswith("/"):
        raise FieldRule("must not end with '/'")
    return raw


def abs_paths(raw):
    items = raw.split()
    if not items:
        raise FieldRule("must list at least one absolute path, separated by spaces")
    return tuple(abs_path(i) for i in items)


def device(raw):
    if not DEVPATH_RE.match(raw) or ".." in raw:
        raise FieldRule("must be a block device path under /dev, e.g. /dev/vdb1 or /dev/disk/by-id/...")
    return raw


def drbd_device(raw):
    m = re.fullmatch(r"/dev/drbd([0-9]{1,7})", raw)
    if not m or int(m.group(1)) > 1048575:
        raise FieldRule("must be /dev/drbdN with a minor number N from 0 to 1048575")
    return raw


def rate(raw):
    m = RATE_RE.match(raw)
    if not m:
        raise FieldRule("must be a number followed by K, M or G (bytes per second), e.g. 40M")
    kib = int(m.group(1)) * {"K": 1, "M": 1024, "G": 1024 * 1024}[m.group(2)]
    if not 1 <= kib <= 4 * 1024 * 1024:
        raise FieldRule("must be at most 4G (DRBD's largest resync-rate)")
    return raw


def secret(raw):
    """A passphrase: any printable text, spaces inside included (`correct horse battery staple`)."""
    if not raw.isprintable():
        raise FieldRule("must be printable text (spaces are fine; no tabs, newlines or control characters)")
    if raw != raw.strip():
        raise FieldRule("must not begin or end with a space (the settings file could not keep it)")
    if len(raw) < 16:
        raise FieldRule("must be at least 16 characters (leave it empty in debconf, or run "
                        "`uec-clc-ha-ctl set --generate-secret`, to have one generated)")
    if len(raw) > 512:
        raise FieldRule("must be at most 512 characters")
    return raw


def optional(check):
    def wrapped(raw):
        return None if raw == "" else check(raw)
    wrapped.optional = True
    return wrapped

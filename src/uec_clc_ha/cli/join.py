"""Write this node's settings from the first node's join token: the second node from one pasted line.

`uec-clc-ha-ctl join TOKEN [--secret-file F]`: the token (from `uec-clc-ha-ctl
join-token` on the first node) is opened with the cluster secret, read from
the terminal or F ("-": standard input), and this node's settings are
written with the node names and addresses swapped.  This host's own facts
(VIP-Interface, Replication-Interface, DRBD-Disk) are asked on a terminal
(offering what the host shows: the interface that holds the address, or the
first node's value); without one they are the first node's unless an option
gives them.  Refused with nothing written (exit 6) for a wrong secret, an
altered token, a token for another host, or a node already configured for
another pair; a cut or garbled token, or settings that break a rule, exit 3.
Nothing else happens: the next steps are printed.
"""

import getpass
import os
import sys

from uec_clc_ha.config import join_token, pipeline, settings, settings_file
from uec_clc_ha.errors import Problem, Refused, UsageError, ValidationError
from uec_clc_ha.host import managed_files

NAME = "join"
HELP = "configure this node as the second node of a pair, from the first node's join token"
FACT_OPTIONS = (("VIP-Interface", "--vip-interface", "IFACE"), ("Replication-Interface", "--replication-interface",
                                                                 "IFACE"),
                ("DRBD-Disk", "--drbd-disk", "DEVICE"))


def arguments(p):
    p.add_argument("token", metavar="TOKEN", help="the line `uec-clc-ha-ctl join-token` printed on the first node")
    p.add_argument("--secret-file", metavar="FILE",
                   help="read the cluster secret from the first line of FILE ('-': standard input) instead of "
                        "asking on the terminal")
    p.add_argument("--ipmi-password-file", metavar="FILE",
                   help="with Fencing ipmilan: read IPMI-Password from FILE ('-': standard input) instead of "
                        "asking (the token never carries it)")
    for key, option, meta in FACT_OPTIONS:
        p.add_argument(option, metavar=meta, help=f"this node's {key} (default: asked on a terminal; without "
                                                  "one, the first node's)")


def _secret_from(path, what, stdin, terminal):
    """The first line of ``path`` ('-': stdin), or asked on the terminal; UsageError without either."""
    if path == "-":
        return stdin.readline().rstrip("\r\n")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.readline().rstrip("\r\n")
        except OSError as e:
            raise UsageError(f"{path}: {e.strerror}") from None
    if terminal:
        return getpass.getpass(f"{what}: ")
    raise UsageError(f"no terminal to ask for the {what}: give it with --{what_option(what)} FILE "
                     "(or '-' for standard input)")


def what_option(what):
    return "secret-file" if what == "cluster secret" else "ipmi-password-file"


def _host_name(system):
    if system.is_live:
        return os.uname().nodename
    data = system.read_or_none("/etc/hostname")
    return data.decode("utf-8", "replace").strip() if data else None


def _interfaces_holding(system):
    """{address: interface} of this (live) host's IPv4 addresses, {} elsewhere."""
    if not system.is_live or not system.which("ip"):
        return {}
    done = system.run(["ip", "-o", "-4", "addr", "show"], rcs=None, timeout=15)
    found = {}
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "inet":
            found[fields[3].split("/")[0]] = fields[1].split("@")[0]
    return found


def _facts(args, system, token, values, terminal, stdin, out):
    """This host's facts: given by option, asked on a terminal, or the first node's."""
    held = _interfaces_holding(system)
    seen = {"VIP-Interface": held.get(values.get("Local-Address", "")),
            "Replication-Interface": held.get(values.get("Replication-Local-Address", ""))}
    facts = {}
    for key, option, _ in FACT_OPTIONS:
        given = getattr(args, option[2:].replace("-", "_"))
        first = token.values.get(key, settings.field(key).default)
        if given:
            facts[key] = given
        elif terminal:
            offer = seen.get(key) or first
            where = f"as {seen.get(key) and 'this host shows' or 'on ' + token.first_node}"
            out.write(f"{key} of this node [{offer}] ({where}): ")
            out.flush()
            facts[key] = stdin.readline().strip() or offer
        else:
            facts[key] = first
            if seen.get(key) and seen[key] != first:
                out.write(f"note: {key} is {first} as on {token.first_node}, but this host holds "
                          f"{values['Local-Address' if key == 'VIP-Interface' else 'Replication-Local-Address']} "
                          f"on {seen[key]}: `uec-clc-ha-ctl set {key}={seen[key]}` if that is right\n")
    return facts


def run(args, system, out, stdin=None):
    stdin = stdin or sys.stdin
    terminal = hasattr(stdin, "isatty") and stdin.isatty()
    token = join_token.read(args.token)
    secret = _secret_from(args.secret_file, "cluster secret", stdin, terminal)
    join_token.authenticate(token, secret)
    where, path = pipeline.settings_location(system, args.settings)
    text = settings_file.read_text(where, path)
    before = settings_file.parse(text, path)
    join_token.fits(token, _host_name(system), before)
    if before.get("Cluster-Secret") and before["Cluster-Secret"] != secret:
        raise Refused("this node holds another cluster secret already: `join` does not replace it (`uec-clc-ha-ctl "
                      "set --secret-stdin --force` does, knowingly). Nothing was written.")

    swapped, _ = join_token.for_this_node(token)
    values, defaults = join_token.for_this_node(token, _facts(args, system, token, swapped, terminal, stdin, out))
    values["Cluster-Secret"] = secret
    if values.get("Fencing") == "ipmilan" and not before.get("IPMI-Password"):
        values["IPMI-Password"] = _secret_from(args.ipmi_password_file, "IPMI password", stdin, terminal)
    changed = {k: v for k, v in values.items() if before.get(k) != v or k not in settings_file.explicit_keys(text, path)}
    _, problems = settings.validate(dict(before, **{k: settings.field(k).default for k in defaults}, **values))
    if problems:
        raise ValidationError(problems)
    new_text = settings_file.updated_text(text, changed, path, defaults=[k for k in defaults
                                                                          if k in settings_file.explicit_keys(text, path)])
    after = settings_file.parse(new_text, path)
    if any(after[k] != v for k, v in values.items()):
        raise ValidationError([Problem(path, "did not read back as written; nothing was written")])
    if after == before and text == new_text:
        out.write(f"join: nothing to do: this node's settings are {token.first_node}'s pair's already\n")
        return 0
    if args.settings:
        settings_file.save(where, new_text, path)
    else:
        managed_files.Installer(where, lambda message: print(message, file=out), "admin").install(
            settings_file.as_rendered(new_text))
    out.write(f"join: {after['Local-Node']}'s settings written for the pair '{after['Cluster-Name']}' with "
              f"{after['Peer-Node']} ({path}; Cluster-Secret set, hidden)\n")
    for key in ("VIP-Interface", "Replication-Interface", "DRBD-Disk"):
        out.write(f"  {key}: {after[key]}\n")
    step = "migrate-data" if after.get("Initial-Primary") == after["Local-Node"] else "prepare-secondary"
    out.write("Next, with Eucalyptus stopped on this node: `uec-clc-ha-ctl apply`, then `uec-clc-ha-ctl drbd-init "
              f"--yes` (destroys what {after['DRBD-Disk']} holds), `uec-clc-ha-ctl {step} --yes` and "
              "`uec-clc-ha-ctl cluster-init --yes`; or `dpkg-reconfigure uec-clc-ha`, which asks for those steps.\n")
    return 0


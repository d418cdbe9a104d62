"""Whether corosync runs with a corosync.conf already: the file's keys against corosync's cmap.

Called by uec_clc_ha.cluster.live_apply.plan (`uec-clc-ha-ctl apply`, and
doctor's `applied` check) when corosync runs, and by doctor's `corosync`
check; running_cluster_name by cluster_init's stack stage and the
postinst's running-cluster step (maint.configure): is the corosync that runs
here this pair's, or another cluster's (Debian's own "debian")?

`corosync-cfgtool -R` makes every node re-read its own corosync.conf.  When
the second node's apply reloads the pair (the arbiter added or removed, a
new token), the first node's file, written by its own apply before, is
taken too, but nothing on the first node recorded it.  Its next apply
would reload once more (harmless) and doctor would say the node differs
from its files.  Instead, the file's keys are compared with what corosync
holds: cmap has every key of corosync.conf under the section's name
(totem.token, quorum.device.net.host, nodelist.node.0.ring0_addr, the
interfaces under totem.interface.LINKNUMBER; corosync 3.1 on the lab), and
a reload removes the keys the new file no longer has (quorum.two_node went
when the arbiter came).  When every key of the file has the same value in
cmap, and cmap has no other key under the file's sections, corosync runs
with this file: apply records it without a reload.  Anything else (a key
missing, another value, a key corosync has and the file not) counts as not
taken, and apply reloads as before, even where its record says the file was
taken (a value changed by hand with corosync-cmapctl): the file is what
counts.
"""

import re

from uec_clc_ha.cluster.pair_status import cmap as cmap_values

# Keys corosync itself puts under a file's sections (not read from the file): this node's place in the
# nodelist, and each link's bind address, which knet takes from this node's ringN_addr when the file's
# interface section gives none (the package's never does).
RUNTIME_KEY_RE = re.compile(r"^(?:nodelist\.local_node_pos|totem\.interface\.\d+\.bindnetaddr)$")


def running_cluster_name(system):
    """totem.cluster_name of the corosync running here; None when none answers."""
    done = system.run(["corosync-cmapctl", "-g", "totem.cluster_name"], rcs=None, timeout=15)
    return cmap_values(done.stdout).get("totem.cluster_name") if done.rc == 0 else None


def flat(text):
    """{key: value} of a corosync.conf text, the way cmap names them; ValueError when it is not well formed."""
    root = ("", {}, [])                     # a section: (name, {key: value}, [child sections])
    open_sections = [root]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            if not name or " " in name:
                raise ValueError(f"line {number}: a section without a name: {raw!r}")
            section = (name, {}, [])
            open_sections[-1][2].append(section)
            open_sections.append(section)
        elif line == "}":
            if len(open_sections) == 1:
                raise ValueError(f"line {number}: a closing brace without a section")
            open_sections.pop()
        else:
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise ValueError(f"line {number}: not 'key: value': {raw!r}")
            open_sections[-1][1][key.strip()] = value.strip()
    if len(open_sections) != 1:
        raise ValueError("a section is not closed")
    out = {}

    def walk(section, names):
        nodes = 0
        for child in section[2]:
            name, values, _ = child
            if name == "node" and names == ["nodelist"]:
                here = names + [name, str(nodes)]
                nodes += 1
            elif name == "interface" and names == ["totem"]:
                values = dict(values)           # the link's number is its place in cmap, not a key of it
                here = names + [name, values.pop("linknumber", values.pop("ringnumber", "0"))]
            else:
                here = names + [name]
            out.update({".".join(here + [key]): value for key, value in values.items()})
            walk(child, here)
    walk(root, [])
    return out


def differences(file_keys, running):
    """What differs between a file's keys and cmap's (pure): sorted "key: file X, corosync Y" lines."""
    sections = {k.split(".", 1)[0] + "." for k in file_keys}
    held = {k: v for k, v in running.items()
            if any(k.startswith(s) for s in sections) and (k in file_keys or not RUNTIME_KEY_RE.match(k))}
    lines = []
    for key in sorted(set(file_keys) | set(held)):
        if file_keys.get(key) != held.get(key):
            lines.append(f"{key}: file {file_keys.get(key, '(none)')}, corosync {held.get(key, '(none)')}")
    return lines


def drift(system, content):
    """What differs between this corosync.conf (bytes or str) and the running corosync: difference lines
    ([] when corosync holds exactly its keys), or None when the file cannot be read as one or corosync does
    not answer."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        file_keys = flat(text)
    except ValueError:
        return None
    if not file_keys:
        return None
    running = {}
    for prefix in sorted({k.split(".", 1)[0] + "." for k in file_keys}):
        done = system.run(["corosync-cmapctl", prefix], rcs=None, timeout=15)
        if done.rc != 0:
            return None
        running.update(cmap_values(done.stdout))
    return differences(file_keys, running)


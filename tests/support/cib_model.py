"""A scripted CIB for unit tests: what `crm configure load update`, `crm configure delete`, crm_attribute and
`cibadmin -Q -o configuration` do to the objects and the stamp, and crm_attribute --type nodes and `cibadmin -Q
-o nodes` to the nodes' permanent attributes, without Pacemaker.

Used by the scripted nodes of tests/unit/cluster (cluster-init, live apply):
answer(system, argv) returns (rc, stdout) for the commands it models and
None for any other.  Objects are read from crm shell text the way crmsh
places them: a primitive named by a group or clone sits inside it, `load
update` replaces an object of the same id and leaves every other one (a
primitive a group no longer names becomes free); `delete` removes an object
with what sits inside it.  One Cib shared by two scripted nodes is the
pair's one CIB: what one node publishes the other reads.  A missing node
attribute is queried as Pacemaker 2.1 answers (exit 105, CRM_EX_NOSUCH, the
error on stderr only); unlike Pacemaker, every write lands at once and none
is refused (tests/integration/test_node_facts_cib.py holds these answers to
the real tools').  The real tools run in the lab and the integration tests.
"""

import re
import shlex
from xml.sax.saxutils import quoteattr

from uec_clc_ha.cluster.live_apply import BOOTSTRAP_SET

OBJECT_RE = re.compile(r"^(primitive|clone|ms|group|location|order|colocation)\s+(\S+)((?:[^\n]*\\\n)*[^\n]*)", re.M)
TOPOLOGY_RE = re.compile(r"^fencing_topology((?:[^\n]*\\\n)*[^\n]*)", re.M)
PROPERTY_RE = re.compile(r"^property (\S+):((?:[^\n]*\\\n)*[^\n]*)", re.M)
CONSTRAINT = {"location": "rsc_location", "order": "rsc_order", "colocation": "rsc_colocation"}


class Cib:
    def __init__(self):
        self.objects = {}            # id -> (kind, [member ids], {param: value})
        self.stamp = {}              # {set id: {name: value}}
        self.loads = []
        self.schema = "pacemaker-3.9"  # validate-with: what Pacemaker 2.1.5 (Debian 12) writes
        self.node_attrs = {}         # {node: {name: value}}: the permanent node attributes (the nodes section)
        self.node_ids = {"clc1": "1", "clc2": "2"}     # corosync's node ids, as the lab's pair has them
        self.node_writes = []        # (node, name, value or None for a delete), in order

    def load_text(self, text):
        topology = TOPOLOGY_RE.search(text)
        if topology:
            levels = []
            for target, devices in re.findall(r"(\S+):((?:\s+[^\s:\\]+(?=\s|$))+)", topology.group(1)):
                levels += [(target, i + 1, d) for i, d in enumerate(devices.split())]
            self.objects["fencing_topology"] = ("fencing_topology", [], {"levels": levels})
        for kind, oid, rest in OBJECT_RE.findall(text):
            words = shlex.split(rest.replace("\\\n", " "))
            members, params = [], {}
            if kind == "group":
                for w in words:
                    if w == "meta" or "=" in w:
                        break
                    members.append(w)
            elif kind in ("clone", "ms"):
                members = words[:1]
            elif kind == "primitive" and "params" in words:
                for w in words[words.index("params") + 1:]:
                    if w in ("op", "meta"):
                        break
                    name, _, value = w.partition("=")
                    params[name] = value
            self.objects[oid] = (kind, members, params)
        # a property set is merged, as crmsh's `load update` does: an option the text no longer names stays
        for sid, rest in PROPERTY_RE.findall(text):
            for w in shlex.split(rest.replace("\\\n", " ")):
                name, _, value = w.partition("=")
                self.stamp.setdefault(sid, {})[name] = value
        self.loads.append(text)

    def delete(self, ids):
        for oid in ids:
            if oid not in self.objects:
                return 1
        for oid in ids:
            kind, members, _ = self.objects.pop(oid)
            for m in members:
                self.objects.pop(m, None)
        return 0

    def xml(self):
        contained = {m for kind, members, _ in self.objects.values() for m in members}

        def resource(oid):
            kind, members, params = self.objects[oid]
            tag = {"ms": "master"}.get(kind, kind)
            if kind == "primitive":
                nvs = "".join(f"<nvpair name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in params.items())
                return f'<primitive id="{oid}"><instance_attributes id="{oid}-ia">{nvs}</instance_attributes>' \
                       "</primitive>"
            return f'<{tag} id="{oid}">' + "".join(resource(m) for m in members if m in self.objects) + f"</{tag}>"
        resources = "".join(resource(oid) for oid, (kind, _, _) in self.objects.items()
                            if kind not in CONSTRAINT and kind != "fencing_topology" and oid not in contained)
        topology = "".join(f'<fencing-level id="fl-{t}-{i}" target="{t}" index="{i}" devices="{d}"/>'
                           for t, i, d in self.objects.get("fencing_topology", (0, 0, {"levels": []}))[2]["levels"])
        constraints = "".join(f'<{CONSTRAINT[kind]} id="{oid}"/>' for oid, (kind, _, _) in self.objects.items()
                              if kind in CONSTRAINT)
        config = "".join(f'<cluster_property_set id="{sid}">' + "".join(
            f"<nvpair name={quoteattr(n)} value={quoteattr(v)}/>" for n, v in nvs.items()) + "</cluster_property_set>"
            for sid, nvs in self.stamp.items())
        return f"<configuration><crm_config>{config}</crm_config>{self.nodes_xml()}<resources>{resources}" \
               "</resources>" \
               f"<constraints>{constraints}</constraints>" \
               + (f"<fencing-topology>{topology}</fencing-topology>" if topology else "") + "</configuration>"

    def nodes_xml(self):
        return "<nodes>" + "".join(
            f'<node id="{self.node_ids[n]}" uname="{n}"><instance_attributes id="nodes-{self.node_ids[n]}">' + "".join(
                f"<nvpair id={quoteattr(f'nodes-{self.node_ids[n]}-{k}')} name={quoteattr(k)} value={quoteattr(v)}/>"
                for k, v in attrs.items()) + "</instance_attributes></node>"
            for n, attrs in sorted(self.node_attrs.items())) + "</nodes>"

    def node_attribute(self, argv):
        """crm_attribute --type nodes --node N --name X (--query [--quiet] | --update V | --delete)."""
        node, name = argv[argv.index("--node") + 1], argv[argv.index("--name") + 1]
        attrs = self.node_attrs.setdefault(node, {})
        if "--update" in argv:
            attrs[name] = argv[argv.index("--update") + 1]
            self.node_writes.append((node, name, attrs[name]))
            return 0, ""
        if "--delete" in argv:
            self.node_writes.append((node, name, None))
            if attrs.pop(name, None) is None:
                return 0, ""
            return 0, f"Deleted nodes attribute: id=nodes-{self.node_ids[node]}-{name} name={name}\n"
        if name not in attrs:
            return 105, ""
        return 0, (attrs[name] if "--quiet" in argv else f"scope=nodes  name={name} value={attrs[name]}") + "\n"

    def answer(self, system, argv):
        """(rc, stdout) for a CIB command, or None for any other."""
        argv = list(argv)
        if argv[:4] == ["cibadmin", "-Q", "-o", "configuration"]:
            return 0, self.xml()
        if argv[:4] == ["cibadmin", "-Q", "-o", "nodes"]:
            return 0, self.nodes_xml()
        if argv[0] == "crm_attribute" and argv[1:3] == ["--type", "nodes"]:
            return self.node_attribute(argv)
        if argv[:3] == ["cibadmin", "-Q", "--no-children"]:
            return 0, f'<cib crm_feature_set="3.16.2" validate-with="{self.schema}" epoch="12" num_updates="0"/>\n'
        if argv[:3] == ["cibadmin", "--upgrade", "--force"]:
            self.schema = "pacemaker-4.0"
            return 0, ""
        if argv[:4] == ["crm", "configure", "load", "update"]:
            self.load_text(system.read(argv[4]))
            return 0, ""
        if argv[:4] == ["crm", "configure", "delete", "--force"]:
            return self.delete(argv[4:]), ""
        if argv[0] == "crm_attribute" and "--delete" in argv and "--set-name" not in argv:
            self.stamp.get(BOOTSTRAP_SET, {}).pop(argv[argv.index("--name") + 1], None)
            return 0, ""
        if argv[0] == "crm_attribute" and "--set-name" in argv and "--update" in argv:
            sid, name = argv[argv.index("--set-name") + 1], argv[argv.index("--name") + 1]
            self.stamp.setdefault(sid, {})[name] = argv[argv.index("--update") + 1]
            return 0, ""
        return None

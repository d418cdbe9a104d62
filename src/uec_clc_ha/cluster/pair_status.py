"""The pair's state as `uec-clc-ha-ctl status` shows it, read from the cluster's machine formats only.

Called by the status command (uec_clc_ha.cli.status).  sources() names the
commands a status runs on this node; gather() runs them (each bounded; a
missing tool or a stopped stack is an answer, not an error); collect()
turns their outputs into a plain dict (the --json document, schema below)
and is pure: the unit tests feed it outputs captured on the lab pair
(tests/fixtures/status/STATE/NODE.json, written by `lab/labctl
capture STATE`, which runs exactly sources()).

  crm_mon     crm_mon --output-as=xml --include=all: nodes, quorum, DC,
              resources, node attributes, failed actions and fail counts,
              fencing history, bans (the DRBD fence constraint among them)
  drbd        /proc/drbd (DRBD 8.4) or `drbdsetup status --json` (DRBD 9)
  links       corosync-cmapctl -m stats stats.knet.: this node's corosync
              links to each node (connected or not)
  votequorum  corosync-cmapctl runtime.votequorum.: two_node, wait_for_all
  nodelist    corosync-cmapctl nodelist.: node ids, names, link addresses
  qdevice     corosync-qdevice-tool -sv, with an Arbiter only: the
              arbiter's connection, this node's heuristics and whether the
              arbiter's vote is cast (fails when corosync-qdevice does not
              run)

The document (schema 1), every key always present:

  schema        1
  node          this node (Local-Node)
  cluster       "running" (pacemaker answers here) or "down"
  state         "serving", "degraded" (serving, with problems), "not-serving"
                (the cluster runs here, the cloud does not answer), "down"
  problems      [text]: each thing that is not as it should be, worst first
  active        the node the cloud's group runs on, or null
  dc            the designated controller, or null
  quorum        {quorate, two_node, wait_for_all} (null values when unknown);
                wait_for_all is true while votequorum still waits to see
                every node (a node started alone: not quorate)
  nodes         {name: {online, standby, maintenance, links: {link id: bool}}}
                links as this node's corosync sees them ({} for itself)
  drbd          {resource, connection, role, peer_role, disk, peer_disk,
                 sync_percent (null unless resyncing), io_suspended (writes
                 held: the fence-peer handler waits for the peer's fencing,
                 or for quorum)} or null when not loaded
  resources     [{id, agent, role, nodes}]
  vip           {address, on}
  clc           {url, healthy, problem}: the depth-10 check of the register
                page on the VIP (null healthy when not checked: cluster down)
  fencing       {enabled, devices, delay_seconds, last: {target, action,
                 status, by, completed} or null}
  failures      [text] failed actions; fail_counts [{resource, node, count}]
  constraints   [{id, resource, node, score}]: bans and DRBD fence constraints
  drift         [path]: generated files that differ from what the settings
                render, or null when they could not be rendered
  arbiter       null without an Arbiter; else {host, state (corosync-qdevice's: "Connected",
                "Connecting", "Connect failed", "Disconnected", or "not
                running"), connected, heuristics ("Pass", "Fail",
                "Undefined", null when unknown), vote (true: the arbiter's
                vote is cast for this node's partition; null when unknown),
                tls (true when the connection uses TLS)}

Exit codes (uec-clc-ha-ctl status): 0 serving, 1 degraded, 10 not serving,
11 the cluster does not run on this node.
"""

import json
import re
import xml.etree.ElementTree as ET

from uec_clc_ha.errors import CommandFailure, ToolMissing

SCHEMA = 1
EXIT_SERVING, EXIT_DEGRADED, EXIT_NOT_SERVING, EXIT_DOWN = 0, 1, 10, 11
STATE_EXIT = {"serving": EXIT_SERVING, "degraded": EXIT_DEGRADED, "not-serving": EXIT_NOT_SERVING,
              "down": EXIT_DOWN}
GROUP_MEMBERS = ("res_fs_clc", "res_uec")          # where these run is where the cloud runs
VIP_RESOURCE = "res_ip_clc"
PROC_DRBD = "/proc/drbd"
PROC_RE = re.compile(r"^\s*(\d+): cs:(\S+) ro:([^/\s]+)/(\S+) ds:([^/\s]+)/(\S+)(?:\s+[ABC])?(?:\s+([rs])\S*)?",
                     re.M)
SYNC_RE = re.compile(r"sync'ed:\s*([\d.]+)%")


def sources(drbd_version, arbiter=False):
    """{name: argv} of what a status reads on this node ("file:PATH" reads a file); ``arbiter``: the settings
    name an Arbiter (then corosync-qdevice is asked too)."""
    found = {
        "crm_mon": ["crm_mon", "--output-as=xml", "--include=all"],
        "drbd": ["drbdsetup", "status", "--json"] if drbd_version == "9" else ["file:" + PROC_DRBD],
        "links": ["corosync-cmapctl", "-m", "stats", "stats.knet."],
        "votequorum": ["corosync-cmapctl", "runtime.votequorum."],
        "nodelist": ["corosync-cmapctl", "nodelist."],
    }
    if arbiter:
        found["qdevice"] = ["corosync-qdevice-tool", "-sv"]
    return found


def gather(system, drbd_version, arbiter=False, timeout=20):
    """{name: {"rc", "stdout"}} of each source; rc 127 when the tool is missing."""
    out = {}
    for name, argv in sources(drbd_version, arbiter).items():
        if argv[0].startswith("file:"):
            data = system.read_or_none(argv[0][5:])
            out[name] = {"rc": 0 if data is not None else 1, "stdout": (data or b"").decode("utf-8", "replace")}
            continue
        try:
            done = system.run(argv, rcs=None, timeout=timeout)
            out[name] = {"rc": done.rc, "stdout": done.stdout}
        except ToolMissing:
            out[name] = {"rc": 127, "stdout": ""}
        except CommandFailure as e:             # timed out
            out[name] = {"rc": 124, "stdout": "", "error": str(e)}
    return out


# -- the sources' parsers (pure) --------------------------------------------------------------

def cmap(text):
    """{key: value} of `corosync-cmapctl` output ("key (type) = value" lines)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            values[key.split(" (", 1)[0].strip()] = value.strip()
    return values


def node_names(nodelist):
    """{nodeid: name} from `corosync-cmapctl nodelist.`."""
    by_index = {}
    for key, value in nodelist.items():
        m = re.fullmatch(r"nodelist\.node\.(\d+)\.(nodeid|name)", key)
        if m:
            by_index.setdefault(m.group(1), {})[m.group(2)] = value
    return {v["nodeid"]: v["name"] for v in by_index.values() if "nodeid" in v and "name" in v}


def links(stats, names):
    """{node name: {link id: connected}} from `corosync-cmapctl -m stats stats.knet.`."""
    found = {}
    for key, value in stats.items():
        m = re.fullmatch(r"stats\.knet\.node(\d+)\.link(\d+)\.connected", key)
        if m:
            found.setdefault(names.get(m.group(1), f"node{m.group(1)}"), {})[m.group(2)] = value == "1"
    return found


QDEVICE_LINE = re.compile(r"^(\S[^:\t]*):\t+(.*?)\s*$", re.M)


def qdevice(text):
    """{state, host, heuristics, vote, tls} from `corosync-qdevice-tool -sv`, or None when it says nothing.

    Its lines are "Name:<tabs>value" (corosync-qdevice's qdevice-ipc-cmd.c
    and qdevice-net-ipc-cmd.c); the vote shows as "Poll timer running:
    Yes (cast vote)" while qdevice casts the arbiter's ACK vote for this
    node's partition.
    """
    fields = dict(QDEVICE_LINE.findall(text or ""))
    if "State" not in fields:
        return None
    heuristics = fields.get("Heuristics result", "").split(" (", 1)[0] or None
    poll = fields.get("Poll timer running")
    return {"state": fields["State"], "host": fields.get("QNetd host"), "heuristics": heuristics,
            "vote": None if poll is None else "(cast vote)" in poll,
            "tls": fields.get("TLS active", "").startswith("Yes")}


def drbd_84(text, minor):
    m = next((m for m in PROC_RE.finditer(text) if int(m.group(1)) == minor), None)
    if m is None:
        return None
    sync = SYNC_RE.search(text[m.end():].split("\n 1:", 1)[0]) if "sync'ed" in text else None
    return {"connection": m.group(2), "role": m.group(3), "peer_role": m.group(4), "disk": m.group(5),
            "peer_disk": m.group(6), "sync_percent": float(sync.group(1)) if sync else None,
            "io_suspended": m.group(7) == "s"}


def drbd_9(text, resource):
    try:
        documents = json.loads(text)
    except ValueError:
        return None
    res = next((r for r in documents if r.get("name") == resource), None)
    if res is None:
        return None
    device = (res.get("devices") or [{}])[0]
    conn = (res.get("connections") or [{}])[0]
    peer_device = (conn.get("peer_devices") or [{}])[0]
    percent = peer_device.get("percent-in-sync")
    syncing = conn.get("connection-state") == "Connected" and percent is not None and percent < 100
    return {"connection": conn.get("connection-state", "StandAlone"), "role": res.get("role", "Unknown"),
            "peer_role": conn.get("peer-role", "Unknown"), "disk": device.get("disk-state", "Unknown"),
            "peer_disk": peer_device.get("peer-disk-state", "DUnknown"),
            "sync_percent": percent if syncing else None, "io_suspended": bool(res.get("suspended"))}


def crm(text):
    """The parts of `crm_mon --output-as=xml --include=all` a status shows."""
    root = ET.fromstring(text)
    summary = root.find("summary")
    dc = summary.find("current_dc") if summary is not None else None
    options = summary.find("cluster_options") if summary is not None else None
    nodes = {n.get("name"): {"online": n.get("online") == "true", "standby": n.get("standby") == "true",
                             "maintenance": n.get("maintenance") == "true"}
             for n in root.findall("nodes/node")}
    resources = []
    for r in root.iter("resource"):
        resources.append({"id": r.get("id"), "agent": r.get("resource_agent", ""), "role": r.get("role", ""),
                          "nodes": [n.get("name") for n in r.findall("node")]})
    failures = []
    for f in root.iter("failure"):
        reason = f.get("exitreason") or f.get("exitstatus") or "failed"
        failures.append(f"{f.get('op_key') or f.get('task', '')} on {f.get('node', '?')}: {reason}"
                        + (f" ({f.get('last-rc-change')})" if f.get("last-rc-change") else ""))
    fail_counts = []
    for node in root.findall("node_history/node"):
        for h in node.findall("resource_history"):
            if h.get("fail-count") and h.get("fail-count") != "0":
                fail_counts.append({"resource": h.get("id"), "node": node.get("name"),
                                    "count": h.get("fail-count")})
    fences = [{"target": e.get("target"), "action": e.get("action"), "status": e.get("status"),
               "by": e.get("delegate") or e.get("origin"), "completed": e.get("completed")}
              for e in root.findall("fence_history/fence_event")]
    bans = [{"id": b.get("id"), "resource": b.get("resource"), "node": b.get("node"), "score": b.get("weight")}
            for b in root.findall("bans/ban") if not _own_rule(b.get("id", ""))]
    attributes = {n.get("name"): {a.get("name"): a.get("value") for a in n.findall("attribute")}
                  for n in root.findall("node_attributes/node")}
    delay_ms = options.get("priority-fencing-delay-ms") if options is not None else None
    return {
        "running": _pacemakerd_running(root),
        "dc": dc.get("name") if dc is not None and dc.get("present") == "true" else None,
        "quorate": dc.get("with_quorum") == "true" if dc is not None and dc.get("present") == "true" else None,
        "stonith_enabled": options is not None and options.get("stonith-enabled") == "true",
        "fence_delay": int(delay_ms) / 1000 if delay_ms and delay_ms.isdigit() else None,
        "nodes": nodes, "resources": resources, "failures": failures, "fail_counts": fail_counts,
        "fences": fences, "bans": bans, "attributes": attributes,
    }


def _pacemakerd_running(root):
    """Whether pacemakerd says it runs: ``<pacemakerd state=...>`` up to Pacemaker 2.1.5, the
    summary's ``stack pacemakerd-state`` from 2.1.6 (Debian 13's 3.0), where one-shot crm_mon
    prints no ``<pacemakerd>`` element while pacemakerd runs or shuts down.  Neither: an older
    Pacemaker that does not say, which answered, so it runs."""
    element = root.find("pacemakerd")
    if element is not None:
        return element.get("state") == "running"
    stack = root.find("summary/stack")
    state = stack.get("pacemakerd-state") if stack is not None else None
    return state is None or state == "running"


def _own_rule(ban_id):
    """The package's own location rules (cluster.crm): configuration, not a ban someone placed."""
    return ban_id.startswith("l_uec_connected") or ban_id.startswith("l_st_ipmi_")


# -- the document ------------------------------------------------------------------------------

def _where(resources, ids):
    placed = set()
    for rid in ids:
        nodes = [n for r in resources if r["id"] == rid for n in r["nodes"]]
        placed.add(tuple(nodes))
    if len(placed) == 1:
        nodes = placed.pop()
        if len(nodes) == 1:
            return nodes[0]
    return None


def collect(config, outputs, clc=None, drift=None):
    """The status document from the sources' outputs.

    ``clc``: {"url", "healthy", "problem"} of the register page check (made
    by the caller, only when the cluster runs); ``drift``: the list of
    generated files that differ, or None when unknown.
    """
    doc = {"schema": SCHEMA, "node": config.local_node, "cluster": "down", "state": "down", "problems": [],
           "active": None, "dc": None, "quorum": {"quorate": None, "two_node": None, "wait_for_all": None},
           "nodes": {}, "drbd": None, "resources": [], "vip": {"address": str(config.vip), "on": None},
           "clc": clc or {"url": None, "healthy": None, "problem": None},
           "fencing": {"enabled": None, "devices": [], "delay_seconds": None, "last": None},
           "failures": [], "fail_counts": [], "constraints": [], "drift": drift, "arbiter": None}
    problems = doc["problems"]
    arbiter = qdevice(outputs.get("qdevice", {}).get("stdout", "")) \
        if outputs.get("qdevice", {}).get("rc") == 0 else None
    if config.arbiter_host:
        doc["arbiter"] = {"host": (arbiter or {}).get("host") or f"{config.arbiter_host}:{config.arbiter_port}",
                          "state": arbiter["state"] if arbiter else "not running",
                          "connected": bool(arbiter) and arbiter["state"] == "Connected",
                          "heuristics": arbiter["heuristics"] if arbiter else None,
                          "vote": arbiter["vote"] if arbiter else None,
                          "tls": bool(arbiter) and arbiter["tls"]}

    drbd_out = outputs.get("drbd", {})
    if drbd_out.get("rc") == 0:
        parsed = (drbd_9(drbd_out["stdout"], config.drbd_resource) if config.drbd_version == "9"
                  else drbd_84(drbd_out["stdout"], config.drbd_minor))
        doc["drbd"] = dict(parsed, resource=config.drbd_resource) if parsed else None

    quorum_values = cmap(outputs.get("votequorum", {}).get("stdout", ""))
    if quorum_values:
        doc["quorum"]["two_node"] = quorum_values.get("runtime.votequorum.two_node") == "1"
        doc["quorum"]["wait_for_all"] = quorum_values.get("runtime.votequorum.wait_for_all_status") == "1"
    names = node_names(cmap(outputs.get("nodelist", {}).get("stdout", "")))
    node_links = links(cmap(outputs.get("links", {}).get("stdout", "")), names)

    crm_out = outputs.get("crm_mon", {})
    view = None
    if crm_out.get("rc") == 0 and "<pacemaker-result" in crm_out.get("stdout", ""):
        view = crm(crm_out["stdout"])
    if view is None or not view["running"]:
        problems.append(f"the cluster does not run on {config.local_node} (crm_mon: "
                        f"{'no answer' if view is None else 'pacemakerd not running'})")
        if doc["drbd"] is not None and doc["drbd"]["role"] == "Primary":
            problems.append(f"DRBD {config.drbd_resource} is Primary here without the cluster")
        return doc

    doc["cluster"] = "running"
    doc["dc"] = view["dc"]
    doc["quorum"]["quorate"] = view["quorate"]
    if view["quorate"] is None and doc["quorum"]["wait_for_all"]:
        doc["quorum"]["quorate"] = False     # no DC to ask, and votequorum still waits to see every node
    doc["resources"] = view["resources"]
    doc["failures"] = view["failures"]
    doc["fail_counts"] = view["fail_counts"]
    doc["constraints"] = view["bans"]
    for name, n in view["nodes"].items():
        doc["nodes"][name] = dict(n, links={} if name == config.local_node else node_links.get(name, {}))
    doc["active"] = _where(view["resources"], GROUP_MEMBERS)
    doc["vip"]["on"] = _where(view["resources"], (VIP_RESOURCE,))
    devices = [r["id"] for r in view["resources"] if r["agent"].startswith("stonith:")]
    doc["fencing"] = {"enabled": view["stonith_enabled"], "devices": devices, "delay_seconds": view["fence_delay"],
                      "last": view["fences"][0] if view["fences"] else None}

    # problems, worst first
    serving = doc["active"] is not None and doc["clc"]["healthy"] is not False
    if doc["active"] is None:
        problems.append("the cloud's group does not run on one node")
    if doc["clc"]["healthy"] is False:
        problems.append(f"the CLC does not answer: {doc['clc']['problem']}")
    if doc["active"] is not None and doc["vip"]["on"] != doc["active"]:
        problems.append(f"the VIP runs on {doc['vip']['on']}, the cloud on {doc['active']}")
    a = doc["arbiter"]
    if doc["quorum"]["quorate"] is False:
        waits = doc["quorum"]["wait_for_all"]
        why = ""
        if a is not None:
            drbd = ("holds DRBD's writes" if (doc["drbd"] or {}).get("role") == "Primary"
                    else "keeps its DRBD copy as it is")
            why = (": its peer or the arbiter's vote is missing; it starts, promotes and fences nothing and "
                   f"{drbd} until it sees every vote again (wait_for_all)")
            if waits:
                why += "; a peer that is off for good: uec-clc-ha-ctl unblock"
        elif waits:
            why = ": it waits to see its peer (two_node's wait_for_all) and runs nothing until then"
        problems.append("this node's partition is not quorate" + why)
    if a is not None and not a["connected"]:
        problems.append(f"the arbiter {a['host']} is not connected ({a['state']}): both nodes keep quorum "
                        "together, but if one is lost now the other has no quorum and the cloud waits until "
                        "the arbiter and the lost node are both back (uec-clc-ha-ctl doctor)")
    elif a is not None and a["heuristics"] == "Fail":
        problems.append("this node's heuristics fail (it reaches none of the ping hosts): in a split the "
                        "arbiter gives its vote to the other node")
    if doc["dc"] is None:
        problems.append("no designated controller: this node has not joined a cluster, the nodes' states "
                        "are not known here")
    for name, n in doc["nodes"].items() if doc["dc"] is not None else ():   # without a DC they are unknown
        latest = next((e for e in view["fences"] if e["target"] == name), None)     # the history: newest first
        if not n["online"] and latest is not None and latest["status"] in ("failed", "pending"):
            problems.append(f"fencing {name} {'failed' if latest['status'] == 'failed' else 'is not done yet'}: "
                            f"the cloud waits (DRBD is promoted only once {name} is fenced); if it does not go "
                            f"through, bring {name}'s fencing device back (uec-clc-ha-ctl doctor says what fails), "
                            f"or, only if {name} is powered off for certain, confirm it: stonith_admin --confirm "
                            f"{name}")
        if not n["online"]:
            problems.append(f"{name} is offline: no standby node")
        elif n["standby"]:
            problems.append(f"{name} is in standby")
        elif n["maintenance"]:
            problems.append(f"{name} is in maintenance")
        if n["online"] and view["attributes"].get(name, {}).get("pingd") == "0":
            problems.append(f"{name} reaches none of Ping-Hosts: the cloud may not run there")
        down = sorted(link for link, up in n["links"].items() if not up)
        if n["online"] and down:
            problems.append(f"corosync link{'s' if len(down) > 1 else ''} {', '.join(down)} to {name} down")
    d = doc["drbd"]
    if d is None:
        problems.append(f"DRBD {config.drbd_resource} is not configured on {config.local_node}")
    else:
        if d["sync_percent"] is not None:
            problems.append(f"DRBD resync: {d['sync_percent']:g}% in sync")
        elif d["connection"] != "Connected":
            problems.append(f"DRBD {config.drbd_resource}: {d['connection']} (the peer gets no writes)")
        if d["disk"] != "UpToDate" or (d["connection"] == "Connected" and d["peer_disk"] != "UpToDate"):
            problems.append(f"DRBD disks {d['disk']}/{d['peer_disk']}")
        if d["io_suspended"]:
            problems.append(f"DRBD {config.drbd_resource}'s I/O is suspended: the cloud's writes wait until the "
                            "peer is fenced or reconnects" + ("" if doc["quorum"]["quorate"] else
                                                             ", and without quorum until quorum returns"))
    if not doc["fencing"]["enabled"] or not devices:
        problems.append("fencing is not configured: a split can corrupt the cloud's data")
    elif doc["quorum"]["quorate"]:
        # a device that failed its start or monitor (a BMC that does not answer) is not used to fence
        for r in view["resources"]:
            if r["agent"].startswith("stonith:") and r["role"] != "Started":
                problems.append(f"fencing device {r['id']} does not run ({r['role'] or 'stopped'}): a fencing "
                                "through it fails, and the cloud then waits instead of moving "
                                "(uec-clc-ha-ctl doctor on both nodes says why)")
    for ban in doc["constraints"]:
        if ban["id"].startswith("drbd-fence-by-handler"):
            problems.append(f"DRBD's fence constraint keeps {ban['resource']} from being promoted on {ban['node']} "
                            "(removed by itself when the resync completes)")
        else:
            problems.append(f"constraint {ban['id']} keeps {ban['resource']} off {ban['node']}"
                            + (" (crm resource clear)" if ban["id"].startswith("cli-") else ""))
    problems.extend(f"failed action: {f}" for f in doc["failures"])
    if drift:
        problems.append(f"generated files differ from the settings: {', '.join(drift)} (uec-clc-ha-ctl diff)")
    if not serving:
        doc["state"] = "not-serving"
    else:
        doc["state"] = "degraded" if problems else "serving"
    return doc


def exit_code(doc):
    return STATE_EXIT[doc["state"]]


# -- for a person ---------------------------------------------------------------------------------

COLOURS = {"ok": "\033[32m", "warn": "\033[33m", "bad": "\033[31;1m", "off": "\033[0m"}


def render(doc, colour=False):
    """One screen of text for a person."""
    def paint(text, kind):
        return f"{COLOURS[kind]}{text}{COLOURS['off']}" if colour else text

    state_kind = {"serving": "ok", "degraded": "warn", "not-serving": "bad", "down": "bad"}[doc["state"]]
    lines = [f"uec-clc-ha on {doc['node']}: {paint(doc['state'].upper(), state_kind)}"]
    if doc["cluster"] == "down":
        lines.append(f"  cluster    {paint('not running on this node', 'bad')}")
        if doc["drbd"]:
            d = doc["drbd"]
            lines.append(f"  drbd       {d['resource']} {d['connection']} {d['role']}/{d['peer_role']} "
                         f"{d['disk']}/{d['peer_disk']}")
    else:
        q = doc["quorum"]
        flags = [f for f, on in (("two_node", q["two_node"]), ("wait_for_all", q["wait_for_all"])) if on]
        lines.append(f"  cloud      {'on ' + doc['active'] if doc['active'] else paint('not running', 'bad')}; "
                     f"VIP {doc['vip']['address']} on {doc['vip']['on'] or paint('none', 'bad')}")
        c = doc["clc"]
        if c["healthy"] is not None:
            lines.append(f"  clc        {paint('answers', 'ok') if c['healthy'] else paint(c['problem'], 'bad')}"
                         f" ({c['url']})")
        lines.append(f"  quorum     {paint('quorate', 'ok') if q['quorate'] else paint('NOT quorate', 'bad')}"
                     f"{' (' + ', '.join(flags) + ')' if flags else ''}; DC {doc['dc'] or 'none'}")
        a = doc.get("arbiter")
        if a:
            vote = {True: "vote cast", False: "vote not cast", None: "vote unknown"}[a["vote"]]
            lines.append(f"  arbiter    {a['host']} "
                         f"{paint(a['state'], 'ok' if a['connected'] else 'bad')}"
                         + (f"; heuristics {paint(a['heuristics'], 'ok' if a['heuristics'] == 'Pass' else 'warn')}"
                            if a["heuristics"] else "")
                         + (f"; {vote}" if a["connected"] else "")
                         + ("; TLS" if a["tls"] else ""))
        for name, n in sorted(doc["nodes"].items()):
            state = (paint("unknown (no DC)", "warn") if doc["dc"] is None else
                     paint("online", "ok") if n["online"] and not n["standby"] else
                     paint("standby", "warn") if n["online"] else paint("OFFLINE", "bad"))
            link_text = ", ".join(f"link {k} {paint('up', 'ok') if up else paint('down', 'bad')}"
                                  for k, up in sorted(n["links"].items()))
            here = " (this node)" if name == doc["node"] else ""
            lines.append(f"  {'nodes' if name == min(doc['nodes']) else '':<10} {name}{here} {state}"
                         f"{'; ' + link_text if link_text else ''}")
        d = doc["drbd"]
        if d:
            ok = d["connection"] == "Connected" and d["disk"] == d["peer_disk"] == "UpToDate"
            sync = f", {d['sync_percent']:g}% in sync" if d["sync_percent"] is not None else ""
            held = ", " + paint("I/O suspended", "bad") if d["io_suspended"] else ""
            lines.append(f"  drbd       {d['resource']} {paint(d['connection'], 'ok' if ok else 'warn')} "
                         f"{d['role']}/{d['peer_role']} {d['disk']}/{d['peer_disk']}{sync}{held}")
        else:
            lines.append(f"  drbd       {paint('not configured here', 'bad')}")
        for r in doc["resources"]:
            if r["nodes"] or r["role"] not in ("Stopped", ""):
                lines.append(f"  {'resources' if r is doc['resources'][0] else '':<10} {r['id']} {r['role']} "
                             f"{' '.join(r['nodes'])}")
        f = doc["fencing"]
        last = f["last"]
        last_text = (f"; last: {last['action']} of {last['target']} by {last['by']}, {last['status']}, "
                     f"{last['completed']}" if last else "; never fenced")
        lines.append(f"  fencing    {', '.join(f['devices']) if f['enabled'] and f['devices'] else paint('NONE', 'bad')}"
                     f"{', delay %gs' % f['delay_seconds'] if f['delay_seconds'] else ''}{last_text}")
        lines.append(f"  failures   {'; '.join(doc['failures']) if doc['failures'] else 'none'}"
                     + ("; fail counts: " + ", ".join(f"{x['resource']}@{x['node']}={x['count']}"
                                                      for x in doc["fail_counts"]) if doc["fail_counts"] else ""))
    drift = doc["drift"]
    lines.append(f"  drift      {'unknown' if drift is None else ', '.join(drift) if drift else 'none'}")
    for p in doc["problems"]:
        lines.append(f"  {paint('!', 'warn')} {p}")
    return "\n".join(lines) + "\n"

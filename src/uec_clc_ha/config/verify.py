"""Run the real checkers on rendered configuration text, before anything is written.

Called by pipeline.check, which the CLI's ``check`` and ``apply`` (and
``render`` unless --no-verify) run after rendering and before a single file
is written.  Each public function takes the text of one or two generated
files, has the tool that will later read them judge a copy in a private
temporary directory, and returns a list of errors.Problem (empty when the
tool accepts the file).

The host is never touched: no file under /etc, /var or /run is written, no
interface or address is added, nothing is logged to the host's syslog.  Tools
that insist on looking at the host (corosync and heartbeat want the local
node's hostname, crmsh wants the agents under /usr/lib/ocf/resource.d,
heartbeat wants its state directories and network interfaces) run inside
private Linux namespaces whose mounts, hostname and links vanish with them;
that needs root.

Inside a plain chroot (how VM and golden images are built) "/" is not a
mount point, so a mount namespace cannot be made private: a mount made there
would propagate to the host and outlive the check.  There the checkers run
without mounting anything: corosync in a UTS namespace only (its copy of the
configuration logs to a file, not to syslog), crmsh directly when every agent
the configuration names is installed in the root, and heartbeat not at all
(NotVerifiable: the caller reports it as a warning, never as a pass).

The files hold secrets, so a Problem quotes only the tool's diagnostic lines,
never the file, and drops every line that mentions "shared-secret" or the key
material itself.
"""

import os
import re

from uec_clc_ha.errors import CommandFailure, NotFound, NotVerifiable, PermissionProblem, Problem
from uec_clc_ha.host.paths import COROSYNC_CONF, CRM_FILE
from uec_clc_ha.host.system import Scratch

DRBD_DRIVER_OVERRIDE = {
    # drbdadm picks its parser from the loaded kernel module (modinfo when none
    # is loaded); the override makes the choice follow the settings instead.
    "8.4": "8.4.11",
    "9": "9.2.0",
}
COROSYNC_KEY = "/etc/corosync/authkey"
HA_CF = "/etc/ha.d/ha.cf"
HA_AUTHKEYS = "/etc/ha.d/authkeys"
OCF_RESOURCE_D = "/usr/lib/ocf/resource.d"
LSB_INIT_D = "/etc/init.d"
STONITH_D = "/usr/sbin"                 # where Pacemaker's fencer looks for fence agents
# The directory holding the uec_clc_ha package: a fence agent of ours laid over from a source tree imports it.
LIBRARY_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEARTBEAT_BINARIES = ("/usr/libexec/heartbeat/heartbeat", "/usr/lib/heartbeat/heartbeat")
SCRATCH = "uec-clc-ha-verify."        # the prefix of the private directory each check works in

SETUP_FAILED = 111          # exit code of the namespace scripts when their own set-up fails

# Inside every namespace: keep the host's syslog out of it (a bind mount of
# /dev/null over the socket makes connect() fail, so tools log to stderr only).
_MASK_SYSLOG = '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 111\n'

# $1 node, then the command.  A private /dev/shm keeps libqb's blackbox files.
_COROSYNC_SH = ('hostname "$1" || exit 111\n'
                'mount -t tmpfs uec-clc-ha-verify /dev/shm || exit 111\n'
                + _MASK_SYSLOG +
                'shift\nexec "$@"\n')
# The same where nothing may be mounted (a plain chroot): the hostname only.
_COROSYNC_NOMOUNT_SH = 'hostname "$1" || exit 111\nshift\nexec "$@"\n'

# $1, $2 and $3 directories of agents to lay over resource.d, /etc/init.d and /usr/sbin
# ("" for none), $4 directory standing in for /var/log/crmsh, then the command.
_CRM_SH = (f'[ -z "$1" ] || mount -t overlay uec-clc-ha-verify -o "lowerdir=$1:{OCF_RESOURCE_D}" {OCF_RESOURCE_D}'
           ' || exit 111\n'
           f'[ -z "$2" ] || mount -t overlay uec-clc-ha-verify -o "lowerdir=$2:{LSB_INIT_D}" {LSB_INIT_D}'
           ' || exit 111\n'
           f'[ -z "$3" ] || mount -t overlay uec-clc-ha-verify -o "lowerdir=$3:{STONITH_D}" {STONITH_D}'
           ' || exit 111\n'
           '[ ! -d /var/log/crmsh ] || mount --bind "$4" /var/log/crmsh || exit 111\n'
           + _MASK_SYSLOG +
           'shift 4\nexec "$@"\n')

# $1 node, $2 directory with ha.cf/authkeys/haresources, $3 empty scratch
# directory, $4 heartbeat binary, then the interfaces ha.cf names.  Runs as
# PID 1 of its own PID namespace: when it exits, the kernel kills the
# heartbeat daemons it leaves behind.
_HEARTBEAT_SH = '''\
node=$1 conf=$2 scratch=$3 heartbeat=$4
shift 4
hostname "$node" || exit 111
ip link set lo up || exit 111
k=0
for ifname in "$@"; do
    k=$((k + 1))
    { ip link add "$ifname" type dummy 2>/dev/null ||
      ip link add "$ifname" type veth peer name "uecverify$k"; } || exit 111
    ip addr add "169.254.0.$k/16" dev "$ifname" && ip link set "$ifname" up || exit 111
done
mount -t tmpfs uec-clc-ha-verify "$scratch" || exit 111
mount -t overlay uec-clc-ha-verify -o "lowerdir=$conf:/etc/ha.d" /etc/ha.d || exit 111
for dir in /var/lib/heartbeat /run /var/log; do
    name=$(echo "$dir" | tr / _)
    mkdir "$scratch/upper$name" "$scratch/work$name" || exit 111
    mount -t overlay uec-clc-ha-verify \\
        -o "lowerdir=$dir,upperdir=$scratch/upper$name,workdir=$scratch/work$name" "$dir" || exit 111
done
rm -f /run/heartbeat.pid /var/lib/heartbeat/hostcache /var/lib/heartbeat/delhostcache
''' + _MASK_SYSLOG + '''\
"$heartbeat"
'''

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DRBD_NOISE = ("found __DRBD_NODE__", "PRETENDING that I am", "modinfo", "not found on this host")
_COROSYNC_LOG = re.compile(r"^\w{3} +\d+ [\d:.]+ +(?:\[\d+\] +\S+ +\S+ +)?(\w+) +\[[^\]]*\] +(.*)$")
_HEARTBEAT_GENERIC = ("Configuration error, heartbeat not started.",
                      "Heartbeat not started: configuration error.",
                      "Authentication configuration error.",
                      "Table size: 0", "Lookup extended")


# -- shared helpers -------------------------------------------------------
def _tool_lines(output, secrets=(), noise=()):
    """A tool's output as diagnostic lines: colours gone, indented continuations joined,
    lines naming a secret or matching noise dropped."""
    lines = []
    for raw in _ANSI.sub("", output).splitlines():
        if not raw.strip():
            continue
        if raw[:1] in " \t" and lines:
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw.strip())
    secrets = [s for s in secrets if s]
    return [line for line in lines
            if "shared-secret" not in line
            and not any(s in line for s in secrets)
            and not any(n in line for n in noise)]


def _rename(line, paths):
    """Say the target path where the tool named our temporary copy."""
    for temp, target in paths.items():
        line = line.replace(temp, target)
    return line


def _problems(tool, found):
    """Problems from {(field, message): [nodes]}, naming the nodes a message came from."""
    problems = []
    for (field, message), nodes in found.items():
        who = " and ".join(n for n in nodes if n)
        problems.append(Problem(field, f"{tool}{f' (as {who})' if who else ''}: {message}"))
    return problems


def _note(found, field, message, node=None):
    nodes = found.setdefault((field, message), [])
    if node not in nodes:
        nodes.append(node)


def private_mounts_possible(mountinfo="/proc/self/mountinfo"):
    """True when this process's "/" is a mount point, so a new mount namespace can be made private.

    In a plain chroot the mount holding "/" lies outside the root and is not
    listed; without /proc it cannot be told either, and the answer is False.
    """
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as fh:
            return any(len(fields) > 4 and fields[4] == "/" for fields in (line.split() for line in fh))
    except OSError:
        return False


def _in_namespace(system, flags, script, args, what, env=None, timeout=60):
    """Run script (with args as $1...) under unshare; refuse if its own set-up failed."""
    if os.geteuid() != 0:
        raise PermissionProblem(f"verifying {what} needs root (it runs in private namespaces)")
    propagation = ["--propagation", "private"] if "--mount" in flags else []
    argv = [system.require("unshare", "util-linux"), *flags, *propagation,
            "--", "/bin/sh", "-c", script, "sh", *args]
    done = system.run(argv, rcs=None, env=env, timeout=timeout)
    if done.rc == SETUP_FAILED or (done.rc != 0 and done.stderr.startswith("unshare:")):
        raise CommandFailure(["unshare", *flags, "--", what], done.rc, done.stderr, done.stdout)
    return done


def _secrets_in(text, pattern):
    return [m.group(1).strip('"') for m in re.finditer(pattern, text, re.M)]


# -- DRBD -----------------------------------------------------------------
def verify_drbd(system, text, resource, node_names, drbd_version):
    """drbdadm's verdict on a resource file, parsed as each node with the version's parser."""
    if drbd_version not in DRBD_DRIVER_OVERRIDE:
        raise ValueError(f"DRBD version must be one of {sorted(DRBD_DRIVER_OVERRIDE)}, not {drbd_version!r}")
    drbdadm = system.require("drbdadm", "drbd-utils")
    field = f"/etc/drbd.d/{resource}.res"
    secrets = _secrets_in(text, r'shared-secret\s+("[^"]*"|[^;\s]+)')
    found = {}
    with Scratch(SCRATCH) as tmp:
        res = tmp.write(f"{resource}.res", text)
        conf = tmp.write("drbd.conf", f'include "{res}";\n')
        for node in node_names:
            done = system.run([drbdadm, "-c", conf, "dump", resource], rcs=None, timeout=30,
                              env={"__DRBD_NODE__": node,
                                   "DRBD_DRIVER_VERSION_OVERRIDE": DRBD_DRIVER_OVERRIDE[drbd_version]})
            if done.rc == 0:        # stdout is the parsed file, secret included: never looked at
                continue
            lines = _tool_lines(done.stderr, secrets, _DRBD_NOISE) or [f"rejected the file (exit {done.rc})"]
            for line in lines:
                _note(found, field, _rename(line, {res: field}), node)
    return _problems("drbdadm", found)


# -- Corosync -------------------------------------------------------------
def _corosync_copy(text, keyfile, logfile):
    """The conf pointed at our key and log: logfile values rewritten in place (line
    numbers stay), syslog off, the key given by a trailing totem section (a later value wins)."""
    text = re.sub(r"^(\s*logfile\s*:).*$", lambda m: f"{m.group(1)} {logfile}", text, flags=re.M)
    text = re.sub(r"^(\s*to_syslog\s*:).*$", lambda m: f"{m.group(1)} no", text, flags=re.M)
    return f"{text.rstrip()}\ntotem {{\n\tkeyfile: {keyfile}\n}}\n"


def verify_corosync(system, text, authkey_bytes, node_names):
    """corosync -t on the conf and authkey, once as each node (hostname in a private UTS namespace)."""
    corosync = system.require("corosync", "corosync")
    found = {}
    with Scratch(SCRATCH) as tmp:
        key = tmp.write("authkey", authkey_bytes, 0o400)
        conf = tmp.write("corosync.conf", _corosync_copy(text, key, tmp.path("corosync.log")), 0o644)
        private = private_mounts_possible()
        flags, script = (["--uts", "--mount"], _COROSYNC_SH) if private else (["--uts"], _COROSYNC_NOMOUNT_SH)
        for node in node_names:
            done = _in_namespace(system, flags, script, [node, corosync, "-c", conf, "-t"], "corosync -t",
                                 timeout=30)
            if done.rc == 0:
                continue
            lines = []
            for line in _tool_lines(done.stdout + "\n" + done.stderr):
                m = _COROSYNC_LOG.match(line)
                if m and m.group(1) in ("error", "crit", "alert", "emerg") and "exiting with status" not in m.group(2):
                    lines.append(m.group(2))
                elif line.startswith("parser error:"):
                    lines.append(line)
            for line in lines or [f"rejected the configuration (exit {done.rc})"]:
                _note(found, COROSYNC_KEY if key in line else COROSYNC_CONF,
                      _rename(line, {conf: COROSYNC_CONF, key: COROSYNC_KEY}), node)
    return _problems("corosync -t", found)


# -- Pacemaker (crm shell) ------------------------------------------------
AGENT_DIRS = {"ocf": OCF_RESOURCE_D, "lsb": LSB_INIT_D, "stonith": STONITH_D}


def _agent_overlays(agents, tmp):
    """Directories shaped like resource.d, init.d and /usr/sbin holding the agents not installed yet.

    agents maps "ocf:PROVIDER:TYPE", "lsb:NAME" or "stonith:NAME" to a
    script; the result is (ocf_dir, lsb_dir, stonith_dir), "" where nothing
    needs laying over the host's own.
    """
    dirs = {"ocf": "", "lsb": "", "stonith": ""}
    for name, script in agents.items():
        standard, *rest = name.split(":")
        if standard not in dirs or len(rest) != (2 if standard == "ocf" else 1):
            raise ValueError(f"only ocf:PROVIDER:TYPE, lsb:NAME and stonith:NAME agents can be provided, not {name}")
        if not os.path.isfile(script):
            raise NotFound(f"agent {name}: {script} does not exist")
        if _installed_as(name, script):
            continue
        tmp.symlink(os.path.join(standard, *rest), os.path.abspath(script))
        dirs[standard] = tmp.path(standard)
    return dirs["ocf"], dirs["lsb"], dirs["stonith"]


def _installed_as(name, script):
    standard, *rest = name.split(":")
    installed = os.path.join(AGENT_DIRS[standard], *rest)
    return os.path.exists(installed) and os.path.samefile(installed, script)


# Summaries that follow the real reasons: dropped unless they are all there is.
_CRM_GENERIC = ("Errors found during check", "CIB did not pass schema validation")


def _crm_message(line):
    """The diagnostic of a crmsh or crm_verify line: "(function)" prefixes removed."""
    return re.sub(r"^(?:ERROR:\s*|error:\s*)?(?:\([^)]*\)\s*)?", "", line).strip()


def pacemaker_major(system, crm_verify):
    """The major version of this host's Pacemaker tools (crm_verify --version), or None."""
    done = system.run([crm_verify, "--version"], rcs=None, timeout=30)
    m = re.search(r"^Pacemaker (\d+)\.", done.stdout + done.stderr, re.M)
    return int(m.group(1)) if m else None


def verify_crm(system, text, agents, keep_cib=None, legacy=False):
    """crmsh loads the configuration into an empty CIB file, then crm_verify checks the result.

    ``keep_cib``: a path to copy the loaded CIB to when the load succeeded (the
    placement tests simulate on it with crm_simulate).  ``legacy``: the
    Pacemaker 1.x syntax of the heartbeat stack (ms, Master/Slave), which
    Pacemaker 3 (Debian 13) and its crmsh 5 no longer read: not verifiable there.
    """
    crm = system.require("crm", "crmsh")
    cibadmin = system.require("cibadmin", "pacemaker-cli-utils")
    crm_verify = system.require("crm_verify", "pacemaker-cli-utils")
    if legacy and (pacemaker_major(system, crm_verify) or 0) >= 3:
        raise NotVerifiable(f"{CRM_FILE} was not checked: it is written for the heartbeat stack's Pacemaker 1.x "
                            "(ms resources, Master/Slave roles), which this host's Pacemaker 3 and crmsh no "
                            "longer read; run `uec-clc-ha-ctl check` on the Heartbeat nodes")
    secrets = _secrets_in(text, r'\b\w*(?:pass|secret)\w*=("[^"]*"|\S+)')
    found = {}
    with Scratch(SCRATCH) as tmp:
        home, log = tmp.mkdir("home"), tmp.mkdir("log")
        source = tmp.write("cluster.crm", text)
        empty = system.run([cibadmin, "--empty"], timeout=30).stdout
        # A CIB file has no quorum, which crmsh would report as an ERROR line;
        # a running pair (two_node quorum) has it.
        cib = tmp.write("cib.xml", empty.replace("<cib ", '<cib have-quorum="1" ', 1))
        env = {"CIB_file": cib, "HOME": home, "TMPDIR": tmp.dir,
               "PYTHONPATH": ":".join(p for p in (LIBRARY_DIR, os.environ.get("PYTHONPATH")) if p)}
        overlays = _agent_overlays(agents, tmp)
        load = [crm, "-n", "-D", "plain", "configure", "load", "update", source]
        if private_mounts_possible():
            done = _in_namespace(system, ["--mount"], _CRM_SH, [*overlays, log, *load],
                                 "crm configure load update", env=env, timeout=600)
        elif any(overlays):
            missing = sorted(name for name, script in agents.items() if not _installed_as(name, script))
            raise NotVerifiable(f"{CRM_FILE} was not checked: the agents {', '.join(missing)} are not installed "
                                "here, and in a chroot whose / is not a mount point they cannot be laid over "
                                "privately; run `uec-clc-ha-ctl check` on the running system")
        else:
            done = system.run(load, rcs=None, env=env, timeout=600)
        # crmsh's own ERROR lines; crmsh 5 (Debian 13) also passes on crm_verify's "error: ..." lines
        errors = [_crm_message(line) for line in _tool_lines(done.stdout + "\n" + done.stderr, secrets)
                  if ("ERROR:" in line and not re.search(r"ERROR:\s*(\([^)]*\)\s*)?warning:", line))
                  or line.startswith("error:")]
        tool = "crm configure load"
        if done.rc == 0:            # crmsh committed: crm_verify sees the whole CIB
            tool = "crm_verify"
            done = system.run([crm_verify, "-x", cib, "-V"], rcs=None, env=env, timeout=60)
            errors = [_crm_message(line) for line in _tool_lines(done.stderr + "\n" + done.stdout, secrets)
                      if re.search(r"\berror:", line)]
            if keep_cib:
                tmp.copy_out("cib.xml", keep_cib)
        if done.rc != 0 and not errors:
            errors = [f"rejected the configuration (exit {done.rc})"]
        for message in errors:
            if not any(g in message for g in _CRM_GENERIC) or len(errors) == 1:
                _note(found, CRM_FILE, _rename(message, {source: CRM_FILE}))
    return _problems(tool, found)


# -- Heartbeat (legacy) ---------------------------------------------------
def _heartbeat_interfaces(ha_cf):
    """Interface names the media lines (bcast, mcast, ucast) need."""
    names = []
    for line in ha_cf.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1 and words[0] in ("bcast", "mcast", "ucast"):
            for name in words[1:] if words[0] == "bcast" else words[1:2]:
                if re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", name) and name != "lo" and name not in names:
                    names.append(name)
    return names


def verify_heartbeat(system, ha_cf_text, authkeys_text, node_names):
    """Heartbeat's start-up validation of ha.cf and authkeys, as each node, in private namespaces.

    Heartbeat has no test flag: it is started on a copy with ``crm no`` and
    an empty haresources (``crm respawn`` wants Pacemaker 1.x, which a
    current host does not have; every other directive is checked the same
    way), prints "Configuration validated" or fails with exit 6, and dies
    with its PID namespace.  The authkeys copy is always mode 0600: the mode
    is the renderer's business, not part of the text.
    """
    heartbeat = next((b for b in HEARTBEAT_BINARIES if os.access(b, os.X_OK)), None)
    if not heartbeat:
        raise NotVerifiable(f"{HA_CF} and {HA_AUTHKEYS} were not checked: heartbeat is not installed here "
                            "(the heartbeat stack is for legacy Pacemaker 1.x systems; install heartbeat "
                            "there and run `uec-clc-ha-ctl check`)")
    if not private_mounts_possible():
        raise NotVerifiable(f"{HA_CF} and {HA_AUTHKEYS} were not checked: heartbeat can only be test-started "
                            "in private mounts, which a chroot whose / is not a mount point cannot have; run "
                            "`uec-clc-ha-ctl check` on the running system")
    system.require("ip", "iproute2")
    secrets = _secrets_in(authkeys_text, r"^\s*\d+\s+\S+\s+(\S+)")
    ha_cf = re.sub(r"^\s*(crm|pacemaker)\s.*$", "crm no", ha_cf_text, flags=re.M)
    found = {}
    with Scratch(SCRATCH) as tmp:
        conf, scratch = tmp.mkdir("ha.d"), tmp.mkdir("scratch")
        tmp.write("ha.d/ha.cf", ha_cf, 0o644)
        tmp.write("ha.d/authkeys", authkeys_text, 0o600)
        tmp.write("ha.d/haresources", "", 0o644)
        for node in node_names:
            done = _in_namespace(system, ["--mount", "--uts", "--net", "--ipc", "--pid", "--fork", "--kill-child",
                                          "--mount-proc"], _HEARTBEAT_SH,
                                 [node, conf, scratch, heartbeat, *_heartbeat_interfaces(ha_cf)],
                                 "heartbeat", timeout=20)
            output = done.stdout + "\n" + done.stderr
            if done.rc == 0 and "Configuration validated" in output:
                continue
            errors = [m.group(1).strip().replace("/etc/ha.d//", "/etc/ha.d/")
                      for m in map(re.compile(r"ERROR: (.*)").search, _tool_lines(output, secrets)) if m]
            lines = ([e for e in errors if not e.startswith(_HEARTBEAT_GENERIC)] or errors
                     or [f"did not start (exit {done.rc})"])
            # ha.cf is checked first; authkeys only once ha.cf passed.
            field = HA_AUTHKEYS if "Authentication configuration error." in output else HA_CF
            for line in lines:
                _note(found, field, line, node)
    return _problems("heartbeat", found)

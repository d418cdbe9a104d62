"""The one-way flow every command shares: settings -> validate -> render -> verify -> plan -> apply.

Called by the uec-clc-ha-ctl subcommands, the maintainer helpers
(uec_clc_ha.maint) and the cluster steps (cluster-init, adopt).  Each stage
is a function of the previous stage's result; nothing is written before
validation and verification have passed.
"""

import os
import sys
from dataclasses import dataclass

from uec_clc_ha.config import keyring, render, settings, settings_file, verify
from uec_clc_ha.errors import NotVerifiable, Refused
from uec_clc_ha.host import detect
from uec_clc_ha.host.managed_files import diverted_by_us, is_conffile_of
from uec_clc_ha.host.paths import PACKAGE, SETTINGS_PATH
from uec_clc_ha.host.system import System

AGENT_PATH = "/usr/lib/ocf/resource.d/ubuntu/eucaclc"
SOURCE_AGENT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "ocf",
                            "eucaclc")          # src/ocf/eucaclc, beside the package in a source tree
PROBE_PATH = "/usr/sbin/fence_uec_clc_ha_probe"
SOURCE_PROBE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "sbin",
                            "fence_uec_clc_ha_probe")     # src/sbin/ in a source tree


@dataclass(frozen=True)
class Build:
    """A validated, resolved configuration and everything rendered from it."""

    config: object
    facts: object
    files: dict


@dataclass(frozen=True)
class Change:
    """What apply would do to one file: create, update, mode (owner/mode only) or unchanged."""

    action: str
    new: object       # RenderedFile
    old: bytes = None

    @property
    def path(self):
        return self.new.path


def settings_location(system, settings_path=None):
    """(System, path) of the settings file: an explicit real path, or the root's own file."""
    if settings_path:
        return System("/"), os.path.abspath(settings_path)
    return system, SETTINGS_PATH


def load_raw(system, settings_path=None):
    """Raw settings (defaults filled in) from the settings file."""
    where, path = settings_location(system, settings_path)
    return settings_file.load(where, path)


def build(system, raw, facts=None):
    """Validate (every problem at once), resolve "auto" on this host, and render."""
    config = settings.require_valid(raw)
    facts = facts or detect.host_facts(system)
    config = settings.resolve(config, facts)
    keys = keyring.derive(config.cluster_secret, config.cluster_name)
    return Build(config, facts, render.render_all(config, keys))


def agents(system):
    """Agents crm verification must see that the checking host may not have installed.

    Ours comes from the root (installed) or from the source tree.  On a
    root other than / (a tree being prepared), the root's own init scripts
    stand for the lsb: agents the configuration names.
    """
    found = {"ocf:ubuntu:eucaclc": system.path(AGENT_PATH) if system.exists(AGENT_PATH) else SOURCE_AGENT,
             "stonith:fence_uec_clc_ha_probe": system.path(PROBE_PATH) if system.exists(PROBE_PATH) else SOURCE_PROBE}
    if not system.is_live:
        for name in system.listdir("/etc/init.d"):
            found[f"lsb:{name}"] = system.path(f"/etc/init.d/{name}")
    return found


def _warn_stderr(message):
    sys.stderr.write(f"uec-clc-ha: WARNING: {message}\n")


def check(system, built, warn=_warn_stderr):
    """Every problem the real checkers find in the rendered files (empty when all pass).

    Each file goes to the checker of its kind; kinds without a real checker
    (modules-load, the eucalyptus.conf fragment, network stanzas) are fully
    determined by validated settings.  A checker that cannot judge its file
    here (verify.NotVerifiable) is reported through ``warn`` and its file
    counts as not verified, never as passed.  Returns the Problems (a list
    that also names the unverified files).
    """
    c, files = built.config, built.files
    names = [n.name for n in c.nodes]
    by_kind = {f.kind: f for f in files.values()}
    problems, unverified = Problems(), []

    def judge(kinds, run):
        try:
            problems.extend(run())
        except NotVerifiable as e:
            unverified.extend(by_kind[k].path for k in kinds)
            warn(str(e))

    if "drbd" in by_kind:
        judge(["drbd"], lambda: verify.verify_drbd(system, by_kind["drbd"].content.decode(), c.drbd_resource,
                                                   names, c.drbd_version))
    if "corosync" in by_kind:
        judge(["corosync", "corosync-key"], lambda: verify.verify_corosync(
            system, by_kind["corosync"].content.decode(), by_kind["corosync-key"].content, names))
    if "ha.cf" in by_kind:
        judge(["ha.cf", "authkeys"], lambda: verify.verify_heartbeat(
            system, by_kind["ha.cf"].content.decode(), by_kind["authkeys"].content.decode(), names))
    if "crm" in by_kind:
        judge(["crm"], lambda: verify.verify_crm(system, by_kind["crm"].content.decode(), agents(system),
                                                 legacy=c.cluster_stack == "heartbeat"))
    problems.unverified = tuple(unverified)
    return problems


class Problems(list):
    """The problems the checkers found, and (``unverified``) the files no checker could judge here."""

    unverified = ()


def plan(system, files):
    """Changes that would bring the root's files to the rendered ones, in path order."""
    changes = []
    for path in sorted(files):
        new = files[path]
        old = system.read_or_none(path)
        if old is None:
            changes.append(Change("create", new))
            continue
        st = system.stat(path)
        same_meta = (st.st_mode & 0o7777 == new.mode and
                     (os.geteuid() != 0 or (st.st_uid, st.st_gid) == (system.uid(new.owner), system.gid(new.group))))
        if old != new.content:
            changes.append(Change("update", new, old))
        elif not same_meta:
            changes.append(Change("mode", new, old))
        else:
            changes.append(Change("unchanged", new, old))
    return changes


def refuse_foreign_conffiles(system, changes, force):
    """Policy 10.7.4: never overwrite another package's conffile unless we diverted it (or --force).

    Returns the paths written only because of --force, so the caller can say so.
    """
    blocked = [c for c in changes if c.action != "unchanged" and c.new.conffile_of
               and is_conffile_of(system, c.new.conffile_of, c.path)
               and not diverted_by_us(system, c.path)]
    if blocked and not force:
        owners = ", ".join(f"{c.path} (a conffile of {c.new.conffile_of})" for c in blocked)
        raise Refused(f"{owners} is not diverted by {PACKAGE}; nothing was changed. The {PACKAGE} "
                      "package's postinst diverts it with dpkg-divert; or run `uec-clc-ha-ctl apply --force` "
                      "to overwrite it anyway.")
    return [c.path for c in blocked]


def apply(system, changes):
    """Write what changed, atomically, with owner and mode; returns the changes made."""
    done = []
    for change in changes:
        f = change.new
        if change.action in ("create", "update"):
            system.write_atomic(f.path, f.content, mode=f.mode, owner=f.owner, group=f.group)
            done.append(change)
        elif change.action == "mode":
            system.set_owner_mode(f.path, f.mode, f.owner, f.group)
            done.append(change)
    return done

"""Moving the Cloud Controller's data onto DRBD and back (the recipe's steps 4.6 and 4.7), crash-safe.

Called by the uec-clc-ha-ctl subcommands migrate-data, prepare-secondary and
restore-data (and by the postinst when the admin answered yes).  The recipe
did `mv` and `rm -fr`; here nothing is ever deleted that has not been copied
and verified, and every step is recorded in a journal first, so a run killed
at any moment is finished (or rolled back) by running the command again.

migrate-data, for each data directory D (e.g. /var/lib/eucalyptus), on the
Primary with the DRBD filesystem mounted at M and Eucalyptus stopped:

  copying    cp -a into M/.uec-clc-ha-incoming/NAME (a partial copy is
             thrown away and redone)
  copied     verify: every entry's content hash and metadata, both trees
  verified   rename the copy to M/NAME
  placed     rename D to D.uec-clc-ha-backup-STAMP (kept until
             --discard-backup)
  backed-up  symlink D -> M/NAME (the recipe's layout)
  linked     done

Each transition is journaled (fsynced) before the next file-system change,
and each change is a single rename or symlink whose effect the next run can
see, so resuming never repeats a step that destroys anything.
"""

import datetime
import json
import os
import threading
import time

from uec_clc_ha.data import drbd_state, tree_manifest
from uec_clc_ha.data.progress import Progress
from uec_clc_ha.errors import CommandFailure, Refused, UecError
from uec_clc_ha.host.paths import (MANIFESTS, MIGRATION_JOURNAL, MIGRATION_LOCK, RESTORE_JOURNAL, SECONDARY_JOURNAL,
                                   STATE_DIR)

JOURNAL = MIGRATION_JOURNAL
LOCK = MIGRATION_LOCK
INCOMING = ".uec-clc-ha-incoming"
BACKUP_MARK = ".uec-clc-ha-backup-"
SPACE_RESERVE = 0.05          # keep 5 % of the DRBD filesystem free


class MigrationFailed(UecError):
    """A copy did not verify, or a step found the trees in a state it cannot explain."""


def _no_crash(name):
    pass


class Context:
    """What every step needs: the host, the settings, where to talk, and the crash hook of the tests."""

    def __init__(self, system, config, out, checkpoint=_no_crash):
        self.system, self.config, self.out, self.checkpoint = system, config, out, checkpoint

    def say(self, message):
        self.out.write(message + "\n")
        self.out.flush()

    def name(self, directory):
        return os.path.basename(directory)

    def target(self, directory):
        return f"{self.config.mount_point}/{self.name(directory)}"

    def incoming(self, directory):
        return f"{self.config.mount_point}/{INCOMING}/{self.name(directory)}"


# -- journal and low-level steps ------------------------------------------------
def _load(system, path):
    data = system.read_or_none(path)
    return json.loads(data) if data else None


def _save(ctx, path, journal):
    ctx.system.write_atomic(path, json.dumps(journal, indent=1, sort_keys=True) + "\n", mode=0o600)


def _is_link_to(system, path, target):
    link = system.readlink(path)
    return link is not None and link.rstrip("/") == target


def copy_tree(ctx, src, dst, label, alongside=None, sizes=None):
    """cp -a (hard links, sparse files, ACLs, xattrs, times) with progress from the target's usage.

    Returns the tree's apparent size in bytes (the verification's total).
    ``alongside`` runs on a thread while cp copies (the source's manifest: the
    source cannot change, Eucalyptus is stopped), and is waited for.
    ``sizes``: (apparent, allocated) when the caller has measured the tree already.
    """
    system = ctx.system
    apparent, allocated = sizes or tree_manifest.total_bytes(system.path(src))
    system.makedirs(os.path.dirname(dst), mode=0o700)

    def used():
        st = system.statvfs(os.path.dirname(dst))
        return (st.f_blocks - st.f_bfree) * st.f_frsize

    start = used()
    bar = Progress(f"copying {label}", allocated, ctx.out)
    # --sparse=auto keeps every hole of a sparse source (cp finds them with SEEK_HOLE) without
    # scanning every block of every file for zeros, as --sparse=always would.
    argv = ["cp", "-a", "--sparse=auto", "--reflink=never", "--no-target-directory",
            system.path(src), system.path(dst)]
    proc = system.spawn(argv)
    stderr = []
    reader = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    reader.start()
    helper = threading.Thread(target=alongside, daemon=True) if alongside else None
    if helper:
        helper.start()
    ctx.checkpoint("copy")                           # cp is running: a crash here leaves a partial copy
    while proc.poll() is None:
        bar.update(max(0, used() - start))
        ctx.checkpoint("copy")
        time.sleep(0.2)
    reader.join()
    if helper:
        helper.join()
    if proc.returncode != 0:
        raise CommandFailure(argv, proc.returncode, (stderr[0] if stderr else b"").decode("utf-8", "replace"))
    bar.update(max(0, used() - start))
    bar.finish()
    return apparent


def verified_manifest(ctx, src, dst, label, apparent, source=None):
    """The source's manifest, after proving the copy identical to it; MigrationFailed otherwise.

    ``source``: the source's manifest when it was taken during the copy;
    otherwise both trees are read here, in parallel.
    """
    bar = Progress(f"verifying {label}", apparent * (1 if source else 2), ctx.out)
    lock = threading.Lock()

    def hashed(n):
        with lock:
            bar.add(n)
        ctx.checkpoint("verify")

    results = {"src": source} if source else {}

    def run(key, path):
        results[key] = tree_manifest.manifest(ctx.system.path(path), hashed)

    todo = (("dst", dst),) if source else (("src", src), ("dst", dst))
    threads = [threading.Thread(target=run, args=(k, p)) for k, p in todo]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bar.finish()
    if "src" not in results or "dst" not in results:
        raise MigrationFailed(f"verifying {label} failed: a tree could not be read")
    problems = tree_manifest.differences(results["src"], results["dst"])
    if problems:
        raise MigrationFailed(f"the copy of {src} in {dst} differs from the original; nothing was switched "
                              "(run migrate-data again to copy it anew):\n  " + "\n  ".join(problems))
    return results["src"]


# -- preconditions ----------------------------------------------------------------
def _refuse_if_running():
    running = drbd_state.running_eucalyptus()
    if running:
        names = ", ".join(f"{name} (PID {pid})" for pid, name in running)
        raise Refused(f"Eucalyptus is running: {names}. Its data must not change while it moves: stop it "
                      "first (e.g. `service eucalyptus stop`, or `crm resource stop rg_uec` under the cluster), "
                      "then run this again.")


def _refuse_unless_primary_and_mounted(ctx):
    c = ctx.config
    role = drbd_state.role(ctx.system, c.drbd_resource)
    if role != "Primary":
        raise Refused(f"DRBD resource {c.drbd_resource} is {role} on this node, not Primary: run this on the "
                      f"node that holds the data, after `uec-clc-ha-ctl drbd-init` (or `drbdadm primary "
                      f"{c.drbd_resource}`).")
    if not drbd_state.mounted_from(ctx.system, c.mount_point, c.drbd_device):
        raise Refused(f"{c.drbd_device} is not mounted at {c.mount_point}: mount it first "
                      f"(`mount {c.drbd_device} {c.mount_point}`), then run this again.")


def _refuse_without_space(ctx, directories):
    """{directory: (apparent, allocated) bytes}, or Refused when they do not fit on the DRBD filesystem."""
    sizes = {d: tree_manifest.total_bytes(ctx.system.path(d)) for d in directories}
    needed = sum(allocated for _, allocated in sizes.values())
    st = ctx.system.statvfs(ctx.config.mount_point)
    free = st.f_bavail * st.f_frsize - int(SPACE_RESERVE * st.f_blocks * st.f_frsize)
    if needed > free:
        raise Refused(f"not enough space on {ctx.config.mount_point}: the data needs {needed // 2**20} MiB, "
                      f"{max(free, 0) // 2**20} MiB are free (keeping {SPACE_RESERVE:.0%} in reserve). "
                      "Use a larger DRBD disk, or clean up the data first.")
    return sizes


def _lock(system):
    """One data step at a time: a flock on LOCK, which an orphaned cp would still hold."""
    system.makedirs(STATE_DIR, mode=0o755)
    return system.exclusive_lock(LOCK, lambda: Refused(f"another data step is running (it holds {LOCK}); "
                                                       "wait for it to finish"))


def _confirm(yes, what):
    """Refuse a step that moves data unless --yes was given, saying what it would do."""
    if not yes:
        raise Refused(f"{what} Run it again with --yes to go ahead.")


def _stamp():
    return datetime.datetime.now().strftime("%Y%m%dT%H%M%S")


# -- migrate-data -------------------------------------------------------------------
def migrate(ctx, yes):
    c, system = ctx.config, ctx.system
    _confirm(yes, f"migrate-data copies {', '.join(c.data_directories)} onto the DRBD filesystem at "
                  f"{c.mount_point}, verifies the copies, and replaces the directories by symlinks (the "
                  "originals are kept as dated backups).")
    with _lock(system):
        journal = _load(system, JOURNAL)
        if journal and journal.get("complete"):
            ctx.say("nothing to do: the data was already migrated; backups: " +
                    ", ".join(d["backup"] for d in journal["dirs"].values() if d.get("backup")))
            return journal
        _refuse_if_running()
        _refuse_unless_primary_and_mounted(ctx)
        if journal is None:
            journal = {"stamp": _stamp(), "dirs": {}, "complete": False}
            for d in c.data_directories:
                if not system.exists(d):
                    ctx.say(f"{d} does not exist here: nothing to migrate for it")
                    continue
                if not system.is_dir(d):
                    raise Refused(f"{d} is not a directory (a symlink?): it may have been migrated by hand; "
                                  "check it, then run this again")
                if system.exists(ctx.target(d)):
                    raise Refused(f"{ctx.target(d)} already exists on the DRBD filesystem: migrate-data will "
                                  "not overwrite it. Move it away (or use prepare-secondary on the other node).")
                journal["dirs"][d] = {"state": "pending", "backup": f"{d}{BACKUP_MARK}{journal['stamp']}"}
            pending = [d for d, e in journal["dirs"].items() if e["state"] == "pending"]
            for d, sizes in _refuse_without_space(ctx, pending).items():
                journal["dirs"][d]["sizes"] = list(sizes)
            _save(ctx, JOURNAL, journal)
        for d, entry in journal["dirs"].items():
            _migrate_one(ctx, journal, d, entry)
        journal["complete"] = True
        _save(ctx, JOURNAL, journal)
        for d, entry in journal["dirs"].items():
            ctx.say(f"{d} -> {ctx.target(d)} (original kept as {entry['backup']})")
        return journal


def _advance(ctx, journal, entry, state):
    entry["state"] = state
    _save(ctx, JOURNAL, journal)
    ctx.checkpoint(state)


def _migrate_one(ctx, journal, d, entry):
    system = ctx.system
    incoming, target, backup = ctx.incoming(d), ctx.target(d), entry["backup"]
    source = {}
    if entry["state"] in ("pending", "copying"):
        _advance(ctx, journal, entry, "copying")
        if system.exists(incoming):
            system.remove_tree(incoming)          # a partial copy of ours, never the original

        def read_source():
            source["manifest"] = tree_manifest.manifest(system.path(d))
        entry["bytes"] = copy_tree(ctx, d, incoming, d, alongside=read_source, sizes=entry.get("sizes"))
        _advance(ctx, journal, entry, "copied")
    if entry["state"] == "copied":
        try:
            found = verified_manifest(ctx, d, incoming, d, entry.get("bytes", 0), source.get("manifest"))
        except MigrationFailed:
            _advance(ctx, journal, entry, "copying")
            raise
        system.makedirs(MANIFESTS, mode=0o700)
        system.write_atomic(f"{MANIFESTS}/{ctx.name(d)}.json", json.dumps(found), mode=0o600)
        _advance(ctx, journal, entry, "verified")
    if entry["state"] == "verified":
        if system.exists(incoming):
            system.rename(incoming, target)
        elif not system.exists(target):
            raise MigrationFailed(f"neither {incoming} nor {target} exists: the verified copy is gone")
        _advance(ctx, journal, entry, "placed")
    if entry["state"] == "placed":
        if system.is_dir(d):
            system.rename(d, backup)
        elif not system.is_dir(backup):
            raise MigrationFailed(f"neither {d} nor its backup {backup} is a directory")
        _advance(ctx, journal, entry, "backed-up")
    if entry["state"] == "backed-up":
        if not _is_link_to(system, d, target):
            system.symlink_atomic(d, target)
        _advance(ctx, journal, entry, "linked")


def rollback(ctx):
    """Undo an unfinished migration: originals back in place, partial copies removed."""
    system = ctx.system
    with _lock(system):
        journal = _load(system, JOURNAL)
        if not journal:
            ctx.say("nothing to roll back: no migration was started")
            return
        if journal.get("complete"):
            raise Refused("the migration finished, and Eucalyptus may have written to the DRBD copy since: "
                          "use `uec-clc-ha-ctl restore-data --yes` to bring the data back")
        _refuse_if_running()
        for d, entry in journal["dirs"].items():
            backup, target, incoming = entry["backup"], ctx.target(d), ctx.incoming(d)
            if _is_link_to(system, d, target):
                system.remove(d)
            if not system.exists(d) and system.is_dir(backup):
                system.rename(backup, d)
            if not system.is_dir(d):
                raise MigrationFailed(f"cannot roll back {d}: neither it nor {backup} is a directory")
            for copy in (incoming, target):
                if system.exists(copy):
                    system.remove_tree(copy)      # copies only: the original is back in place
            ctx.say(f"{d}: rolled back")
        system.remove(JOURNAL)


def discard_backup(ctx, yes):
    """Delete the kept originals once the migration is complete and each backup still matches its record."""
    system = ctx.system
    journal = _load(system, JOURNAL)
    if not journal or not journal.get("complete"):
        raise Refused("no completed migration: there is no backup to discard")
    _confirm(yes, "--discard-backup deletes the original directories kept at "
                  + ", ".join(e["backup"] for e in journal["dirs"].values()) + ".")
    with _lock(system):
        _refuse_unless_primary_and_mounted(ctx)
        for d, entry in journal["dirs"].items():
            backup = entry["backup"]
            if not system.exists(backup):
                continue
            if not (_is_link_to(system, d, ctx.target(d)) and system.is_dir(ctx.target(d))):
                raise Refused(f"{d} is not the symlink to {ctx.target(d)} that migrate-data made: "
                              f"keeping {backup}")
            recorded = json.loads(system.read(f"{MANIFESTS}/{ctx.name(d)}.json"))
            now = tree_manifest.manifest(system.path(backup))
            problems = tree_manifest.differences(recorded, now)
            if problems:
                raise Refused(f"{backup} no longer matches what was migrated; it is kept:\n  "
                              + "\n  ".join(problems))
            system.remove_tree(backup)
            ctx.say(f"discarded {backup} (it matched the verified migration record)")
            entry["backup"] = ""
        _save(ctx, JOURNAL, journal)


# -- prepare-secondary ----------------------------------------------------------------
def prepare_secondary(ctx, yes):
    """On the other node: local data directories aside (dated backups, never deleted), symlinks in place."""
    c, system = ctx.config, ctx.system
    _confirm(yes, f"prepare-secondary moves {', '.join(c.data_directories)} aside to dated backups and "
                  f"replaces them by symlinks into {c.mount_point}, where DRBD brings the data of the "
                  "other node.")
    with _lock(system):
        _refuse_if_running()
        journal = _load(system, SECONDARY_JOURNAL) or {"stamp": _stamp(), "dirs": {}}
        for d in c.data_directories:
            target = ctx.target(d)
            entry = journal["dirs"].setdefault(d, {"backup": f"{d}{BACKUP_MARK}{journal['stamp']}"})
            _save(ctx, SECONDARY_JOURNAL, journal)
            if _is_link_to(system, d, target):
                ctx.say(f"{d}: already a symlink to {target}")
                continue
            if system.is_dir(d):
                system.rename(d, entry["backup"])
                ctx.checkpoint("secondary-backed-up")
                ctx.say(f"{d}: moved aside to {entry['backup']}")
            elif system.exists(d):
                raise Refused(f"{d} is neither a directory nor our symlink: check it by hand")
            system.makedirs(os.path.dirname(d))
            system.symlink_atomic(d, target)
            ctx.say(f"{d} -> {target}")


# -- restore-data -----------------------------------------------------------------------
def restore(ctx, yes, from_backup=False):
    """The undo: the data back into real directories, from DRBD (default) or from the kept backup."""
    c, system = ctx.config, ctx.system
    source = "the kept backups (discarding everything written on DRBD since)" if from_backup else \
        f"the DRBD filesystem at {c.mount_point}"
    _confirm(yes, f"restore-data copies the data back from {source} into {', '.join(c.data_directories)} "
                  "and removes the symlinks.")
    with _lock(system):
        _refuse_if_running()
        # Kept originals: from migrate-data (the primary) or prepare-secondary (the other node).
        kept = {d: e.get("backup") for j in (SECONDARY_JOURNAL, JOURNAL)
                for d, e in (_load(system, j) or {"dirs": {}})["dirs"].items() if e.get("backup")}
        if not from_backup:
            _refuse_unless_primary_and_mounted(ctx)
        journal = _load(system, RESTORE_JOURNAL) or {"from_backup": from_backup, "dirs": {}}
        if journal["from_backup"] != from_backup:
            raise Refused("an unfinished restore-data used the other source; finish it with the same options")
        if not from_backup:
            _refuse_without_space_to_restore(ctx, journal)
        for d in c.data_directories:
            target = ctx.target(d)
            if system.is_dir(d) and d not in journal["dirs"]:
                ctx.say(f"{d}: already a real directory; nothing to restore")
                continue
            entry = journal["dirs"].setdefault(d, {"state": "pending"})
            _save(ctx, RESTORE_JOURNAL, journal)
            _restore_one(ctx, journal, d, entry, target, from_backup, kept.get(d))
        system.remove(RESTORE_JOURNAL)
        system.remove(JOURNAL)              # a later migrate-data starts afresh (and refuses an existing copy)
        system.remove(SECONDARY_JOURNAL)
        ctx.say("the data is back in place; Eucalyptus can run without the cluster (stop the cluster on this "
                "node and `apt-get remove uec-clc-ha` to give boot start-up back to it)")


RESTORE_RESERVE = 64 * 2**20      # bytes at least left free where the data goes back (/var holds the CIB, logs)


def _refuse_without_space_to_restore(ctx, journal):
    """Refused when the copies back from DRBD do not fit where they go, with a reserve left free.

    The copies land beside the data directories (on /var, usually, which
    also holds the CIB and the logs: a full /var stops the cluster's own
    writes).  Directories sharing a filesystem are counted together; a
    partial copy of an interrupted run is counted as free (it is redone).
    """
    system = ctx.system
    by_fs = {}
    for d in ctx.config.data_directories:
        state = journal["dirs"].get(d, {}).get("state", "pending")
        if (system.is_dir(d) and d not in journal["dirs"]) or state not in ("pending", "copying"):
            continue
        parent = os.path.dirname(d)
        _, needed = tree_manifest.total_bytes(system.path(ctx.target(d)))
        staged = system.path(f"{parent}/.{os.path.basename(d)}.uec-clc-ha-restore")
        _, partial = tree_manifest.total_bytes(staged) if os.path.isdir(staged) else (0, 0)
        fs = by_fs.setdefault(os.stat(system.path(parent)).st_dev, {"dirs": [], "needed": 0, "partial": 0,
                                                                     "at": parent})
        fs["dirs"].append(d)
        fs["needed"] += needed
        fs["partial"] += partial
    for fs in by_fs.values():
        st = system.statvfs(fs["at"])
        free = st.f_bavail * st.f_frsize + fs["partial"] - max(RESTORE_RESERVE, int(SPACE_RESERVE * st.f_blocks *
                                                                                    st.f_frsize))
        if fs["needed"] > free:
            raise Refused(f"not enough space for {', '.join(fs['dirs'])} back on the filesystem of {fs['at']}: "
                          f"the data needs {fs['needed'] // 2**20} MiB, {max(free, 0) // 2**20} MiB are free "
                          f"(keeping {max(RESTORE_RESERVE // 2**20, 0)} MiB or {SPACE_RESERVE:.0%} in reserve: a "
                          "full /var stops the cluster's own writes). Free space there, or copy the data back by "
                          "hand. Nothing was changed.")


def _restore_one(ctx, journal, d, entry, target, from_backup, backup):
    system = ctx.system
    parent, name = os.path.dirname(d), os.path.basename(d)
    staged = f"{parent}/.{name}.uec-clc-ha-restore"
    old_link = f"{parent}/.{name}.uec-clc-ha-symlink"

    def advance(state):
        entry["state"] = state
        _save(ctx, RESTORE_JOURNAL, journal)
        ctx.checkpoint(f"restore-{state}")

    if entry["state"] in ("pending", "copying"):
        if from_backup:
            if not backup or not system.is_dir(backup):
                raise Refused(f"no kept backup of {d} to restore from")
            staged = backup
            entry["staged"] = backup
            advance("verified")
        else:
            advance("copying")
            if system.exists(staged):
                system.remove_tree(staged)        # our partial copy
            apparent = copy_tree(ctx, target, staged, d)
            advance("copied")
            entry["bytes"] = apparent
    staged = entry.get("staged", staged)
    if entry["state"] == "copied":
        verified_manifest(ctx, target, staged, d, entry.get("bytes", 0))
        advance("verified")
    if entry["state"] == "verified":
        if system.readlink(d) is not None:
            system.rename(d, old_link)
        advance("unlinked")
    if entry["state"] == "unlinked":
        if not system.is_dir(d):
            system.rename(staged, d)
        advance("restored")
    if entry["state"] == "restored":
        if system.exists(old_link):
            system.remove(old_link)
        ctx.say(f"{d}: restored from {'its backup' if from_backup else target}")

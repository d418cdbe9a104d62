"""configure: what the postinst runs, in two phases around the diversions it makes itself.

Called by uec_clc_ha.maint.__main__ for debian/postinst (prepare, then
diversions, then install; dpkg-divert belongs in the maintainer script):

prepare   debconf answers + the existing settings file -> validate (every
          problem named) -> render -> verify with the real checkers.  Writes
          nothing but the pending settings (0600, in /var/lib/uec-clc-ha);
          exits 0, or 3 or 4 with the problems substituted into
          uec-clc-ha/settings-invalid.
diversions  prints the other packages' conffiles the pending settings
          need ("PATH DIVERTED-TO" lines), which the postinst diverts.
install   the pending settings file and every generated file through ucf,
          retired files removed, boot start-up, the data steps agreed to;
          where a cluster runs here, this node's facts published for
          doctor on the peer (uec_clc_ha.cluster.node_facts), and on a
          running pair (an upgrade) the evidence that this node is one of
          it kept (cluster.pairing: the prerm refuses on it).

Secrets: the password answers are cleared from debconf's database as soon
as prepare has read them, whatever happens next (debconf is not a place
for secrets, and a failing postinst must not leave one behind); from then
on they live only in the pending settings (0600) and the settings file.
How an answer becomes the settings' secret is config.changes' rule.

Running both again with the same answers changes no file.  An install that
was given no answers at all (nothing preseeded, noninteractive) is left
unconfigured: the commented settings file is installed and the admin is
told how to finish.
"""

import json
import os
import sys

from uec_clc_ha.cluster import arbiter, cluster_init, corosync_cmap, crm_mon, live_apply, node_facts, pairing
from uec_clc_ha.config import answers, changes as config_changes, join_token, pipeline, settings_file
from uec_clc_ha.data import drbd_init, drbd_state, migration
from uec_clc_ha.errors import Problem, UecError, ValidationError, VerifyError, Waiting
from uec_clc_ha.host import applied, boot, managed_files
from uec_clc_ha.host.paths import CRM_FILE, LAST_SETTINGS as LAST, PENDING_SETTINGS as PENDING, SETTINGS_PATH
from uec_clc_ha.maint import apt_guard

# With none of these answered, the pair has not been described yet.
DESCRIBING = ("Peer-Node", "Local-Address", "Peer-Address", "VIP")


def log(message):
    print(f"uec-clc-ha: {message}", file=sys.stderr)


def _pending(system):
    """The pending settings {"text", "generated"} of prepare, or None."""
    data = system.read_or_none(PENDING)
    if data is None:
        return None
    try:
        pending = json.loads(data)
    except ValueError:
        return None
    return pending if isinstance(pending, dict) and isinstance(pending.get("text"), str) else None


def _pending_secret(system):
    """(secret, generated) of the pending settings an interrupted run left, or ("", False)."""
    pending = _pending(system)
    if not pending:
        return "", False
    try:
        return settings_file.parse(pending["text"]).get("Cluster-Secret", ""), bool(pending.get("generated"))
    except UecError:
        return "", False


def _show_problems(db, problems):
    db.subst(answers.question("settings-invalid"), "problems", "; ".join(str(p) for p in problems))
    db.fset(answers.question("settings-invalid"), "seen", "false")


def prepare(system, db):
    try:
        changes, secrets, _ = answers.read(db)
    finally:
        answers.forget_secrets(db)          # read once; never left in debconf's database
    current = settings_file.parse(settings_file.read_text(system))
    fallback = _pending_secret(system)     # kept until this run's own pending settings replace it
    # The postinst shows the secret note only while it is unseen: unseen only when a secret is generated.
    note = answers.question("secret-generated")
    db.fset(note, "seen", "true")
    token = answers.join_token(db)
    if not token and not any(changes.get(k) or current.get(k) for k in DESCRIBING):
        system.remove(PENDING)
        return 0
    try:
        if token:
            changes = joined(system, token, changes, secrets, current)
        text, generated = config_changes.with_answers(system, changes, secrets, *fallback)
        built = pipeline.build(system, settings_file.parse(text))
        problems = pipeline.check(system, built)
        if problems:
            raise VerifyError(problems)
    except (ValidationError, VerifyError) as e:
        _show_problems(db, e.problems)
        raise
    system.write_atomic(PENDING, json.dumps({"text": text, "generated": bool(generated)}), mode=0o600)
    if token:
        answers.store(db, settings_file.parse(text))
    return 0


def joined(system, text, changes, secrets, current):
    """uec-clc-ha/join-token: this node's settings changes from the first node's token, opened with the secret
    answered (or the one the settings hold); this host's facts from their answers (debian/config offered the
    first node's).  ValidationError for a cut token, Refused for a wrong secret, an altered token, a token of
    another host or a node of another pair: nothing is written."""
    token = join_token.read(text)
    secret = secrets.get("Cluster-Secret") or current.get("Cluster-Secret")
    if not secret:
        raise ValidationError([Problem("Cluster-Secret", "is required to open the join token: enter the cluster "
                                                         f"secret of {token.first_node}")])
    join_token.authenticate(token, secret)
    join_token.fits(token, os.uname().nodename if system.is_live else changes.get("Local-Node"), current)
    values, _ = join_token.for_this_node(token, {k: changes.get(k, "") for k in join_token.HOST_FACTS})
    return values


def diversions(system, db=None):
    """Print "PATH DIVERTED-TO" for each other package's conffile the pending settings need (the
    postinst diverts them before install writes them); nothing when nothing is pending."""
    pending = _pending(system)
    if pending is None:
        return 0
    built = pipeline.build(system, settings_file.parse(pending["text"]))
    for path, f in sorted(built.files.items()):
        if f.conffile_of and path in managed_files.DIVERTED_TO:
            print(f"{path} {managed_files.DIVERTED_TO[path]}")
    return 0


def install(system, db):
    answers.forget_secrets(db)
    apt_guard.install_hook(system)
    _, _, actions = answers.read(db)
    pending = _pending(system)
    if pending is None:
        text = settings_file.updated_text(settings_file.read_text(system),
                                          {"Local-Node": db.get(answers.question("local-node"))})
        managed_files.Installer(system, log, "package").install(settings_file.as_rendered(text))
        record_last(system, text)
        log(f"not configured yet: answer the questions with `dpkg-reconfigure uec-clc-ha`, or fill in "
            f"{SETTINGS_PATH} (`uec-clc-ha-ctl set KEY=VALUE`) and run `uec-clc-ha-ctl apply`")
        return 0
    text = pending["text"]
    built = pipeline.build(system, settings_file.parse(text))
    if system.is_live and built.config.cluster_stack == "corosync":
        # before any file: a new arbiter that does not answer is refused with nothing written (apply's rule);
        # one the node votes through already is not asked (its host may be down)
        arbiter.prepare(system, built.config, say=log)
    installer = managed_files.Installer(system, log, "package")
    installer.install(settings_file.as_rendered(text))
    for path, result in installer.install_generated(built.files).items():
        if result == "installed":
            log(f"installed {path}")
    boot_step(system, actions["disable-boot-startup"])
    data_done = data_steps(system, built.config, actions, db)
    if not actions["disable-boot-startup"] and drbd_state.data_on_drbd(system):
        boot_step(system, False)              # migrate-data just moved the data: keep Eucalyptus out of boot
    if actions["start-cluster"]:
        start_step(system, built.config, data_done)
    running_cluster_step(system, built)
    record_last(system, text)
    system.remove(PENDING)
    answers.forget_join_token(db)
    if pending["generated"]:
        # Shown once by the postinst, which clears the variable right after (and on failure).
        note = answers.question("secret-generated")
        db.subst(note, "secret", settings_file.parse(text)["Cluster-Secret"])
        db.fset(note, "seen", "false")
    return 0


def boot_step(system, disable):
    """uec-clc-ha/disable-boot-startup: Eucalyptus out of boot start-up, or back as it was.

    Back only while its data is where Eucalyptus left it: with the data
    directories pointing into the DRBD filesystem, Eucalyptus started at boot
    would run on an unmounted or stale copy (the case the prerm refuses too).
    """
    linked = drbd_state.data_on_drbd(system)
    if disable or linked:
        boot.disable(system, log)
    if linked and not disable:
        log("boot start-up of Eucalyptus stays disabled although the answer was no: "
            f"{', '.join(linked)} point into the DRBD filesystem, so Eucalyptus started at boot would run on an "
            "unmounted or stale copy. `uec-clc-ha-ctl restore-data --yes` moves the data back; then answer no "
            "again (dpkg-reconfigure uec-clc-ha)")
    elif not disable:
        boot.restore(system, log)


def start_step(system, config, data_done):
    """uec-clc-ha/start-cluster: the cluster brought up here the first time only."""
    if brought_up(system):
        log("the cluster was brought up on this node before: the postinst leaves it as it is (running, or "
            "stopped by the admin). `uec-clc-ha-ctl apply --dry-run` shows what the running cluster has not "
            "taken yet, `uec-clc-ha-ctl apply` makes it take it, `uec-clc-ha-ctl cluster-init` starts it")
    elif data_done:
        cluster_step(system, config)
    else:
        log("the cluster was not started: a data step above did not finish; once it has, run "
            "`uec-clc-ha-ctl cluster-init --yes`")


def brought_up(system):
    """True once cluster-init, apply or adopt made the running cluster take cluster.crm on this node.

    The postinst brings the cluster up only the first time: an upgrade or a
    reconfigure never starts a stack the admin stopped, never loads a new
    CIB while the peer may still run the old package, and never waits for a
    cloud stopped on purpose.
    """
    return CRM_FILE in applied.applied(system)


def running_cluster_step(system, built):
    """Where the cluster runs here (an upgrade, dpkg-reconfigure, the install that just brought it up): the peer
    told that this node has the fencing probe, this node's facts published for doctor on the peer (from the
    settings file just installed, as doctor reads it), and a word when the running services still have the old
    files.  Nothing here fails the postinst."""
    if not system.is_live or crm_mon.read(system) is None:
        return
    other = corosync_cmap.running_cluster_name(system)
    if other not in (None, built.config.cluster_name):
        # Debian's own cluster, started by its packages, when no cluster-init ran (a data step not done)
        log(f"the cluster running here is {other!r}, not this pair's {built.config.cluster_name!r}: nothing is "
            "published into it; `uec-clc-ha-ctl cluster-init --yes` replaces it with this pair's")
        return
    pairing.note(system, built.config.local_node)       # an upgrade of a pair: the prerm refuses removal on it
    live_apply.tell_peer_of_probe(system, built.config)
    node_facts.publish_here(system, log)
    try:
        steps, _ = live_apply.plan(system, built.config, pipeline.plan(system, built.files))
    except UecError as e:
        log(f"the running cluster cannot take the new configuration as it is: {e}")
        return
    if steps:
        log("the running cluster has not taken the new configuration yet: once both nodes have it "
            "(the same upgrade or dpkg-reconfigure uec-clc-ha on each), run `uec-clc-ha-ctl apply` on each node; "
            "`uec-clc-ha-ctl apply --dry-run` shows what it will do")


class _Log:
    """A stream for the data steps' progress lines: they go to stderr with our prefix."""

    def write(self, text):
        for line in text.splitlines():
            if line.strip():
                log(line.strip())

    def flush(self):
        pass


def data_steps(system, config, actions, db=None):
    """The destructive steps the admin agreed to in debconf; a failure is reported, never fatal.

    Whatever happens to a step (done, refused, failed), the package stays
    configured, a step that did not finish is reported with the command to
    run later, and the answers are reset to false: they are one-shot, so a
    later upgrade or reconfigure never repeats a destructive step or blocks
    on a sync.  The secondary's drbd-init does not wait for the initial sync
    (DRBD runs it in the background).  Returns True when every agreed step
    finished.
    """
    primary = config.initial_primary == config.local_node
    steps = []
    if actions["initialize-drbd"]:
        steps.append(("drbd-init --yes", lambda: drbd_init.init(system, config, _Log(), yes=True, wait=False)))
    if actions["migrate-data"] and primary:
        steps.append(("migrate-data --yes",
                      lambda: migration.migrate(migration.Context(system, config, _Log()), yes=True)))
    if actions["prepare-secondary"] and not primary:
        steps.append(("prepare-secondary --yes",
                      lambda: migration.prepare_secondary(migration.Context(system, config, _Log()), yes=True)))
    try:
        for name, step in steps:
            try:
                step()
            except UecError as e:
                _not_done(name, str(e))
                return False
            except Exception as e:          # a bug must not leave the package unconfigured either
                _not_done(name, f"unexpected {type(e).__name__}: {e}")
                return False
        return True
    finally:
        if db is not None:
            answers.reset_one_shot(db)


MEMBERSHIP_WAIT = 30          # seconds the postinst waits for the peer to join before saying WAITING


def cluster_step(system, config):
    """uec-clc-ha/start-cluster: bring the cluster up; waiting for the peer or failing is reported, never fatal.

    The membership wait is short (MEMBERSHIP_WAIT): on the first node the peer
    is usually not installed yet, and its own postinst completes the pair;
    a peer whose stack already runs joins within seconds.
    """
    try:
        cluster_init.init(system, config, _Log(), yes=True, membership_wait=MEMBERSHIP_WAIT, serving_wait=600)
    except Waiting as e:
        log(f"WAITING: {e}")
    except UecError as e:
        _not_done("cluster-init --yes", str(e))
    except Exception as e:
        _not_done("cluster-init --yes", f"unexpected {type(e).__name__}: {e}")


def _not_done(name, why):
    log(f"NOT DONE: `uec-clc-ha-ctl {name}`: {why}")
    log(f"the package is configured; run `uec-clc-ha-ctl {name}` once the condition is fixed")


def record_last(system, text):
    system.write_atomic(LAST, settings_file.without_secrets(text), mode=0o600)

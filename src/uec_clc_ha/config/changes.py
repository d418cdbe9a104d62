"""The rules a change of the settings file must pass beyond each field's own: the cluster secret's policy.

Called by the maintainer helpers' prepare (uec_clc_ha.maint.configure),
which turns debconf's answers into the new settings text, and by
`uec-clc-ha-ctl set` (cli/set), which changes values the admin names.  Both
go through the same rules:

- a secret is generated only on the node answered as the initial primary;
  elsewhere an empty secret is a ValidationError asking for the first
  node's (a second, different secret would split the cluster from the start);
- nor with an Arbiter: the arbiter host must hold the secret before this
  node can enrol there, so a secret nobody has seen yet is refused for it;
- an empty secret answer keeps the secret the file has (debconf never
  holds it, so its empty answer means "unchanged");
- replacing a secret that is set is refused unless forced, since the pair
  is split until both nodes hold the new one;
- a change is refused for the problems it causes, never for problems the
  file had before that the change does not touch.
"""

from uec_clc_ha.config import keyring, settings, settings_file
from uec_clc_ha.errors import Problem, Refused, ValidationError

NO_SECRET_ON_SECOND_NODE = ("is required on this node, which does not hold the data first: enter the cluster "
                            "secret of the first node (shown once when uec-clc-ha was installed there; it is "
                            "in its /etc/uec-clc-ha/uec-clc-ha.conf). A second, different secret would split "
                            "the cluster from the start")
NO_GENERATED_SECRET_WITH_ARBITER = ("needs a cluster secret that the arbiter host holds already, and none is set "
                                    "here: enter the secret (the same on both nodes and, with "
                                    "uec-clc-ha-arbiter, on the arbiter host), or leave Arbiter empty now and "
                                    "add it later (uec-clc-ha-ctl set Arbiter=HOST, then apply on both nodes)")


def with_answers(system, changes, secrets, fallback_secret="", fallback_generated=False):
    """(new settings text, generated secret or None): the root's settings file with debconf's answers applied.

    ``fallback_secret``: the secret of an earlier run whose install failed
    before it wrote the settings file (its pending settings); with
    ``fallback_generated`` it was generated there and has not been shown yet.
    """
    text = settings_file.read_text(system)
    current = settings_file.parse(text)
    wanted = dict(changes, **secrets)
    generated = None
    if not wanted.get("Cluster-Secret") and not current.get("Cluster-Secret"):
        if fallback_secret:
            wanted["Cluster-Secret"] = fallback_secret
            generated = fallback_secret if fallback_generated else None
        elif changes.get("Initial-Primary") and changes.get("Initial-Primary") == changes.get("Local-Node"):
            if wanted.get("Arbiter", current.get("Arbiter")):
                raise ValidationError([Problem("Arbiter", NO_GENERATED_SECRET_WITH_ARBITER)])
            generated = wanted["Cluster-Secret"] = keyring.generate_secret()
        else:
            raise ValidationError([Problem("Cluster-Secret", NO_SECRET_ON_SECOND_NODE)])
    changed = {k: v for k, v in wanted.items() if v != current.get(k) and (v or k not in secrets)}
    return (settings_file.updated_text(text, changed) if changed else text), generated


def replaces_secret(before, changes, force):
    """True when changes replace a Cluster-Secret that is set; Refused unless ``force``."""
    replaces = bool(before.get("Cluster-Secret")) and "Cluster-Secret" in changes and \
        changes["Cluster-Secret"] != before["Cluster-Secret"]
    if replaces and not force:
        raise Refused("Cluster-Secret is already set; nothing was written. A new secret splits this node from "
                      "its peer until the same secret is set there too: if that is what you want, run this "
                      "again with --force, set the same secret on the other node, and only then run "
                      "`uec-clc-ha-ctl apply` on both.")
    return replaces


def problems_caused(before, changes):
    """(caused, remaining): the problems the changed settings have that the change caused (it is refused
    for those) and the ones it leaves as they were (said as a reminder)."""
    _, old_problems = settings.validate(before)
    _, new_problems = settings.validate(dict(before, **changes))
    caused = [p for p in new_problems if p.field in changes or p not in old_problems]
    return caused, [p for p in new_problems if p not in caused]

"""The debconf questions of uec-clc-ha and the settings they fill.

Used by uec_clc_ha.maint: the postinst reads the answers here and turns them
into settings changes; nothing else reads debconf.  The question names are
the preseed keys documented in doc/install.md.
"""

# question (without the "uec-clc-ha/" prefix) -> settings key
SETTINGS_QUESTIONS = {
    "local-node": "Local-Node",
    "peer-node": "Peer-Node",
    "local-address": "Local-Address",
    "peer-address": "Peer-Address",
    "vip": "VIP",
    "vip-prefix": "VIP-Prefix",
    "vip-interface": "VIP-Interface",
    "replication-interface": "Replication-Interface",
    "replication-local-address": "Replication-Local-Address",
    "replication-peer-address": "Replication-Peer-Address",
    "replication-prefix": "Replication-Prefix",
    "drbd-disk": "DRBD-Disk",
    "cluster-stack": "Cluster-Stack",
    "fencing": "Fencing",
    "sbd-device": "SBD-Device",
    "ipmi-local-address": "IPMI-Local-Address",
    "ipmi-peer-address": "IPMI-Peer-Address",
    "ipmi-user": "IPMI-User",
    "ping-hosts": "Ping-Hosts",
    "arbiter": "Arbiter",
}
# Password questions: an empty answer keeps what the settings file holds.
SECRET_QUESTIONS = {
    "cluster-secret": "Cluster-Secret",
    "ipmi-password": "IPMI-Password",
}
# Answers that ask for a step rather than hold a setting.
ACTION_QUESTIONS = ("initial-primary", "initialize-drbd", "migrate-data", "prepare-secondary",
                    "disable-boot-startup", "start-cluster")
# The first node's join token (config.join_token): the second node's settings from one line; used once.
JOIN_QUESTION = "join-token"
# Destructive steps: asked for once; reset once the postinst has acted on them.
ONE_SHOT_QUESTIONS = ("initialize-drbd", "migrate-data", "prepare-secondary")


def question(name):
    return f"uec-clc-ha/{name}"


def read(db):
    """(settings changes, secret answers, actions) from a debconf connection.

    ``db`` is a debconf.Debconf (or anything with get(question)).  Empty
    setting answers are kept as empty values (the settings rules then say
    what is missing); empty secret answers are left out.
    """
    changes = {key: db.get(question(q)).strip() for q, key in SETTINGS_QUESTIONS.items()}
    secrets = {}
    for q, key in SECRET_QUESTIONS.items():
        value = db.get(question(q))
        if value:
            secrets[key] = value
    actions = {q: db.get(question(q)) == "true" for q in ACTION_QUESTIONS}
    # "This node holds the data first" names the initial primary by name, as the settings do.
    changes["Initial-Primary"] = changes["Local-Node"] if actions["initial-primary"] else changes["Peer-Node"]
    return changes, secrets, actions


def forget_secrets(db):
    """Clear the password answers from debconf's database once they are in the settings file."""
    for q in SECRET_QUESTIONS:
        db.set(question(q), "")


def reset_one_shot(db):
    """Answer the destructive steps' questions "false" again once the postinst has acted on them."""
    for q in ONE_SHOT_QUESTIONS:
        db.set(question(q), "false")


def join_token(db):
    """The join token answered (preseeded or typed), or ""."""
    return db.get(question(JOIN_QUESTION)).strip()


def store(db, raw):
    """Answer every settings question as the settings ``raw`` say (after a join token filled them), so that a
    later dpkg-reconfigure starts from the settings, not from the token."""
    for q, key in SETTINGS_QUESTIONS.items():
        db.set(question(q), raw.get(key, ""))
    db.set(question("initial-primary"), "true" if raw.get("Initial-Primary") == raw.get("Local-Node") else "false")


def forget_join_token(db):
    """The join token has made the settings: a later reconfigure must not make them again over later changes."""
    db.set(question(JOIN_QUESTION), "")

"""Where uec-clc-ha keeps things on a host, and its names: the one home of every path and constant.

Imported by every layer above host/ (config, data, cluster, cli, maint)
and read at import only: nothing here touches the host.  Paths are as seen
from the root; System(root).path() prefixes them.
"""

# The Debian package: ucf's and dpkg-divert's owner name, and /var/lib/dpkg/info/PACKAGE.*.
PACKAGE = "uec-clc-ha"
# The OCF agent as the CIB names it.
AGENT = "ocf:ubuntu:eucaclc"

# -- the admin's files -----------------------------------------------------
SETTINGS_PATH = "/etc/uec-clc-ha/uec-clc-ha.conf"
SETTINGS_MODE = 0o600                      # it holds the shared cluster secret
CRM_FILE = "/etc/uec-clc-ha/cluster.crm"
VNET_FILE = "/etc/uec-clc-ha/eucalyptus-vnet.conf"
COROSYNC_CONF = "/etc/corosync/corosync.conf"
COROSYNC_AUTHKEY = "/etc/corosync/authkey"
# apt's hook that stops an upgrade of the cluster stack under the cloud (maint.apt_guard); written by the
# postinst, removed by the prerm on remove (not a conffile: it must go with the program it runs).
APT_HOOK_CONF = "/etc/apt/apt.conf.d/60uec-clc-ha"
APT_GUARD = "/usr/lib/uec-clc-ha/apt-guard"
REACH_ANY = "/usr/lib/uec-clc-ha/reach-any"   # the arbiter's heuristics (corosync.conf) and doctor
# The units apt_guard holds stopped (runtime masks) while dpkg upgrades a stopped cluster stack; gone at boot.
APT_HELD = "/run/uec-clc-ha/apt-held"

# -- state: journals and records (removed on purge) -------------------------
STATE_DIR = "/var/lib/uec-clc-ha"
# The maintainer scripts: prepare's pending settings (0600), and what the postinst last wrote
# without the secrets (debian/config seeds only values edited since).
PENDING_SETTINGS = f"{STATE_DIR}/pending-settings"
LAST_SETTINGS = f"{STATE_DIR}/settings.last"
# What the running services last took (host.applied).
APPLIED = f"{STATE_DIR}/applied.json"
CRM_LOADED = f"{STATE_DIR}/cluster.crm.loaded"
# Boot start-up of Eucalyptus as it was before the package disabled it (host.boot).
BOOT_STATE = f"{STATE_DIR}/boot-startup.json"
# The managed files' bookkeeping (host.managed_files).
STAGING = f"{STATE_DIR}/staging"
GENERATED_LIST = f"{STATE_DIR}/generated-files"
REPLACED = f"{STATE_DIR}/replaced"
# Another cluster's CIB (Debian's own "debian" cluster) set aside before this pair's first started here
# (cluster.stored_cib); debian/postrm puts it back on purge (it repeats this path).
SAVED_CIB = f"{REPLACED}/pacemaker-cib"
UCF_KEPT = f"{STATE_DIR}/ucf-kept"
# The destructive steps' journals (data.drbd_init, data.migration, cluster.adopt).
DRBD_INIT_JOURNAL = f"{STATE_DIR}/drbd-init.json"
MIGRATION_JOURNAL = f"{STATE_DIR}/migration.json"
SECONDARY_JOURNAL = f"{STATE_DIR}/secondary.json"
RESTORE_JOURNAL = f"{STATE_DIR}/restore.json"
MANIFESTS = f"{STATE_DIR}/manifests"
MIGRATION_LOCK = f"{STATE_DIR}/migration.lock"
ADOPT_JOURNAL = f"{STATE_DIR}/adopt.json"
# The cluster stack's units as they were before uec-clc-ha first enabled, disabled, started or stopped each
# (host.unit_record): one line "UNIT ENABLED-WORD ACTIVE-WORD"; debian/postrm reads it on purge (it
# repeats this path: the package's Python is gone by then).
CLUSTER_UNITS = f"{STATE_DIR}/cluster-units"
# This node saw itself and its peer members of a quorate partition (cluster.pairing): the prerm refuses
# removal on the evidence, whatever the cluster looks like then.
PAIRED = f"{STATE_DIR}/paired"

# -- permanent node attributes in the CIB (each written by the node it describes) ---------------
SETTINGS_ATTR = "uec-clc-ha-settings"      # doctor: sha256 of the settings both nodes must share
DISK_ATTR = "uec-clc-ha-disk-bytes"        # doctor: the size of the node's DRBD backing disk
RELEASE_ATTR = "uec-clc-ha-release"        # doctor: the node's Debian release and Pacemaker version
PAIRED_ATTR = "uec-clc-ha-paired"          # cluster.pairing: the peers the node saw in a quorate partition

# -- other packages' databases, read only ------------------------------------
DPKG_DIVERSIONS_DB = "/var/lib/dpkg/diversions"
DPKG_INFO = "/var/lib/dpkg/info"
UCF_HASHFILE = "/var/lib/ucf/hashfile"
UCF_REGISTRY = "/var/lib/ucf/registry"
# The CIB Pacemaker starts from on this node (cluster-init reads it while Pacemaker is stopped).
PACEMAKER_CIB = "/var/lib/pacemaker/cib/cib.xml"
PACEMAKER_SCHEMAS = "/usr/share/pacemaker"        # pacemaker-X.Y.rng: the CIB schemas this Pacemaker knows

# uec-clc-ha: build, test and benchmark entry points (see README.md).
#
#   make lab     the main job: two VMs become a serving Cloud Controller pair, a third VM its arbiter
#                (lab/labctl up)
#   make lab-down  stop the lab's VMs, remove its namespaces and taps
#   make test    everything, the lab included (installs its own dependencies with apt-get; as root),
#                but the long lab scenarios (marked lab_extended; CI gives make test 90 minutes) and
#                the passes of other pairs (lab_two_node, lab_ipmi)
#   make lab-test  every lab scenario, the long ones included (planned move, reconfigure, removal)
#   make check   quick loop: lint + unit tests
#   make deb     build dist/uec-clc-ha_<version>_all.deb (+ source) and run lintian
#   make bench   benchmarks: medians and ratios against in-run baselines
#   make lab-bench  failover on the lab pair: each fencing configuration against stock timings, crmsh's
#                   two-node defaults and the 2010 recipe (two labs: SBD, then IPMI; hours)
#   make golden  regenerate tests/golden/ after a deliberate template change
#   make generated  rewrite the generated files that ship (completion, man pages) from the code (tools/)

PYTHON := /usr/bin/python3
# The Debian release of the lab's two nodes (`make lab RELEASE=trixie`): trixie (Debian 13) or
# bookworm (12); empty: lab/lablib/config.py's DEFAULT_RELEASE.
RELEASE ?=
export UEC_CLC_HA_LAB_RELEASE := $(RELEASE)
# pytest.ini sets the paths (src, tests/support, lab, tools) for every pytest run.
PYTEST := $(PYTHON) -m pytest
export PATH := /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

BUILD_DEPS := debhelper dh-python python3-all python3-setuptools python3-debian python3-jinja2 python3-pytest \
	python3-psutil po-debconf dpkg-dev fakeroot lintian man-db git
LAB_DEPS := qemu-system-x86 qemu-utils debootstrap curl iproute2 e2fsprogs
TEST_DEPS := $(LAB_DEPS) python3-pytest acl pyflakes3 shellcheck libxml2-utils python3-stdeb \
	drbd-utils corosync pacemaker pacemaker-cli-utils crmsh heartbeat resource-agents fence-agents \
	ucf debconf-utils util-linux iproute2 openssl debootstrap arch-test piuparts autopkgtest tmux bash-completion \
	openipmi ipmitool sbd corosync-qnetd corosync-qdevice libnss3-tools

.PHONY: all deps deps-build deps-lab check lint unit integration test lab-test deb golden generated bench clean lab \
	lab-down lab-bench

all: check

deps-build:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BUILD_DEPS)

deps-lab: deps-build
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(LAB_DEPS)

deps: deps-build
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(TEST_DEPS)

lint:
	$(PYTHON) -m pyflakes src tests lab tools setup.py lab/guest-agent lab/bmc-chassis lab/standin/eucalyptus-cloud \
		lab/standin/image-store-proxy
	shellcheck -x lab/labctl tools/build-deb.sh tests/bench/shell_monitor .ci/run debian/config debian/postinst debian/uec-clc-ha-arbiter.config debian/uec-clc-ha-arbiter.postinst debian/uec-clc-ha-arbiter.postrm \
		debian/prerm debian/postrm src/completion/uec-clc-ha-ctl src/lib/apt-guard src/lib/drbd-handler src/lib/reach-any \
		src/lib/pacemaker-compat/cibadmin \
		lab/standin/package/etc/init.d/* lab/standin/package/DEBIAN/postinst lab/standin/package/DEBIAN/prerm

unit:
	$(PYTEST) -q tests/unit

check: lint unit

integration:
	$(PYTEST) -q tests/integration

# Everything, from a fresh Debian 12 machine: dependencies, lint, unit and integration tests
# (real drbdadm, corosync, crm_verify, heartbeat, the package build and lintian).
# The long lab scenarios are deselected (pytest prints how many): make lab-test runs them.
# The 25 slowest tests are listed at the end (what to look at when the run nears CI's limit).
test: deps lint
	$(PYTEST) -q --durations=25 -m 'not lab_extended and not lab_ipmi and not lab_two_node' tests

# Every scenario on the lab pair, the long ones included, in three passes of their own pair:
# the lab's default (SBD with the arbiter; brought up unless it serves), a two_node pair (SBD
# without an arbiter: its power loss and partitions, and the scenarios marked lab_two_node),
# and IPMI fencing (marked lab_ipmi).
lab-test: deps
	$(PYTEST) -q -m 'not lab_ipmi and not lab_two_node' tests/lab
	lab/labctl down
	UEC_CLC_HA_LAB_ARBITER=0 lab/labctl up
	UEC_CLC_HA_LAB_ARBITER=0 $(PYTEST) -q -m 'not lab_ipmi' tests/lab/test_lab_power_loss.py \
		tests/lab/test_lab_partition.py
	UEC_CLC_HA_LAB_ARBITER=0 $(PYTEST) -q -m 'lab_two_node' tests/lab
	lab/labctl down
	UEC_CLC_HA_LAB_FENCING=ipmilan $(PYTEST) -q -m lab_ipmi tests/lab

deb: deps-build
	tools/build-deb.sh

# The main job: two VMs (clc1, clc2) become a serving pair through apt-get install alone.
lab: deps-lab
	lab/labctl up

lab-down:
	lab/labctl down

# Benchmarks (not tests): medians and ratios against a baseline measured in the same run.
bench: deps
	PYTHONPATH=src:tests/support $(PYTHON) tests/bench/bench_monitor.py
	PYTHONPATH=src:tests/support $(PYTHON) tests/bench/bench_migration.py

lab-bench: deps-lab
	PYTHONPATH=lab:src $(PYTHON) lab/bench.py
	lab/labctl down
	UEC_CLC_HA_LAB_FENCING=ipmilan PYTHONPATH=lab:src $(PYTHON) lab/bench.py
	lab/labctl down

golden:
	PYTHONPATH=src:tests/support $(PYTHON) -m golden

generated:
	PYTHONPATH=src $(PYTHON) tools/generate.py

clean:
	rm -rf dist build deb_dist .pybuild src/*.egg-info .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

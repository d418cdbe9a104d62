"""The arbiter host's side of uec-clc-ha (the uec-clc-ha-arbiter package).

Owns: corosync-qnetd's certificate authority on the arbiter host, the
clusters allowed to enrol there (their enrolment keys), and the answers to
the nodes' enrolment requests (service), under the uec-clc-ha-arbiter
command (command).  Called by /usr/sbin/uec-clc-ha-arbiter and the
uec-clc-ha-arbiter package's maintainer scripts only; nothing on the nodes
imports it.
"""

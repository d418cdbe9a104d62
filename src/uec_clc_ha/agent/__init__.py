"""The OCF resource agent ocf:ubuntu:eucaclc and what it knows of the Cloud Controller.

Owns: the agent's actions returning explicit OCF codes (ocf), its meta-data
(meta; tools/generate.py makes its manual page from it), its parameters (params,
from eucalyptus.conf read by euca_conf without running it), the CLC's process
identity (clc_process), health requests (clc_health), start and stop
(clc_control, service_manager) and the agent's log (ocf_log).
Called by src/ocf/eucaclc on every action, and by the package's other
parts for the CLC's process and health.  It never imports config: the
agent runs every few seconds for years, and does no work at import.
"""

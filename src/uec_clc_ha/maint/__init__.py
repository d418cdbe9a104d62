"""What the maintainer scripts call: `python3 -m uec_clc_ha.maint ACTION`.

Owns: the sequencing of configure (configure: prepare, diversions,
install) and of removal (remove: prerm-remove), over the layers below
(config, data, cluster, host), like the CLI does for the admin's commands.
Called by debian/postinst and debian/prerm only, which stay thin sh; nothing
imports it.  __main__ maps the actions to them under the shared top-level
error handler (errors.guarded).
"""

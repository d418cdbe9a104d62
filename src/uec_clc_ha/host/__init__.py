"""This host, touched through one side-effect layer with a root prefix.

Owns: System(root), the only place files are written and commands run
(system); boot start-up of eucalyptus (boot); host facts that resolve
"auto" settings (detect); the generated files as conffiles, ucf and
diversions (managed_files); and the maintainer scripts' helpers (maint,
run as `python3 -m uec_clc_ha.host.maint` by debian/postinst and prerm).
Called by everything that reads or changes the host; unit tests give it a
temporary root.
"""

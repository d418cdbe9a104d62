"""This host, touched through one side-effect layer with a root prefix: the floor above errors.

Owns: System(root), the only place files are written, renamed, linked or
removed and commands run (system); where things live and what they are
called (paths); boot start-up of Eucalyptus (boot); the cluster stack's
units as they were before the package first changed them (unit_record);
host facts that resolve "auto" settings (detect); the generated files as
ucf-managed files and diversions (managed_files); and what the running
services last took from them (applied).  Imports nothing of the package but the error tree.
Called by every layer above (config, data, cluster, cli, maint); unit tests
give it a temporary root.
"""

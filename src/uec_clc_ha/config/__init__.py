"""The one settings model and everything derived from it, pure wherever it can be.

Owns: the fields and their rules (fields, settings), the deb822 settings
file (settings_file), the debconf questions that fill it (answers), the keys
derived from the cluster secret (keyring), rendering through Jinja2
(jinja_env, render), verification with the real tools (verify), and the
pipeline that strings them together: load, validate, resolve, render,
verify, plan, apply (pipeline), and the rules of a change to the file,
the cluster secret's among them (changes).
Called by the CLI's subcommands, the maintainer helpers (maint), the
cluster steps and the tests.
"""

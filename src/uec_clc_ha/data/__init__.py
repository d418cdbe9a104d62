"""The cloud's data on DRBD: bring-up, migration and restore, their manifests and progress.

Owns: creating the DRBD resource and its filesystem (drbd_init), moving the
data directories onto it and back, journaled and resumable (migration),
manifests that prove a copy complete (tree_manifest), progress of long
steps (progress), and reading DRBD's role and mounts (drbd_state).
Called by the CLI's drbd-init, migrate-data, prepare-secondary and
restore-data, by the maintainer helpers and by the cluster steps.
"""

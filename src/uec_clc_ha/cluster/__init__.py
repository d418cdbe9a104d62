"""The running pair: bringing it up, changing it live, reading its state, moving the cloud.

Owns: cluster-init's stages (cluster_init), bringing running services in
line with the generated files (live_apply), taking over a pair built by
hand (adopt), crm_mon's XML (crm_mon), the
pair's state from machine formats for status (pair_status), doctor's
checks (doctor) and the facts each node publishes for the peer's doctor
(node_facts), planned moves (moves) and pointing the other controllers
at the VIP (cloud_ip).
Called by the CLI's subcommands and the maintainer helpers.
"""

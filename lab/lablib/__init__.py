"""The two-node VM lab: two Debian 12 VMs become a Cloud Controller pair through `apt-get install` alone.

Used by lab/labctl (the lab's command: `make lab` runs `labctl up`),
by the lab tests (tests/lab/test_*.py) and the lab benchmarks.  Modules, in
the order `labctl up` uses them:

  config    names, addresses, ports, directories (one place)
  host      commands on this machine (argv lists, no shell), in the lab's namespaces
  image     the cached VM image: debootstrap + the cluster packages + the guest agent
  packages  the .debs the lab installs: ours (tools/build-deb.sh) and the stand-in eucalyptus-cloud
  net       the lab's network namespaces, bridges, taps and the client namespace
  vm        one qemu per node: disks, KVM probed, software emulation otherwise, QMP
  guest     the host side of the guest agent (commands and files over virtio-serial)
  pair      the bring-up: stand-in, preseed, apt-get install on each node, wait for the VIP
  timeline  what happened when, printed at the end
  state     the lab's record of what it started (pids, namespaces), for `down` and `status`

Nothing here touches this machine's own interfaces: every link lives in the
namespaces the lab creates, with addresses from 192.0.2.0/24 and
198.51.100.0/24 and no default route.
"""

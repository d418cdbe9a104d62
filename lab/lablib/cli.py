"""labctl: the two-node VM lab of uec-clc-ha (lab/README.md): the command's parser and actions.

Run by lab/labctl (python3 -m lablib.cli, with lab/ and src/ on Python's path); `make lab` runs `labctl up`.

  labctl up                          build what is missing, boot cc1, clc1 and clc2, install, wait for the VIP
                                     (UEC_CLC_HA_LAB_ARBITER=0: a pair without the arbiter host cc1)
  labctl down                        stop the VMs (by pid), remove the namespaces and taps
  labctl exec NODE [--timeout S] -- CMD...   CMD as root in the guest: its output and exit code
  labctl client [--timeout S] -- CMD...      CMD in the client namespace (curl; the VIP is reachable)
  labctl kill NODE                   power loss: the node's qemu is killed
  labctl boot NODE                   power on again (same disks)
  labctl link NODE public|replication down|up   (and management, with BMCs)
  labctl bmc NODE stop|start         with BMCs (UEC_CLC_HA_LAB_FENCING=ipmilan): a dead BMC, and back
  labctl status [--json]             each VM (running, qemu pid, addresses), the VIP, the lab's directories
  labctl capture STATE [--note TEXT] what `uec-clc-ha-ctl status` reads, from both nodes, as test fixtures
                                     (tests/fixtures/status/RELEASE/STATE/NODE.json)

NODE is clc1, clc2 or cc1 (the arbiter host: exec, kill, boot, link public, status; `boot cc1` on a lab
without it powers it on with a fresh disk).  Exit codes: a command's own for exec and client;
otherwise 0, 1 on failure, 2 on usage.
"""

import argparse
import json
import os
import sys

from lablib import capture, config, guest, host, net, pair, state, vm


def status():
    st = state.load()
    links = net.link_states()
    vms = {}
    for node, n in config.MACHINES.items():
        pid = vm.pid_of(node, st)
        alive = pid is not None
        if node == config.ARBITER and not alive and node not in st.get("vms", {}):
            continue                      # a lab without its arbiter host
        vms[node] = {"running": alive, "qemu_pid": pid, "public": n["public"],
                     "replication": n.get("replication"), "links": links[node],
                     "rss_mib": vm.rss_mib(pid) if alive else None,
                     "console": os.path.join(config.node_dir(node), "console.log")}
        if node == config.ARBITER:
            vms[node]["role"] = "arbiter"
        if vm.with_bmcs(st) and node in config.NODES:
            vms[node].update(management=n["management"],
                             bmc={"address": n["bmc"], "running": vm.bmc_pid(node, st) is not None})
    return {"vms": vms, "fencing": st.get("fencing", "sbd"), "vip": config.VIP, "client": {"namespace": config.CLIENT_NS, "address": config.CLIENT},
            "namespace": config.NAMESPACE, "accel": st.get("accel"), "directories": {
                "build": config.BUILD, "images": config.IMAGES, "dist": config.DIST, "run": config.RUN}}


def main(argv):
    p = argparse.ArgumentParser(prog="labctl", description="the uec-clc-ha two-node VM lab")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    e = sub.add_parser("exec")
    e.add_argument("node", choices=sorted(config.MACHINES))
    e.add_argument("--timeout", type=float, default=300)
    c = sub.add_parser("client")
    c.add_argument("--timeout", type=float, default=120)
    for name in ("kill", "boot"):
        sub.add_parser(name).add_argument("node", choices=sorted(config.MACHINES))
    b = sub.add_parser("bmc")
    b.add_argument("node", choices=sorted(config.NODES))
    b.add_argument("state", choices=("stop", "start"))
    li = sub.add_parser("link")
    li.add_argument("node", choices=sorted(config.MACHINES))
    li.add_argument("link", choices=net.LINKS)
    li.add_argument("state", choices=("down", "up"))
    s = sub.add_parser("status")
    s.add_argument("--json", action="store_true")
    cap = sub.add_parser("capture")
    cap.add_argument("state", help="a name for the pair's state: normal, failed-over, one-node-down, ...")
    cap.add_argument("--note", default="", help="what the pair was doing")
    command = []
    if argv[:1] and argv[0] in ("exec", "client"):
        if "--" not in argv:
            p.error(f"{argv[0]}: give the command after --")
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("labctl: needs root (namespaces, taps, qemu)", file=sys.stderr)
        return 1
    if args.cmd == "up":
        pair.up(sys.stdout)
    elif args.cmd == "down":
        pair.down(sys.stdout)
    elif args.cmd in ("exec", "client"):
        if not command:
            p.error("give the command after --")
        if args.cmd == "exec":
            r = guest.exec_(args.node, command, timeout=args.timeout)
            rc, out, err = r.rc, r.stdout, r.stderr
        else:
            try:
                done = host.run(host.in_ns(config.CLIENT_NS, command), check=False, timeout=args.timeout)
                rc, out, err = done.returncode, done.stdout, done.stderr
            except Exception as ex:             # a timeout: say so, as exec does
                rc, out, err = 124, "", f"labctl client: {ex}\n"
        sys.stdout.write(out)
        sys.stderr.write(err)
        return rc
    elif args.cmd == "kill":
        pid = vm.pid_of(args.node)
        print(f"{args.node}: {'power cut (qemu pid ' + str(pid) + ' killed)' if vm.kill(pid, args.node) else 'not running'}")
    elif args.cmd == "bmc":
        if not vm.with_bmcs():
            print("labctl bmc: this lab runs without BMCs (UEC_CLC_HA_LAB_FENCING=ipmilan at `labctl up`)",
                  file=sys.stderr)
            return 1
        if args.state == "stop":
            print(f"{args.node}'s BMC: {'stopped (it answers nothing now)' if vm.stop_bmc(args.node) else 'not running'}")
        else:
            print(f"{args.node}'s BMC: running (ipmi_sim pid {vm.start_bmc(args.node)})")
    elif args.cmd == "boot":
        st = state.load()
        if vm.pid_of(args.node, st):
            print(f"{args.node}: running already")
        else:
            fresh = args.node == config.ARBITER and args.node not in st.get("vms", {})
            pid = pair.boot(args.node, st["image"], st["accel"], fresh=fresh)
            print(f"{args.node}: powered on (qemu pid {pid})")
    elif args.cmd == "link":
        try:
            net.set_link(args.node, args.link, args.state == "up")
        except ValueError as e:
            print(f"labctl link: {e}", file=sys.stderr)
            return 2
        print(f"{args.node}: {args.link} link {args.state}")
    elif args.cmd == "capture":
        capture.capture(args.state, args.note, sys.stdout)
    elif args.cmd == "status":
        info = status()
        if args.json:
            json.dump(info, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            for node, v in info["vms"].items():
                rep = f", replication {v['replication']} ({v['links']['replication']})" if v["replication"] else \
                    " (the arbiter host)"
                print(f"{node}: {'running, qemu pid ' + str(v['qemu_pid']) if v['running'] else 'not running'}; "
                      f"public {v['public']} ({v['links']['public']}){rep}"
                      + (f"; qemu RSS {v['rss_mib']} MiB" if v["rss_mib"] else ""))
            print(f"VIP {info['vip']}; client {info['client']['address']} in namespace {info['client']['namespace']}")
            print(f"acceleration: {info['accel']}; directories: {info['directories']['run']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Parameters of ocf:ubuntu:eucaclc, from OCF_RESKEY_* with defaults from eucalyptus.conf.

Called by uec_clc_ha.agent.ocf at the start of every action.  Reading the
configuration never raises: a problem is recorded in ``config_problem`` so
that monitor can still work and validate-all can report it with the right
code (4 for permission).
"""

import os

from uec_clc_ha.agent import meta as agent_meta, euca_conf

DEFAULTS = {name: default for name, default, _, _ in agent_meta.PARAMETERS}
DEFAULT_TIMEOUTS = {name: int(timeout.rstrip("s")) for name, timeout, _, _ in agent_meta.ACTIONS}
DEFAULT_BINARY = "/usr/sbin/eucalyptus-cloud"


class Params:
    """The resolved parameters of one action (a plain class: dataclasses cost 6 ms to import)."""

    __slots__ = ("config", "eucalyptus", "binary", "user", "pidfile", "cloud_opts", "start_method",
                 "register_url", "heartbeat_url", "stop_grace", "output", "health_interval",
                 "health_stamp",     # where a monitor notes the daemon it last found healthy (HA_RSCTMP)
                 "config_problem",   # "" when the configuration was read (or is absent)
                 "timeout",          # this action's timeout in seconds (OCF_RESKEY_CRM_meta_timeout)
                 "interval",         # this monitor's interval in seconds (0: a probe)
                 "depth")            # OCF_CHECK_LEVEL

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values[name])


def _env(env, name):
    return env.get(f"OCF_RESKEY_{name}", "")


def _read_config(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return euca_conf.parse(fh.read()), ""
    except FileNotFoundError:
        return {}, ""
    except PermissionError:
        return {}, f"config {path} cannot be read: permission denied"
    except IsADirectoryError:
        return {}, f"config {path} is a directory, not a file"
    except OSError as e:
        return {}, f"config {path} cannot be read: {e.strerror}"


def _seconds(ms_text, fallback):
    try:
        value = int(ms_text) / 1000.0
    except ValueError:
        return float(fallback)
    return value if value > 0 else float(fallback)


def from_env(action, env=None):
    env = os.environ if env is None else env
    config = _env(env, "config") or DEFAULTS["config"]
    values, problem = _read_config(config)
    root = _env(env, "eucalyptus") or values.get("EUCALYPTUS") or "/"
    depth_text = env.get("OCF_CHECK_LEVEL", "0")
    return Params(
        config=config,
        eucalyptus=root,
        binary=_env(env, "binary") or os.path.join(root, "usr/sbin/eucalyptus-cloud"),
        user=_env(env, "user") or values.get("EUCA_USER") or "eucalyptus",
        pidfile=_env(env, "pidfile") or os.path.join(root, "var/run/eucalyptus/eucalyptus-cloud.pid"),
        cloud_opts=_env(env, "cloud_opts") or values.get("CLOUD_OPTS") or "--log-level=INFO",
        start_method=_env(env, "start_method") or DEFAULTS["start_method"],
        register_url=_env(env, "register_url") or DEFAULTS["register_url"],
        heartbeat_url=_env(env, "heartbeat_url") or DEFAULTS["heartbeat_url"],
        stop_grace=_env(env, "stop_grace"),
        health_interval=_env(env, "health_interval") or DEFAULTS["health_interval"],
        health_stamp=os.path.join(env.get("HA_RSCTMP") or "/run/resource-agents",
                                  f"eucaclc-{env.get('OCF_RESOURCE_INSTANCE') or 'default'}.health"),
        output=_env(env, "output") or os.path.join(root, "var/log/eucalyptus/cloud-output.log"),
        config_problem=problem,
        timeout=_seconds(env.get("OCF_RESKEY_CRM_meta_timeout", ""), DEFAULT_TIMEOUTS.get(action, 20)),
        interval=_seconds(env.get("OCF_RESKEY_CRM_meta_interval") or "0", 0),
        depth=int(depth_text) if depth_text.isdigit() else 0,
    )

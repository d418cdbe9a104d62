"""Meta-data of the OCF resource agent ocf:ubuntu:eucaclc.

Used by uec_clc_ha.agent.ocf for the meta-data action and for parameter
defaults.  Pure data; importing it does no work beyond building constants.
"""

PARAMETERS = (
    # name, default, short, long
    ("config", "/etc/eucalyptus/eucalyptus.conf", "Eucalyptus configuration file",
     "Shell-style eucalyptus.conf. It is parsed as NAME=value assignments, never executed. "
     "EUCALYPTUS, EUCA_USER and CLOUD_OPTS are taken from it where the parameters below are not set."),
    ("eucalyptus", "", "Eucalyptus install root",
     "Install root of Eucalyptus. Default: EUCALYPTUS from the configuration file, else /."),
    ("binary", "", "Path of the eucalyptus-cloud launcher",
     "The eucalyptus-cloud launcher. Default: $EUCALYPTUS/usr/sbin/eucalyptus-cloud."),
    ("user", "", "User the Cloud Controller runs as",
     "User the Cloud Controller drops privileges to. Default: EUCA_USER from the configuration file, "
     "else eucalyptus."),
    ("pidfile", "", "Pidfile of the Cloud Controller",
     "Pidfile naming the daemonized Cloud Controller. "
     "Default: $EUCALYPTUS/var/run/eucalyptus/eucalyptus-cloud.pid."),
    ("cloud_opts", "", "Extra options of the launcher",
     "Options given to the launcher before its own. Default: CLOUD_OPTS from the configuration file, "
     "else --log-level=INFO."),
    ("start_method", "auto", "How to start and stop the Cloud Controller",
     "direct (run the launcher as Eucalyptus' init script did), systemd (eucalyptus-cloud.service), "
     "upstart (the eucalyptus job), sysv (/etc/init.d/eucalyptus-cloud), or auto (what the host has; "
     "the choice is logged)."),
    ("register_url", "https://127.0.0.1:8443/register", "URL of the registration page",
     "Checked at monitor depth 10 and after start: it must answer and contain CloudVersion "
     "(certificate verification off, as euca_conf does)."),
    ("heartbeat_url", "http://127.0.0.1:8773/services/Heartbeat", "URL of the Heartbeat service",
     "Checked at monitor depth 20: it must list a local eucalyptus component."),
    ("output", "", "File for the Cloud Controller's standard output and error",
     "The launcher, and the Cloud Controller it daemonizes, keep the standard output and error they "
     "inherit; start sends them here (the launcher's -o and -e, and the output of a service manager's "
     "start command), never to a pipe the agent would wait on. "
     "Default: $EUCALYPTUS/var/log/eucalyptus/cloud-output.log."),
    ("stop_grace", "", "Seconds between SIGTERM and SIGKILL",
     "Seconds stop waits after SIGTERM before it kills the whole process group. Default: the stop "
     "timeout less 10 seconds (at least 5)."),
    ("health_interval", "0", "Seconds between the health checks of a recurring deep monitor",
     "A recurring monitor of depth 10 or more checks the process every time but fetches the health "
     "URLs only when this many seconds have passed since it last found this daemon healthy (0: every "
     "time). One recurring monitor then catches both a dead daemon (within its interval) and a hung "
     "one (within this interval), and a crash counts as one failure towards migration-threshold, "
     "where a second, deeper monitor that happens to run before the restart would count it twice. "
     "Probes, start, and monitors run by hand always check."),
)

ACTIONS = (
    ("start", "300s", None, None),
    ("stop", "120s", None, None),
    ("monitor", "30s", "20s", "0"),
    ("validate-all", "20s", None, None),
    ("reload", "20s", None, None),
    ("meta-data", "5s", None, None),
)


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def metadata_xml():
    """The agent's meta-data document (OCF resource agent API 1.1, ra-api-1.dtd)."""
    params = []
    for name, default, short, long_ in PARAMETERS:
        params.append(
            f'<parameter name="{name}" unique="0" required="0">\n'
            f'<longdesc lang="en">{_escape(long_)}</longdesc>\n'
            f'<shortdesc lang="en">{_escape(short)}</shortdesc>\n'
            f'<content type="string" default="{_escape(default)}" />\n'
            f"</parameter>")
    actions = []
    for name, timeout, interval, depth in ACTIONS:
        extra = ""
        if interval:
            extra += f' interval="{interval}"'
        if depth is not None:
            extra += f' depth="{depth}"'
        actions.append(f'<action name="{name}" timeout="{timeout}"{extra} />')
    return (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">\n'
        '<resource-agent name="eucaclc" version="1.0">\n'
        "<version>1.1</version>\n"
        '<longdesc lang="en">\n'
        "Starts, stops and monitors the Eucalyptus / Ubuntu Enterprise Cloud Cloud Controller "
        "(eucalyptus-cloud, a JVM: start-up takes minutes on slow hosts, so give start a generous "
        "timeout). Monitor depth 0 checks the process named by the pidfile; depth 10 also fetches "
        "register_url; depth 20 also checks that heartbeat_url lists the local component.\n"
        "</longdesc>\n"
        '<shortdesc lang="en">Eucalyptus Cloud Controller</shortdesc>\n'
        "<parameters>\n" + "\n".join(params) + "\n</parameters>\n"
        "<actions>\n" + "\n".join(actions) + "\n</actions>\n"
        "</resource-agent>\n")

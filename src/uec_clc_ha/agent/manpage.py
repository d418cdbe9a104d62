"""The manual page ocf_ubuntu_eucaclc(7), generated from the agent's own meta-data document.

Called by tests/golden_files.py (`make golden`) to write
debian/ocf_ubuntu_eucaclc.7 (installed by debian/uec-clc-ha.manpages), and
by the unit test that checks the shipped page is what the meta-data makes
now.  Like resource-agents' pages, it reads the XML the agent prints for
`meta-data` (agent_meta.metadata_xml), so the page cannot drift from what
Pacemaker and crm see.
"""

import xml.etree.ElementTree as ET

from uec_clc_ha import __version__
from uec_clc_ha.agent import meta as agent_meta

DATE = "2026-12-03"

EXAMPLE = r"""primitive res_uec ocf:ubuntu:eucaclc \e
    params start_method=auto health_interval=30 \e
    op start timeout=300s interval=0 \e
    op stop timeout=120s interval=0 \e
    op monitor interval=10s timeout=60s OCF_CHECK_LEVEL=10"""

EXIT_CODES = (
    ("0", "OCF_SUCCESS", "the action succeeded; monitor: the Cloud Controller runs (and answers, depth 10 and 20)"),
    ("1", "OCF_ERR_GENERIC", "it failed: monitor found the process but not its answer, or start's Cloud "
                             "Controller did not answer in time"),
    ("2", "OCF_ERR_ARGS", "a parameter has an invalid value"),
    ("3", "OCF_ERR_UNIMPLEMENTED", "an action the agent does not have"),
    ("5", "OCF_ERR_INSTALLED", "the launcher, the configuration file or a tool is missing on this node"),
    ("6", "OCF_ERR_CONFIGURED", "the configuration is wrong on every node"),
    ("7", "OCF_NOT_RUNNING", "monitor: the Cloud Controller is cleanly stopped"),
)


def roff_text(text):
    """Text for a roff paragraph: backslashes and hyphens escaped, no line starting with a control character."""
    text = " ".join(text.split()).replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line[:1] in (".", "'") else line for line in _wrap(text))


def _wrap(text, width=78):
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def page(xml_text=None):
    root = ET.fromstring(xml_text or agent_meta.metadata_xml())
    name = root.get("name")
    out = [f'.TH OCF_UBUNTU_{name.upper()} 7 {DATE} "uec\\-clc\\-ha {__version__}" "OCF resource agents"',
           ".SH NAME",
           f"ocf_ubuntu_{name} \\- {roff_text(root.findtext('shortdesc', ''))}",
           ".SH SYNOPSIS",
           f".B OCF_ROOT=/usr/lib/ocf OCF_RESKEY_\\fIparameter\\fB=\\fIvalue\\fB ... "
           f"/usr/lib/ocf/resource.d/ubuntu/{name}",
           ".RB { start | stop | monitor | validate\\-all | reload | reload\\-agent | meta\\-data }",
           ".SH DESCRIPTION",
           roff_text(root.findtext("longdesc", "")),
           ".PP",
           "Installed by the uec\\-clc\\-ha package, which generates the cluster configuration that uses it; "
           "see",
           ".BR uec\\-clc\\-ha\\-ctl (8).",
           ".SH PARAMETERS",
           "All parameters are optional (OCF_RESKEY_\\fIname\\fR in the environment)."]
    for p in root.findall("parameters/parameter"):
        content = p.find("content")
        default = content.get("default", "") if content is not None else ""
        out += [".TP", f".B {p.get('name')}", roff_text(p.findtext("shortdesc", "")) + ".",
                roff_text(p.findtext("longdesc", ""))]
        if default:
            out.append(f"Default: \\fB{roff_text(default)}\\fR.")
    out += [".SH ACTIONS"]
    for a in root.findall("actions/action"):
        details = [f"timeout {a.get('timeout')}"]
        if a.get("interval"):
            details.append(f"interval {a.get('interval')}")
        if a.get("depth") is not None:
            details.append(f"depth {a.get('depth')}")
        out += [".TP", f".B {roff_text(a.get('name'))}", f"Suggested {', '.join(details)}."]
    out += [".SH EXIT STATUS"]
    for code, const, meaning in EXIT_CODES:
        out += [".TP", f".BR {code} \" (\" {const} )", roff_text(meaning) + "."]
    out += [".SH EXAMPLE", "As uec\\-clc\\-ha configures it (crm shell syntax):", ".PP", ".RS 4", ".EX", EXAMPLE,
            ".EE", ".RE", ".SH SEE ALSO",
            ".BR uec\\-clc\\-ha\\-ctl (8),", ".BR crm (8),", ".BR crm_resource (8),", ".BR ocf\\-tester (8)"]
    return "\n".join(out) + "\n"

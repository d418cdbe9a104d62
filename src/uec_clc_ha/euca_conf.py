"""Read eucalyptus.conf as shell-style NAME=value assignments, without executing it.

Called by the OCF agent (uec_clc_ha.agent_params) on every action to learn
EUCALYPTUS, EUCA_USER and CLOUD_OPTS.  Kept to the standard library's
``re`` so the agent's monitor path stays cheap.  Supports what the
Eucalyptus file uses: comments, ``export``, single and double quotes,
backslash escapes, and $NAME / ${NAME} of earlier assignments.  Anything
else (command substitution, arithmetic) is left as literal text, never run.
"""

import re

ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
VAR_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _expand(text, env):
    return VAR_RE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _value(rest, env):
    """The value of the right-hand side of one assignment line."""
    out = []
    i, n = 0, len(rest)
    while i < n:
        ch = rest[i]
        if ch in " \t":
            break                      # the end of the word (a trailing comment may follow)
        if ch == "'":
            end = rest.find("'", i + 1)
            end = n if end < 0 else end
            out.append(rest[i + 1:end])
            i = end + 1
        elif ch == '"':
            j, buf = i + 1, []
            while j < n and rest[j] != '"':
                if rest[j] == "\\" and j + 1 < n and rest[j + 1] in '"\\$`':
                    buf.append(rest[j + 1])
                    j += 2
                    continue
                buf.append(rest[j])
                j += 1
            out.append(_expand("".join(buf), env))
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            out.append(rest[i + 1])
            i += 2
        else:
            j = i
            while j < n and rest[j] not in " \t'\"\\":
                j += 1
            out.append(_expand(rest[i:j], env))
            i = j
    return "".join(out)


def parse(text):
    """{NAME: value} of every assignment, later ones winning, as the shell would."""
    env = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        m = ASSIGN_RE.match(line)
        if m:
            env[m.group(1)] = _value(m.group(2), env)
    return env

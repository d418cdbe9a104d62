"""Read eucalyptus.conf as shell-style NAME=value assignments, without executing it.

Called by the OCF agent (uec_clc_ha.agent.params) on every action to learn
EUCALYPTUS, EUCA_USER and CLOUD_OPTS.  Plain string
operations only (not even ``re``) so the agent's monitor path stays cheap.  Supports what the
Eucalyptus file uses: comments, ``export``, single and double quotes,
backslash escapes, and $NAME / ${NAME} of earlier assignments.  Anything
else (command substitution, arithmetic) is left as literal text, never run.
"""

NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _is_name(text):
    return bool(text) and not text[0].isdigit() and all(c in NAME_CHARS for c in text)


def _expand(text, env):
    """Replace $NAME and ${NAME} by earlier values (unset: empty, as the shell does)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "$" and i + 1 < n:
            if text[i + 1] == "{":
                end = text.find("}", i + 2)
                if end > 0 and _is_name(text[i + 2:end]):
                    out.append(env.get(text[i + 2:end], ""))
                    i = end + 1
                    continue
            j = i + 1
            while j < n and text[j] in NAME_CHARS:
                j += 1
            if _is_name(text[i + 1:j]):
                out.append(env.get(text[i + 1:j], ""))
                i = j
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _assignment(line):
    """(name, right-hand side) of an assignment line, or None."""
    text = line.strip()
    if text.startswith("export") and text[6:7] in (" ", "\t"):
        text = text[6:].lstrip()
    name, sep, rest = text.partition("=")
    if not sep or not _is_name(name):
        return None
    return name, rest


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
        found = _assignment(line)
        if found:
            env[found[0]] = _value(found[1], env)
    return env

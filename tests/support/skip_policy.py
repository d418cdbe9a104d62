"""The one list of reasons a test may skip (conditions this kind of machine can never meet), and its pytest hooks.

The hooks are registered by tests/conftest.py (the module is also usable as
a plugin: ``pytest -p skip_policy``): any skip whose reason is not on the
list fails the run (exit status 1), and every run ends by printing the list
and the skips it allowed.  Tests that skip call
``pytest.skip(skip_policy.reason(KEY, detail))``.  A skip for a missing
package, a missing tool or a missing root is a test that did not run: it
fails the run, so CI can never be green while a suite stays silent.
"""

PREFIX = "[allowed: "

# key -> why a machine of this kind (Debian 12 container, root, no systemd as
# PID 1, no kernel modules) can never meet the condition, or why the opposite
# machine is the one that cannot.
ALLOWED = {
    "host-runs-systemd": "the test needs a host without systemd as PID 1 (it drives the sysv path for real), "
                         "and this host runs systemd",
    "host-without-systemd": "the test needs systemd as PID 1, which a container of this kind never has",
    "host-has-initctl": "the test needs a host without upstart's initctl, and this host has it",
}


def reason(key, detail=""):
    """The skip reason for an allowed condition; KeyError for anything not on the list."""
    text = ALLOWED[key]
    return f"{PREFIX}{key}] {text}{': ' + detail if detail else ''}"


def allowed_key(message):
    """The allow-list key a skip message carries, or None."""
    if not message.startswith(PREFIX):
        return None
    key = message[len(PREFIX):].split("]", 1)[0]
    return key if key in ALLOWED else None


def summary():
    lines = ["Skips allowed in this run (conditions a machine of this kind can never meet); any other skip "
             "fails the run:"]
    lines += [f"  - {key}: {text}" for key, text in ALLOWED.items()]
    return lines


# -- pytest hooks ---------------------------------------------------------------
_SKIPS = {"allowed": [], "refused": []}


def _skip_message(report):
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return message[len("Skipped: "):] if message.startswith("Skipped: ") else message


def pytest_runtest_logreport(report):
    if report.skipped:
        message = _skip_message(report)
        _SKIPS["allowed" if allowed_key(message) else "refused"].append((report.nodeid, message))


def pytest_sessionfinish(session, exitstatus):
    if _SKIPS["refused"] and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    write = terminalreporter.write_line
    write("")
    for line in summary():
        write(line)
    for nodeid, message in _SKIPS["allowed"]:
        write(f"  allowed skip: {nodeid}: {message}")
    if _SKIPS["refused"]:
        write(f"FAILED: {len(_SKIPS['refused'])} test(s) skipped for a reason not on the allow-list "
              "(a skipped test did not run):", red=True)
        for nodeid, message in _SKIPS["refused"]:
            write(f"  refused skip: {nodeid}: {message}", red=True)

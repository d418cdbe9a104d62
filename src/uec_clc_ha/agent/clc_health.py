"""Health checks of a running Cloud Controller over its own HTTP(S) endpoints.

Imported by the OCF agent only for monitor depth 10 and 20 and after start
(urllib + ssl cost about 25 ms to import, too much for the depth-0 path).
The register page must answer and contain CloudVersion, exactly the check
euca_conf makes (certificate verification off: the CLC's certificate is
self-signed); the Heartbeat service must list the local eucalyptus component.
"""

import re
import ssl
import urllib.error
import urllib.request

MAX_BYTES = 1 << 20
LOCAL_COMPONENT_RE = re.compile(r"\beucalyptus\b[^\n]*\blocal=true\b", re.I)


def fetch(url, timeout):
    """Body of url as text; raises OSError (URLError, timeout, HTTPError) on failure."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
        return response.read(MAX_BYTES).decode("utf-8", "replace")


def _problem(url, error):
    if isinstance(error, urllib.error.HTTPError):
        return f"{url} answered HTTP {error.code}"
    reason = getattr(error, "reason", error)
    return f"{url} did not answer: {reason}"


def register_problem(url, timeout):
    """None when the register page answers with CloudVersion; otherwise what is wrong."""
    try:
        body = fetch(url, timeout)
    except (OSError, ValueError) as e:
        return _problem(url, e)
    return None if "CloudVersion" in body else f"{url} answered without CloudVersion"


def heartbeat_problem(url, timeout):
    """None when the Heartbeat service lists the local eucalyptus component; otherwise what is wrong."""
    try:
        body = fetch(url, timeout)
    except (OSError, ValueError) as e:
        return _problem(url, e)
    return None if LOCAL_COMPONENT_RE.search(body) else f"{url} does not list a local eucalyptus component"

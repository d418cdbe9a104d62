"""dpkg-reconfigure answered by a person at a terminal: debconf's readline and dialog frontends.

The package is installed, preseeded and configured, in a throwaway Debian 12
root (lab/lablib/chroot.py, with the stand-in Eucalyptus services of
test_maintainer_scripts.py); then `dpkg-reconfigure --priority=low uec-clc-ha`
runs in that root in a detached tmux window of a fixed size, on a tmux server
of its own (tmux -L), and is driven as a person would: wait for a prompt on
the screen, type, read the next screen.

How the frontends go back to the previous question (debian/config has
`db_capb backup`):
  readline  PageUp (the "previous-question" key debconf binds; PageDown is
            "next-question").  Needs Term::ReadLine::Gnu
            (libterm-readline-gnu-perl): without it (Term::ReadLine::Stub)
            debconf offers no going back and shows no default at all, so an
            empty answer is an empty answer.  debconf also binds Ctrl-U to
            previous-question, but readline rebinds the terminal's kill
            character (^U) to unix-line-discard, so Ctrl-U clears the line.
            With Term::ReadLine::Gnu the current value is the editable text of
            the line: Enter keeps it, Ctrl-U clears it.
  dialog    the <Cancel> button (whiptail; Tab from the entry to <Ok>, Tab
            again to <Cancel>, Enter), or Esc.  Without backup there is no
            <Cancel>.  A note (the invalid-value error) only has <Ok>.

The root has whiptail and libterm-readline-gnu-perl besides the packages of
test_maintainer_scripts.py (its own cached base: about a minute to build once).
"""

import contextlib
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from lablib import chroot
from lablib.chroot import CLC_PACKAGES, ChrootRoot
from clc_roots import install, preseed, stand_in_services
from scenarios import SCENARIOS

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("debootstrap", path=chroot.SYSTEM_PATH)
    or not shutil.which("tmux", path=chroot.SYSTEM_PATH),
    reason="needs root, debootstrap and tmux")

PACKAGES = CLC_PACKAGES + ["whiptail", "libterm-readline-gnu-perl"]
WIDTH, HEIGHT = 120, 40
TIMEOUT = 60                     # seconds for any one screen to appear
TMUX_ENV = {"PATH": chroot.SYSTEM_PATH, "HOME": "/root", "LC_ALL": "C.UTF-8"}

S = SCENARIOS["corosync-drbd84"]
NEW_VIP = "198.51.100.101"
BAD_VIP = "10.10.10.300"
RULE = f'"{BAD_VIP}" is not a usable IPv4 address'      # check_ipv4 in debian/config

# Every question of the corosync/SBD scenario in the order debian/config asks it at
# priority low: (prompt, what readline shows as the current value).
VIP_PROMPT = "Virtual IP address of the cloud:"
PREFIX_PROMPT = "Prefix length of the public network:"
QUESTIONS = [
    ("Name of this Cloud Controller:", S["Local-Node"]),
    ("Name of the other Cloud Controller:", S["Peer-Node"]),
    ("This node's address on the public network:", S["Local-Address"]),
    ("The other node's address on the public network:", S["Peer-Address"]),
    (VIP_PROMPT, S["VIP"]),
    (PREFIX_PROMPT, S["VIP-Prefix"]),
    ("Network interface of the public network:", S["VIP-Interface"]),
    ("Network interface of the replication link:", S["Replication-Interface"]),
    ("This node's address on the replication link:", S["Replication-Local-Address"]),
    ("The other node's address on the replication link:", S["Replication-Peer-Address"]),
    ("Prefix length of the replication link:", S["Replication-Prefix"]),
    ("Backing disk for DRBD:", S["DRBD-Disk"]),
    ("Cluster messaging layer:", "1"),                       # 1. Corosync
    ("Shared cluster secret:", ""),                          # not echoed, never shown
    ("Fencing method:", "1"),                                # 1. SBD
    ("Shared disk for SBD:", S["SBD-Device"]),
    ("Always-reachable addresses on the public network:", S["Ping-Hosts"]),
    ("Arbiter (a third machine's address or name; empty for none):", ""),
    ("Let only the cluster start Eucalyptus? [yes/no]", "yes"),
    ("Does this node hold the cloud's data now? [yes/no]", "yes"),     # pinned by the clc fixture
    ("Initialize the DRBD disk now (destroys its contents)? [yes/no]", "no"),
    ("Move the Cloud Controller's data onto DRBD now? [yes/no]", "no"),  # asked as this node holds the data
    ("Start the cluster now? [yes/no]", "no"),                 # the clc fixture's preseed: the lab starts clusters
]
PROMPTS = [p for p, _ in QUESTIONS]
SECRET_NOTE = "Cluster secret generated"        # the postinst's note (uec-clc-ha/secret-generated)


def reconfigure(frontend, **env):
    """dpkg-reconfigure's command line inside the root, as a person at a terminal runs it."""
    return ["env", "-u", "DEBIAN_FRONTEND", "TERM=xterm", *(f"{k}={v}" for k, v in env.items()),
            "dpkg-reconfigure", f"-f{frontend}", "--priority=low", "uec-clc-ha"]


def squeeze(text):
    """Text as a person reads it: box drawing and entry fill gone, whitespace collapsed."""
    text = re.sub(r"[\u2500-\u257f]", " ", text)
    text = re.sub(r"_{2,}", " ", text)
    return " ".join(text.split())


class Terminal:
    """One command in a detached tmux window of a fixed size, on a tmux server of its own.

    For line-oriented programs (readline), expect_prompt()/expect_text() read the
    whole transcript like pexpect: each match must come after the previous one.
    For full-screen programs (whiptail), expect_screen() reads the visible screen.
    """

    def __init__(self, workdir, width=WIDTH, height=HEIGHT):
        self.socket = f"uec-clc-ha-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.status_path = os.path.join(workdir, "exit-status")
        self.conf = os.path.join(workdir, "tmux.conf")
        with open(self.conf, "w") as fh:       # read when the server starts, before the window exists
            fh.write("set -g remain-on-exit on\nset -g history-limit 100000\n")
        self.width, self.height = width, height
        self.mark = 0           # transcript lines already matched
        self.started = False
        self.socket_path = None

    def tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.socket, "-f", self.conf, *args], env=TMUX_ENV, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=check, timeout=30)

    def start(self, argv):
        """Run argv (a host command line); its exit status goes to status_path when it ends."""
        wrapper = ["sh", "-c", 'st=$1; shift; "$@"; echo "$?" >"$st.new"; mv "$st.new" "$st"', "sh",
                   self.status_path, *argv]
        self.started = True
        self.tmux("new-session", "-d", "-s", "test", "-x", str(self.width), "-y", str(self.height), *wrapper)
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").stdout.strip()

    def close(self):
        """Kill this tmux server (and so the program, if still running); tmux leaves its socket behind."""
        if self.started:
            self.tmux("kill-server", check=False)
            self.started = False
            if self.socket_path and os.path.basename(self.socket_path) == self.socket:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.socket_path)

    # -- reading
    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "test").stdout

    def transcript(self):
        """Every line written so far (scrollback included), wrapped lines joined, trailing blanks dropped."""
        lines = [line.rstrip() for line in self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "test")
                 .stdout.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def exit_status(self):
        try:
            with open(self.status_path) as fh:
                return int(fh.read())
        except FileNotFoundError:
            return None

    def wait(self, what, found, timeout=TIMEOUT):
        """Poll found() until it returns something true; fail with the last screen after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = found()
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}\n"
                                     f"exit status: {self.exit_status()}\n--- last screen\n{self.screen()}")
            if self.exit_status() is not None:      # the program ended: one last look at what it wrote
                time.sleep(0.5)
                got = found()
                if got:
                    return got
                raise AssertionError(f"the program ended (exit status {self.exit_status()}) while waiting for "
                                     f"{what}\n--- last screen\n{self.screen()}")
            time.sleep(0.1)

    def expect_prompt(self, prompt, shown):
        """Wait until the program waits for input at prompt, showing the editable value shown."""
        want = f"{prompt} {shown}".rstrip()

        def found():
            lines = self.transcript()
            if len(lines) > self.mark and lines[-1] == want:
                self.mark = len(lines)
                return True
        self.wait(f"the prompt {want!r} (after transcript line {self.mark})", found)

    def expect_text(self, text):
        """Wait for text (wrapped over lines or not) in the transcript after the last match."""
        def found():
            lines = self.transcript()
            starts, flat = [], ""
            for line in lines[self.mark:]:
                starts.append(len(flat))
                if squeeze(line):
                    flat += squeeze(line) + " "
            pos = flat.find(text)
            if pos < 0:
                return False
            self.mark += sum(1 for s in starts if s <= pos)      # past the line where text starts
            return True
        self.wait(f"the text {text!r} (after transcript line {self.mark})", found)

    def expect_screen(self, text):
        self.wait(f"{text!r} on the screen", lambda: text in squeeze(self.screen()))

    def wait_exit(self, timeout=TIMEOUT):
        self.wait("the program to end", lambda: self.exit_status() is not None, timeout)
        return self.exit_status()

    # -- typing
    def keys(self, *keys):
        """tmux key names: Enter, Tab, Escape, PPage, C-u ..."""
        self.tmux("send-keys", "-t", "test", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "test", "-l", text)


@pytest.fixture(scope="module")
def base():
    return chroot.base_root(PACKAGES)


@pytest.fixture
def clc(base, tmp_path, deb):
    """A throwaway CLC with uec-clc-ha installed and configured from a full preseed."""
    with ChrootRoot(base, tmp_path) as root:
        stand_in_services(root)
        preseed(root)
        # Pinned here, whatever the shared preseed says: the data question decides whether
        # the last question (migrate-data) is asked.
        root.run(["debconf-set-selections"], input="uec-clc-ha uec-clc-ha/initial-primary boolean true\n")
        install(root, deb)
        assert f"VIP: {S['VIP']}" in settings(root)
        yield root


@pytest.fixture
def term(clc, tmp_path):
    t = Terminal(tmp_path)
    try:
        yield t
    finally:
        t.close()


def settings(root):
    return root.read("/etc/uec-clc-ha/uec-clc-ha.conf").decode()


def assert_reconfigured_with(root, vip):
    text = settings(root)
    assert f"VIP: {vip}\n" in text
    assert f"Cluster-Secret: {S['Cluster-Secret']}\n" in text         # Enter at the secret kept it
    for key in ("Local-Node", "Peer-Node", "Local-Address", "Peer-Address", "VIP-Prefix", "DRBD-Disk", "SBD-Device"):
        assert f"{key}: {S[key]}\n" in text, key
    assert f'VNET_CLOUDIP="{vip}"' in root.read("/etc/uec-clc-ha/eucalyptus-vnet.conf").decode()
    assert vip in root.read("/etc/uec-clc-ha/cluster.crm").decode()
    assert BAD_VIP not in text


def test_readline_refuses_a_wrong_answer_goes_back_and_applies_the_new_vip(clc, term):
    term.start(clc.command(reconfigure("readline")))
    for prompt, shown in QUESTIONS[:4]:
        term.expect_prompt(prompt, shown)
        term.keys("Enter")                          # keep the current value
    # A wrong answer: the rule is shown, the question asked again with the wrong answer to edit.
    term.expect_prompt(VIP_PROMPT, S["VIP"])
    term.keys("C-u")
    term.type(BAD_VIP)
    term.keys("Enter")
    term.expect_text("Invalid value")
    term.expect_text(RULE)
    term.expect_text("Please enter a valid value.")
    term.expect_prompt(VIP_PROMPT, BAD_VIP)
    term.keys("C-u")
    term.type(NEW_VIP)
    term.keys("Enter")
    # Going back: PageUp at the next question asks the previous one again, with the new answer.
    term.expect_prompt(PREFIX_PROMPT, S["VIP-Prefix"])
    term.keys("PPage")
    term.expect_prompt(VIP_PROMPT, NEW_VIP)
    term.keys("Enter")
    for prompt, shown in QUESTIONS[5:]:
        term.expect_prompt(prompt, shown)
        term.keys("Enter")
    assert term.wait_exit() == 0, term.screen()
    lines = term.transcript()
    assert sum(line.startswith(VIP_PROMPT) for line in lines) == 3, "\n".join(lines)
    assert_reconfigured_with(clc, NEW_VIP)


def test_dialog_refuses_a_wrong_answer_and_goes_back_with_cancel(clc, term):
    vip = "198.51.100.102"
    term.start(clc.command(reconfigure("dialog")))
    term.expect_screen("Configuring uec-clc-ha")
    for prompt in PROMPTS[:4]:
        term.expect_screen(prompt)
        term.keys("Enter")                          # <Ok> with the current value
    term.expect_screen(f"{VIP_PROMPT} {S['VIP']} <Ok> <Cancel>")   # backup: whiptail's <Cancel> goes back
    term.keys("C-u")
    term.type(BAD_VIP)
    term.keys("Enter")
    term.expect_screen(f"Invalid value {RULE}")
    term.keys("Enter")                              # the note's <Ok>
    term.expect_screen(f"{VIP_PROMPT} {BAD_VIP}")
    term.keys("C-u")
    term.type(vip)
    term.keys("Enter")
    term.expect_screen(f"{PREFIX_PROMPT} {S['VIP-Prefix']}")
    term.keys("Tab", "Tab", "Enter")                # entry -> <Ok> -> <Cancel>
    term.expect_screen(f"{VIP_PROMPT} {vip}")
    term.keys("Enter")
    for prompt in PROMPTS[5:]:
        term.expect_screen(prompt.replace(" [yes/no]", ""))     # a yes/no box has <Yes> <No> instead
        term.keys("Enter")
    # No secret was generated: the postinst shows no note, so nothing is left to answer.
    assert term.wait_exit() == 0, term.screen()
    assert SECRET_NOTE not in squeeze(term.screen())
    assert_reconfigured_with(clc, vip)


def test_readline_without_term_readline_gnu_needs_every_answer_typed(clc, term):
    """Term::ReadLine::Stub (no libterm-readline-gnu-perl, as on a minimal system): no default is
    shown or kept and there is no going back; an empty answer to a question that needs one is
    refused with its rule, so Enter alone never blanks a setting."""
    term.start(clc.command(reconfigure("readline", PERL_RL="Stub")))
    term.expect_prompt(PROMPTS[0], "")
    term.keys("Enter")
    term.expect_text('Invalid value "" is not a host name')
    typed = {"Cluster messaging layer:": "1", "Shared cluster secret:": "", "Fencing method:": "1"}
    for prompt, shown in QUESTIONS:
        term.expect_prompt(prompt, "")
        answer = typed.get(prompt, NEW_VIP if prompt == VIP_PROMPT else shown)
        if answer:
            term.type(answer)
        term.keys("Enter")
    assert term.wait_exit() == 0, term.screen()
    assert_reconfigured_with(clc, NEW_VIP)


def test_reconfigure_keeping_every_answer_changes_nothing(clc, term):
    before = {p: clc.read(p) for p in ("/etc/uec-clc-ha/uec-clc-ha.conf", "/etc/uec-clc-ha/cluster.crm",
                                       "/etc/uec-clc-ha/eucalyptus-vnet.conf", "/etc/corosync/corosync.conf")}
    term.start(clc.command(reconfigure("readline")))
    for prompt, shown in QUESTIONS:
        term.expect_prompt(prompt, shown)
        term.keys("Enter")
    assert term.wait_exit() == 0, term.screen()
    assert {p: clc.read(p) for p in before} == before
    # No secret was generated, so its note is not shown (dpkg-reconfigure shows seen notes again:
    # the postinst must ask only when the note is unseen).
    assert not any(SECRET_NOTE in line for line in term.transcript())

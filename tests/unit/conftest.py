"""Unit tests run no external program and reach no network beyond loopback: any attempt fails the test.

The refusal derives from BaseException, not Exception (as cloud-init's
guard does): code under test that catches every Exception (the postinst's
data steps, doctor's checks) must not swallow it and let a test pass on the
output of its error path.
"""

import ipaddress
import socket
import subprocess

import pytest


class ProgramRefused(BaseException):
    """A unit test tried to start a program."""


class NetworkRefused(BaseException):
    """A unit test tried to reach an address that is not loopback (the addresses in the scenarios are
    documentation ranges that no test created: a request there leaves through the host's default route)."""


def _loopback(sock, address):
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True                                     # AF_UNIX and the like: a path on this machine
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False                                    # a name: resolving it is already the network


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    real = {name: getattr(socket.socket, name) for name in ("connect", "connect_ex")}
    real_sendto = socket.socket.sendto

    def guarded(name):
        def call(sock, address):
            if not _loopback(sock, address):
                raise NetworkRefused(f"unit tests may not reach {address!r} (loopback only)")
            return real[name](sock, address)
        return call

    def sendto(sock, data, *rest):
        address = rest[-1]
        if not _loopback(sock, address):
            raise NetworkRefused(f"unit tests may not send to {address!r} (loopback only)")
        return real_sendto(sock, data, *rest)
    for name in real:
        monkeypatch.setattr(socket.socket, name, guarded(name))
    monkeypatch.setattr(socket.socket, "sendto", sendto)


@pytest.fixture(autouse=True)
def no_processes(monkeypatch):
    def refuse(*args, **kwargs):
        raise ProgramRefused(f"unit tests may not run programs: {args[0] if args else kwargs}")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)

"""Pytest fixtures for the real test servers.

Register with ``pytest_plugins = ["tests.servers.conftest_plugin"]``.

* ``pki`` (session): :class:`tests.servers.pki.Pki` — CA, server, client and wrong client certs.
* ``dovecot`` (function): a started :class:`tests.servers.dovecot.DovecotServer`
  with an empty mailbox; killed and deleted after the test.
* ``smtp_server`` (function): a started :class:`tests.servers.smtp.SmtpServer`
  (shared for the session, its handler reset for each test).
* ``cutting_proxy`` (function): factory ``await cutting_proxy(port)`` → started
  :class:`tests.servers.proxy.CuttingProxy`, stopped after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from tests.servers.dovecot import DovecotServer
from tests.servers.pki import Pki, make_pki
from tests.servers.proxy import CuttingProxy
from tests.servers.smtp import SmtpServer


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Certificates and keys for every test server and client."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def dovecot(pki: Pki) -> Iterator[DovecotServer]:
    """A running Dovecot with one empty mailbox (see :mod:`tests.servers.dovecot`)."""
    server = DovecotServer(pki)
    server.start()
    try:
        yield server
    finally:
        server.cleanup(fast=True)


@pytest.fixture(scope="session")
def _smtp_session(pki: Pki) -> Iterator[SmtpServer]:
    server = SmtpServer(pki)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(_smtp_session: SmtpServer) -> SmtpServer:
    """The SMTP test server, with no message, counter or scripted answer left over."""
    _smtp_session.handler.reset()
    return _smtp_session


@pytest.fixture
async def cutting_proxy() -> AsyncIterator[Callable[[int], Awaitable[CuttingProxy]]]:
    """Factory of TCP proxies that can cut connections mid-stream."""
    proxies: list[CuttingProxy] = []

    async def make(port: int) -> CuttingProxy:
        proxy = CuttingProxy(port)
        await proxy.start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.stop()

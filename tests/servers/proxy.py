"""A tiny TCP proxy that can cut a connection after N bytes, to simulate network faults."""

from __future__ import annotations

import asyncio
import contextlib

from tests.servers.dovecot import HOST


class CuttingProxy:
    """Forwards ``127.0.0.1:port`` to ``target_port``; :meth:`cut_after` arms a cut.

    Once armed with ``n``, the proxy closes both sides as soon as ``n`` more bytes
    went from the server to the client (e.g. in the middle of a FETCH literal).
    """

    def __init__(self, target_port: int, target_host: str = HOST) -> None:
        self.target = (target_host, target_port)
        self.host = HOST
        self.port = 0
        self.cuts = 0
        self._budget: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on a free loopback port (``self.port``)."""
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut_after(self, n: int | None) -> None:
        """Cut every connection after ``n`` more server→client bytes (``None``: never)."""
        self._budget = n

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        tasks = [asyncio.create_task(self._pump(reader, up_writer, count=False)),
                 asyncio.create_task(self._pump(up_reader, writer, count=True))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for side in (writer, up_writer):
            side.close()
            self._writers.discard(side)
            with contextlib.suppress(Exception):
                await side.wait_closed()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                    count: bool) -> None:
        while data := await reader.read(4096):
            if count and self._budget is not None:
                if len(data) >= self._budget:
                    writer.write(data[: self._budget])
                    self._budget = None
                    self.cuts += 1
                    await writer.drain()
                    return
                self._budget -= len(data)
            writer.write(data)
            await writer.drain()

"""A TCP server that accepts connections and never says a word (a hung IMAP or SMTP peer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def mute_server() -> AsyncIterator[int]:
    """Listen on a free loopback port, swallow what clients send, answer nothing; yield the port."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    listener = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield listener.sockets[0].getsockname()[1]
    finally:
        listener.close()

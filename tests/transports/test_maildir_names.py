"""Outbound Maildir file names: one per Message-ID, so a retried mail overwrites itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mailbot.transports.maildir import MaildirOutbound


def test_name_follows_the_message_id_header_only() -> None:
    folded = b"From: a@b.fr\r\nMessage-ID:\r\n <x@cpts.fr>\r\nSubject: s\r\n\r\ncorps\r\n"
    plain = b"From: c@d.fr\r\nmessage-id: <x@cpts.fr>\r\n\r\nautre corps\r\n"
    in_body = b"From: a@b.fr\r\n\r\nMessage-ID: <x@cpts.fr>\r\n"
    assert MaildirOutbound.file_name(folded) == MaildirOutbound.file_name(plain)
    assert MaildirOutbound.file_name(in_body) != MaildirOutbound.file_name(plain)
    assert MaildirOutbound.file_name(in_body) == MaildirOutbound.file_name(in_body)


def test_sending_twice_leaves_one_file(tmp_path: Path) -> None:
    box = MaildirOutbound(tmp_path / "out")
    raw = b"From: a@b.fr\r\nMessage-ID: <y@cpts.fr>\r\n\r\nBonjour\r\n"

    async def send_twice() -> None:
        await box.open()
        for _ in range(2):
            await box.send("a@b.fr", ["c@d.fr"], raw)
        await box.flush()

    asyncio.run(send_twice())
    files = list((tmp_path / "out" / "new").iterdir())
    assert len(files) == 1
    assert files[0].read_bytes().startswith(b"Return-Path: <a@b.fr>\nDelivered-To: c@d.fr\n")


def test_files_sort_in_sending_order_though_written_by_several_threads(tmp_path: Path) -> None:
    box = MaildirOutbound(tmp_path / "out")
    raws = [f"From: a@b.fr\r\nMessage-ID: <m{i}@cpts.fr>\r\n\r\n{i}\r\n".encode() for i in range(60)]

    async def send_all() -> None:
        await box.open()
        for raw in raws:
            await box.send("a@b.fr", ["c@d.fr"], raw)
        await box.flush()
        await box.close()

    asyncio.run(send_all())
    files = sorted((tmp_path / "out" / "new").iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    assert [f.read_bytes().split(b"\n\n", 1)[1] for f in files] == [f"{i}\n".encode() for i in range(60)]
    assert not list((tmp_path / "out" / "tmp").iterdir())

"""A real ``mailbot`` process that claims mail and then hangs, for the tests to SIGKILL.

``python -m tests.leases_support CONFIG`` registers the process (heartbeat), fetches the
inbox, stores the mails — claimed by this process, committed — prints ``claimed N``
and sleeps until killed.
"""

from __future__ import annotations

import asyncio
import sys
import time

from mailbot.app import App
from mailbot.config import load_config
from mailbot.daemon.heartbeat import Heartbeat
from mailbot.inbound.pipeline import Pipeline
from mailbot.transports.factory import inbound_transport


async def _claim(pipeline: Pipeline) -> int:
    await pipeline.inbound.open()
    try:
        return len(pipeline.store(await pipeline.inbound.fetch(None)))
    finally:
        await pipeline.inbound.close()


def main(config: str) -> None:
    """Claim the inbox, say so, hang."""
    app = App.from_config(load_config(config))
    with Heartbeat(app, role="daemon", resume_jobs=False):
        pipeline = Pipeline(app, inbound_transport(app.config.inbound))
        print(f"claimed {asyncio.run(_claim(pipeline))} {app.worker}", flush=True)
        time.sleep(600)


if __name__ == "__main__":
    main(sys.argv[1])

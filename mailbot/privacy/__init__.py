"""RGPD: anonymisation after the retention period, a person's export, erasure, an entry's story.
May import operations, stats (age bands), the kernel, config and store; jobs and cli import it.
"""

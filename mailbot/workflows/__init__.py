"""Workflows: what the bot does with a classified mail (intake, replies, …).
May import matching, outbound, the kernel, config, store and parsers; inbound, commands and jobs import it.
"""

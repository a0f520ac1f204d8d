"""Workflows: what the bot does with a classified mail (intake, replies, …)."""

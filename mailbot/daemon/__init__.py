"""The long-running ``mailbot run``: inbound loop, outbox worker and scheduler in one process.
May import inbound, outbound, jobs, transports, the kernel, config and store; only cli imports it.
"""

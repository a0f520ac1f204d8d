"""Where a mail comes in: fetched bytes stored, classified, handed to its workflow, finished.
May import commands, workflows, jobs, outbound, transports, the kernel, config, store and parsers.
"""

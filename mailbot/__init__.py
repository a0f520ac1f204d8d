"""The daemon, laid out as the mail's journey: inbound/ → workflows/ → outbound/ (docs/architecture.md).
Kernel modules here (app, clock, errors, logs, faults) import only config, store and outbound.templating.
"""

"""Where the answer leaves: templates rendered, mails composed and enqueued, the outbox delivered by route.
May import transports, the kernel, config, store and parsers; every deciding package imports it.
"""

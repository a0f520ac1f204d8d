"""``mailbot doctor``: what is wrong with an installation, and how to fix it, in French.
May import app, config, transports, outbound and workflows (template samples); only cli imports it.
"""

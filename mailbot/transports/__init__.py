"""Mail transports: where inbound mail is read and outbound mail is written.
May import mailbot.config and mailbot.errors only: bytes in and out, no database, no decisions.
"""

"""Mail transports: where inbound mail is read and outbound mail is written."""

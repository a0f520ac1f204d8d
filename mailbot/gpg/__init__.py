"""OpenPGP with GnuPG (python-gnupg): the keyring, inbound PGP/MIME opened, outbound signed and encrypted.
May import config, errors and parsers; app, inbound, outbound, doctor and cli import it.
"""

"""A real Dovecot IMAP server for the tests, started from a generated configuration.

The server runs in the foreground (``dovecot -F``) from a private temporary
folder, listens on two free loopback ports (STARTTLS and implicit TLS) and keeps
its mail as Maildir. One user exists; it can log in with its password
(LOGIN/PLAIN) or with a client certificate (SASL EXTERNAL, the user name taken
from the certificate's CN). Running as root, mail is owned by ``nobody`` since
Dovecot refuses root mailboxes; otherwise everything runs as the current user.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.servers.pki import TEST_PASSWORD, TEST_USER, Pki

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0, host: str = HOST) -> None:
    """Block until ``host:port`` accepts TCP connections, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{host}:{port} does not accept connections") from None
            time.sleep(0.02)


_CONF = """\
base_dir = {run}
state_dir = {run}/state
instance_name = mailbot-test-{tag}
listen = {host}
protocols = {protocols}
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{pki.server_cert}
ssl_key = <{pki.server_key}
ssl_ca = <{pki.ca_cert}
ssl_min_protocol = TLSv1.2
ssl_verify_client_cert = yes
ssl_require_crl = no
ssl_cert_username_field = commonName
auth_ssl_username_from_cert = yes
auth_ssl_require_client_cert = {require_cert}
auth_mechanisms = plain login external
auth_verbose = yes
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
imap_idle_notify_interval = 2 mins
passdb {{
  driver = passwd-file
  args = {root}/users
  mechanisms = plain login
}}
passdb {{
  driver = static
  args = nopassword=y
  mechanisms = external
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u allow_all_users=yes
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth-worker {{
  user = $default_internal_user
}}
"""

# With ``lmtp=True``: mail arrives over LMTP (as from a real MTA) on ``lmtp_port``.
_LMTP = """\
service lmtp {{
  inet_listener lmtp {{
    address = {host}
    port = {lmtp_port}
  }}
}}
"""


def _group_alive(group: int) -> bool:
    """True while a process of ``group`` runs (zombies, reaped later by init, do not count)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


class DovecotServer:
    """One Dovecot instance; ``start()``/``stop()`` may be called repeatedly."""

    def __init__(self, pki: Pki, *, require_client_cert: bool = False, lmtp: bool = False) -> None:
        self.pki = pki
        self.host = HOST
        self.user = TEST_USER
        self.password = TEST_PASSWORD
        self.imap_port = free_port()   # plain, STARTTLS offered
        self.imaps_port = free_port()  # implicit TLS
        self.lmtp_port = free_port() if lmtp else None  # LMTP delivery (dovecot-lmtpd)
        # Short private path: Dovecot's UNIX sockets live under it (108-byte limit).
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            mail = pwd.getpwnam("nobody")
            login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
        else:
            mail = pwd.getpwuid(os.getuid())
            login_user = internal_user = mail.pw_name
            internal_group = grp.getgrgid(os.getgid()).gr_name
        self.uid, self.gid = mail.pw_uid, mail.pw_gid
        self.home = self.root / "home" / self.user
        self.conf = self.root / "dovecot.conf"
        (self.root / "run").mkdir()
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        self.conf.write_text(_CONF.format(
            protocols="imap lmtp" if lmtp else "imap",
            run=self.root / "run", root=self.root, tag=self.root.name, host=self.host, pki=pki,
            require_cert="yes" if require_client_cert else "no", login_user=login_user,
            internal_user=internal_user, internal_group=internal_group, uid=self.uid, gid=self.gid,
            imap_port=self.imap_port, imaps_port=self.imaps_port)
            + (_LMTP.format(host=self.host, lmtp_port=self.lmtp_port) if lmtp else ""))
        for sub in ("cur", "new", "tmp"):
            (self.maildir() / sub).mkdir(parents=True, exist_ok=True)
        self._chown(self.root / "home")
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start Dovecot and wait until both ports accept connections."""
        if self._process is not None and self._process.poll() is None:
            return
        errors = os.open(self.root / "stderr.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self._process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.conf)], start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=errors)
        finally:
            os.close(errors)
        try:
            wait_port(self.imap_port, timeout)
            wait_port(self.imaps_port, timeout)
            if self.lmtp_port is not None:
                wait_port(self.lmtp_port, timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError("Dovecot did not start:\n" + self.log_tail()) from None

    def stop(self, *, fast: bool = False) -> None:
        """Stop Dovecot and every process it started (IMAP sessions are cut); wait for them.

        Like a service manager, this signals the server's whole process group (its
        own session): SIGTERM, or SIGKILL when ``fast``.
        """
        process, self._process = self._process, None
        if process is None:
            return
        group = process.pid
        for sig in ((signal.SIGKILL,) if fast else (signal.SIGTERM, signal.SIGKILL)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                process.poll()
                if not _group_alive(group):
                    process.wait(1)
                    return
                time.sleep(0.01)
        process.wait(5)

    def cleanup(self, *, fast: bool = False) -> None:
        """Stop and delete every file of this instance."""
        self.stop(fast=fast)
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def running(self) -> bool:
        """True while the Dovecot master process is alive."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The end of Dovecot's log (and stderr), for failure messages."""
        text = ""
        for name in ("stderr.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- mailbox helpers -------------------------------------------------------------------

    def maildir(self, folder: str = "INBOX") -> Path:
        """The Maildir folder of ``folder`` (Maildir++ layout: ``.Name`` below the root)."""
        base = self.home / "Maildir"
        return base if folder.upper() == "INBOX" else base / f".{folder}"

    def deliver(self, raw: bytes, folder: str = "INBOX") -> Path:
        """Drop ``raw`` into ``folder``'s ``new/`` the way an MDA does (tmp/ then rename)."""
        target = self.maildir(folder)
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        self._chown(target)
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.mailbot-test"
        tmp = target / "tmp" / name
        tmp.write_bytes(raw)
        self._chown(tmp)
        final = target / "new" / name
        os.rename(tmp, final)
        return final

    def messages(self, folder: str = "INBOX", *, include_deleted: bool = False) -> list[bytes]:
        """Raw messages currently stored in ``folder`` (``new/`` and ``cur/``)."""
        target = self.maildir(folder)
        found: list[tuple[str, bytes]] = []
        for sub in ("new", "cur"):
            directory = target / sub
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                flags = path.name.rpartition(":2,")[2] if ":2," in path.name else ""
                if "T" in flags and not include_deleted:
                    continue
                found.append((path.name, path.read_bytes()))
        return [raw for _, raw in sorted(found)]

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The Maildir flag letters of each message in ``folder`` (``S`` seen, ``T`` deleted…)."""
        names = [p.name for p in (self.maildir(folder) / "cur").iterdir()]
        return sorted(n.rpartition(":2,")[2] for n in names)

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        """Give ``folder`` a new UIDVALIDITY, as a server rebuilding its indexes would."""
        subprocess.run(
            [DOVEADM, "-c", str(self.conf), "mailbox", "update", "-u", self.user,
             "--uid-validity", str(value), folder],
            check=True, capture_output=True, timeout=20)

    def _chown(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        os.chown(path, self.uid, self.gid)
        if path.is_dir():
            for sub, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.chown(os.path.join(sub, name), self.uid, self.gid)

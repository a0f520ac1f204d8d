"""The common base of every section, and the TLS client settings that servers share."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


TlsMode = Literal["implicit", "starttls", "none"]


class TlsClient(Section):
    """A server the bot connects to: host, TLS mode, credentials, certificates."""

    host: str
    port: int | None = None
    tls: TlsMode = "starttls"
    user: str | None = None
    password: str | None = None
    client_cert: Path | None = None  # PEM certificate (or PKCS#12 bundle with .p12/.pfx)
    client_key: Path | None = None   # PEM private key (not needed for PKCS#12)
    client_key_password: str | None = None
    ca_file: Path | None = None      # e.g. the IGC-Santé chain
    insecure: bool = False           # tests only: no certificate verification (logged loudly)
    timeout_seconds: float = Field(default=60.0, gt=0)

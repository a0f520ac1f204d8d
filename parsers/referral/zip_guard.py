"""ZIP archives attached to mails (XLSX workbooks, IHE XDM), opened with bounds.

Sizes are read from the central directory before anything is inflated: too many
members, too much uncompressed data or a compression ratio no real document has
(a zip bomb), and member names that climb out of the archive (``../``, ``/etc``,
``C:\\``) are refused. :mod:`zipfile` then never inflates a member beyond its declared
size (it checks the CRC), so the checks hold while reading.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

MAX_MEMBERS = 2000
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_RATIO = 150            # uncompressed / compressed, for members above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024


@dataclass(frozen=True)
class ZipProblem:
    """Why an archive is not opened: ``code`` for the program, ``message`` in French."""

    code: str  # "corrupt", "bomb", "path"
    message: str


def unsafe_name(name: str) -> bool:
    """True for a member name that is absolute or climbs out of the archive."""
    parts = name.replace("\\", "/").split("/")
    return (name.startswith(("/", "\\")) or ".." in parts
            or (len(name) > 1 and name[1] == ":") or "\x00" in name)


def open_zip(data: bytes) -> zipfile.ZipFile | ZipProblem:
    """The archive, or the reason it is refused (corrupt, zip bomb, path traversal)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return ZipProblem("corrupt", "l'archive ZIP est endommagée ou incomplète")
    if len(infos) > MAX_MEMBERS:
        return ZipProblem("bomb", f"l'archive contient plus de {MAX_MEMBERS} fichiers")
    total = 0
    for info in infos:
        if unsafe_name(info.filename):
            return ZipProblem("path", "l'archive contient un chemin de fichier non autorisé "
                                      "(« .. » ou chemin absolu)")
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return ZipProblem("bomb", "l'archive est anormalement compressée (bombe ZIP)")
    if total > MAX_TOTAL_BYTES:
        return ZipProblem("bomb", "l'archive décompressée dépasserait "
                                  f"{MAX_TOTAL_BYTES // (1024 * 1024)} Mo")
    return archive


def read_member(archive: zipfile.ZipFile, name: str) -> bytes | ZipProblem:
    """One member's bytes (its size was bounded by :func:`open_zip`)."""
    try:
        with archive.open(name) as member:
            return member.read(MAX_TOTAL_BYTES + 1)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError):  # RuntimeError: an encrypted member
        return ZipProblem("corrupt", f"le fichier « {name[:60]} » de l'archive est illisible")

"""An IHE XDM archive (``IHE_XDM.ZIP``: ``METADATA.XML`` and a CDA R2 document) → the patient's
identity, as MSSanté clients and hospital software send it.

The identity is read from ``ClinicalDocument/recordTarget/patientRole``: the INS
(``id`` with root ``1.2.250.1.213.1.4.8`` INS-NIR, ``.4.10`` INS-NIA, ``.4.9`` and
``.4.11`` test identities), birth name and used name, first name, sex, birth date,
address and telecoms. XML is parsed with defusedxml (no entities, no external
references); the archive is opened by :mod:`parsers.referral.zip_guard`. Never raises.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from parsers.referral.assemble import assemble
from parsers.referral.zip_guard import ZipProblem, open_zip, read_member

INS_ROOTS = {"1.2.250.1.213.1.4.8": "INS-NIR", "1.2.250.1.213.1.4.10": "INS-NIA",
             "1.2.250.1.213.1.4.9": "INS-NIR de test", "1.2.250.1.213.1.4.11": "INS-NIA de test"}
_V3 = "{urn:hl7-org:v3}"
_RIM = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
_DIGITS = re.compile(r"\d{13,15}")


@dataclass(frozen=True)
class XdmIdentity:
    """What the CDA says of the patient: (key, raw value) pairs read like a form's lines."""

    entries: tuple[tuple[str, str], ...]
    ins: str | None = None
    ins_kind: str | None = None


@dataclass(frozen=True)
class XdmProblem:
    """Why an archive gives no identity: ``code`` for the program, ``message`` in French."""

    code: str  # "corrupt", "bomb", "path", "no_metadata", "no_cda", "bad_xml", "no_patient"
    message: str


def _parse(data: bytes) -> Any:
    from defusedxml import ElementTree

    try:
        return ElementTree.fromstring(data)
    except Exception:  # ParseError, DTDForbidden, EntitiesForbidden…
        return None


def _documents(metadata: Any, folder: str, names: list[str]) -> list[str]:
    """Members named by METADATA.XML's ``URI`` slots, else every XML file next to it."""
    uris = []
    for slot in metadata.iter(f"{_RIM}Slot"):
        if slot.get("name") == "URI":
            uris += [(v.text or "").strip() for v in slot.iter(f"{_RIM}Value")]
    by_lower = {n.lower(): n for n in names}
    found = [by_lower[posixpath.join(folder, u).lower()] for u in uris
             if posixpath.join(folder, u).lower() in by_lower]
    return found or [n for n in names if posixpath.dirname(n) == folder and n.lower().endswith(
        ".xml") and posixpath.basename(n).upper() != "METADATA.XML"]


def _text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _identity(role: Any) -> XdmIdentity:
    entries: list[tuple[str, str]] = []
    ins = kind = None
    for ident in role.findall(f"{_V3}id"):
        root = ident.get("root", "")
        if root in INS_ROOTS and ident.get("extension") and (ins is None or root.endswith(".8")):
            ins, kind = ident.get("extension", "").strip(), INS_ROOTS[root]
    if ins:
        entries.append(("ins", ins))
    addr = role.find(f"{_V3}addr")
    if addr is not None:
        lines = [_text(n) for n in addr.findall(f"{_V3}streetAddressLine")]
        if not lines:
            parts = [_text(addr.find(f"{_V3}{tag}")) for tag in ("houseNumber", "streetName")]
            lines = [" ".join(p for p in parts if p)]
        lines += [_text(n) for n in addr.findall(f"{_V3}additionalLocator")]
        street = ", ".join(line for line in lines if line)
        if street:
            entries.append(("adresse", street))
        entries += [(key, _text(addr.find(f"{_V3}{tag}"))) for key, tag in
                    (("code_postal", "postalCode"), ("commune", "city"))
                    if _text(addr.find(f"{_V3}{tag}"))]
    for telecom in role.findall(f"{_V3}telecom"):
        value = telecom.get("value", "").strip()
        if value.lower().startswith("tel:"):
            entries.append(("telephone", value[4:]))
        elif value.lower().startswith("mailto:"):
            entries.append(("email", value[7:]))
    patient = role.find(f"{_V3}patient")
    if patient is not None:
        name = patient.find(f"{_V3}name")
        if name is not None:
            for family in name.findall(f"{_V3}family"):
                key = "nom_usage" if family.get("qualifier") == "SP" else "nom"
                entries.append((key, _text(family)))
            given = [_text(g) for g in name.findall(f"{_V3}given")]
            if given:
                entries.append(("prenom", given[0]))
        gender = patient.find(f"{_V3}administrativeGenderCode")
        if gender is not None and gender.get("code") in ("F", "M"):
            entries.append(("sexe", gender.get("code", "")))
        birth = patient.find(f"{_V3}birthTime")
        value = birth.get("value", "") if birth is not None else ""
        if re.fullmatch(r"\d{8}.*", value):
            entries.append(("date_naissance", f"{value[6:8]}/{value[4:6]}/{value[:4]}"))
    return XdmIdentity(entries=tuple(entries), ins=ins, ins_kind=kind)


def read_xdm(data: bytes) -> XdmIdentity | XdmProblem:
    """The patient of an XDM archive's CDA document, or why it cannot be read."""
    archive = open_zip(data)
    if isinstance(archive, ZipProblem):
        return XdmProblem(archive.code, archive.message)
    names = [n for n in archive.namelist() if not n.endswith("/")]
    metadata_names = [n for n in names if posixpath.basename(n).upper() == "METADATA.XML"]
    if not metadata_names:
        return XdmProblem("no_metadata", "l'archive n'est pas au format IHE XDM (pas de "
                                         "METADATA.XML)")
    for metadata_name in metadata_names:
        raw = read_member(archive, metadata_name)
        metadata = _parse(raw) if isinstance(raw, bytes) else None
        if metadata is None:
            continue
        for document in _documents(metadata, posixpath.dirname(metadata_name), names):
            raw = read_member(archive, document)
            if isinstance(raw, ZipProblem):
                return XdmProblem(raw.code, raw.message)
            cda = _parse(raw)
            if cda is None or cda.tag != f"{_V3}ClinicalDocument":
                continue
            role = cda.find(f"{_V3}recordTarget/{_V3}patientRole")
            if role is None:
                return XdmProblem("no_patient", "le document CDA ne désigne pas de patient "
                                                "(recordTarget absent)")
            return _identity(role)
    return XdmProblem("no_cda", "l'archive XDM ne contient pas de document CDA lisible")


def ins_matches(identity: XdmIdentity, header: str) -> bool:
    """True when the ``X-MSS-INS`` header names the same INS as the document (or says none)."""
    said = _DIGITS.findall(header.replace(" ", ""))
    if not said or not identity.ins:
        return True
    own = re.sub(r"\D", "", identity.ins)
    return any(own.startswith(s) or s.startswith(own) for s in said)


def identity_fields(identity: XdmIdentity, *, today: dt.date) -> Any:
    """The identity's valid values and problems (missing fields are not reported here)."""
    return assemble(identity.entries, today=today, partial=True)

"""``mailbot form pdf [-o FICHIER]``: the blank fillable PDF form partners fill in and attach."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mailbot.cli.common import config_of
from mailbot.errors import UsageError
from parsers.referral.pdf_blank import blank_form


def register(sub: Any) -> None:
    """Add ``mailbot form``."""
    p = sub.add_parser("form", help="fiche de saisine vierge à diffuser aux partenaires")
    kinds = p.add_subparsers(dest="form_kind", required=True, metavar="FORMAT")
    pdf = kinds.add_parser("pdf", help="formulaire PDF remplissable (champs = clés de la fiche)")
    pdf.add_argument("-o", "--output", metavar="FICHIER",
                     help="fichier à écrire (défaut : fiche-de-saisine.pdf ; « - » : sortie "
                          "standard)")
    pdf.set_defaults(handler=cmd_form_pdf)


def cmd_form_pdf(args: argparse.Namespace) -> int:
    """Write the blank PDF form with the CPTS name of the configuration."""
    data = blank_form(config_of(args).identity.name)
    if args.output == "-":
        sys.stdout.buffer.write(data)
        return 0
    path = Path(args.output or "fiche-de-saisine.pdf")
    try:
        path.write_bytes(data)
    except OSError as error:
        raise UsageError(f"{path} : écriture impossible ({error.strerror})") from None
    print(f"Fiche de saisine PDF écrite : {path} ({len(data) // 1024} ko). Diffusez-la aux "
          "partenaires : remplie puis jointe à un message, elle est lue automatiquement.")
    return 0

"""The blank fillable PDF form (AcroForm) partners can fill in and attach: built with reportlab.

Field names are the canonical keys (:data:`parsers.referral.types.CANONICAL_KEYS`),
so that :func:`parsers.referral.pdf_form.read_pdf_form` reads a filled copy without
guessing; labels are French; yes/no criteria are checkboxes.
"""

from __future__ import annotations

import io

from parsers.referral.types import BOOLEAN_KEYS, FRENCH_LABELS

_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Patient", ("nom", "nom_usage", "prenom", "date_naissance", "sexe", "ins", "telephone",
                 "email", "adresse", "code_postal", "commune")),
    ("Situation (cocher ce qui s'applique)", ("ald", "css", "ame", "mobilite_reduite",
                                              "situation_complexe", "urgent")),
    ("Demande", ("motif", "ancien_medecin", "aidant")),
    ("Orienté par", ("referent_nom", "referent_structure", "referent_telephone")),
    ("Accord du patient", ("consentement",)),
)
_HINTS = {"date_naissance": "JJ/MM/AAAA", "sexe": "F ou M", "ins": "15 chiffres",
          "code_postal": "5 chiffres"}
_LONG = {"motif": 3, "aidant": 2}
_CHECK_LABELS = {"consentement": "Le patient accepte d'être inscrit et recontacté par la CPTS"}


def blank_form(cpts_name: str) -> bytes:
    """The blank form of ``cpts_name`` as PDF bytes (A4, one page)."""
    from reportlab.lib.colors import black, white
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(f"Fiche de saisine – {cpts_name}")
    pdf.setAuthor(cpts_name)
    width, height = A4
    y = height - 50
    pdf.setFont("Helvetica-Bold", 15)
    pdf.drawString(40, y, f"Fiche de saisine – {cpts_name}")
    pdf.setFont("Helvetica", 8.5)
    y -= 15
    pdf.drawString(40, y, "Patient sans médecin traitant. Remplissez les champs, enregistrez le "
                          "PDF et envoyez-le en pièce jointe par messagerie sécurisée.")
    form = pdf.acroForm
    for title, keys in _SECTIONS:
        y -= 22
        pdf.setFont("Helvetica-Bold", 10.5)
        pdf.drawString(40, y, title)
        pdf.setFont("Helvetica", 9)
        column = 0
        for key in keys:
            if key in BOOLEAN_KEYS:
                x = 40 + column * 180
                if column == 0:
                    y -= 18
                form.checkbox(name=key, tooltip=FRENCH_LABELS[key], x=x, y=y - 3, size=11,
                              buttonStyle="check", borderColor=black, fillColor=white,
                              checked=False)
                pdf.drawString(x + 16, y, _CHECK_LABELS.get(key, FRENCH_LABELS[key]))
                column = 0 if key in _CHECK_LABELS else (column + 1) % 3
                continue
            lines = _LONG.get(key, 1)
            y -= 18 + 12 * (lines - 1)
            hint = f" ({_HINTS[key]})" if key in _HINTS else ""
            pdf.drawString(40, y + 4 + 12 * (lines - 1), f"{FRENCH_LABELS[key]}{hint}")
            form.textfield(name=key, tooltip=FRENCH_LABELS[key], x=190, y=y, width=width - 230,
                           height=14 + 12 * (lines - 1), fontSize=9, borderColor=black,
                           fillColor=white, fieldFlags="multiline" if lines > 1 else "")
    pdf.setFont("Helvetica", 7.5)
    pdf.drawString(40, 30, f"{cpts_name} – document contenant des données de santé : à "
                           "transmettre par messagerie sécurisée de santé uniquement.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()

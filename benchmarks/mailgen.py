"""Varied, realistic referral mails for benchmarks (deterministic for a seed)."""

from __future__ import annotations

import random
from email.message import EmailMessage
from email.policy import SMTP

NOMS = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
        "LAURENT", "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
        "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT"]
PRENOMS = ["Marie", "Jean", "Pierre", "Michel", "André", "Philippe", "Nathalie", "Isabelle",
           "Jacques", "Monique", "Françoise", "Chloé", "Léa", "Hugo", "Noël", "Zoé", "Anaïs"]
COMMUNES = [("16000", "Angoulême"), ("16100", "Cognac"), ("16800", "Soyaux"),
            ("16160", "Gond-Pontouvre"), ("16400", "La Couronne"), ("16710", "Saint-Yrieix")]
PARTNERS = [("Coordination DAC Charente", "coordination@dac16.mssante.fr"),
            ("Service social CH", "service.social@ch-exemple.mssante.fr"),
            ("Pharmacie Moreau", "pharmacie.moreau@pharmacien.mssante.fr")]


def _fields(rng: random.Random, index: int) -> list[tuple[str, str]]:
    cp, commune = rng.choice(COMMUNES)
    year = rng.randint(1925, 2024)
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    date = rng.choice([f"{day:02d}/{month:02d}/{year}", f"{day:02d}-{month:02d}-{year}",
                       f"{year}-{month:02d}-{day:02d}", f"{day:02d}.{month:02d}.{year}"])
    phone = "0" + rng.choice("67") + "".join(str(rng.randint(0, 9)) for _ in range(8))
    phone = rng.choice([phone, " ".join(phone[i:i + 2] for i in range(0, 10, 2)),
                        ".".join(phone[i:i + 2] for i in range(0, 10, 2))])
    fields = [
        (rng.choice(["Nom", "NOM", "Nom de naissance", "Nom du patient"]), f"{rng.choice(NOMS)}{index}"),
        (rng.choice(["Prénom", "Prenom", "Prénoms"]), rng.choice(PRENOMS)),
        (rng.choice(["Date de naissance", "Né(e) le", "DDN"]), date),
        (rng.choice(["Téléphone", "Tél", "Portable"]), phone),
        (rng.choice(["Code postal", "CP"]), cp),
        (rng.choice(["Commune", "Ville"]), commune),
        (rng.choice(["Consentement", "Accord du patient"]), rng.choice(["oui", "OUI", "x", "Oui"])),
    ]
    if rng.random() < 0.3:
        fields.append(("Motif", "médecin parti à la retraite, suivi régulier nécessaire"))
    if rng.random() < 0.1:  # incomplete: drop one required line
        del fields[rng.randrange(len(fields))]
    return fields


def referral_mail(rng: random.Random, index: int) -> bytes:
    """One referral mail, in one of several shapes (text, HTML table, forwarded)."""
    name, address = rng.choice(PARTNERS)
    fields = _fields(rng, index)
    sep = rng.choice([" : ", ": ", " = ", " - "])
    checklist = rng.choice(["[x] ALD   [ ] CSS   [ ] AME", "ALD : oui", "☒ ALD ☐ CSS", ""])
    text_lines = [f"{label}{sep}{value}" for label, value in fields]
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f'"{name}" <{address}>'
    msg["To"] = "liste-attente@cpts-exemple.mssante.fr"
    msg["Subject"] = rng.choice(["Fiche de saisine", "patient sans MT", "TR: inscription", "Demande MT"])
    msg["Date"] = "Mon, 16 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = f"<bench-{index}@{address.split('@')[1]}>"
    shape = rng.random()
    if shape < 0.2:
        rows = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in fields)
        charset = rng.choice(["utf-8", "iso-8859-1"])
        if charset != "utf-8":
            checklist = checklist.replace("☒", "[x]").replace("☐", "[ ]")
        msg.set_content(f"<html><body><p>Bonjour,</p><table>{rows}</table>"
                        f"<p>{checklist}</p><p>Cordialement</p></body></html>", subtype="html",
                        charset=charset)
    else:
        body = "Bonjour,\n\n"
        if shape < 0.35:
            body += "-------- Message transféré --------\nDe : secretariat@ch-exemple.mssante.fr\n\n"
        body += "\n".join(text_lines) + f"\n{checklist}\n\nCordialement,\n{name}\n"
        msg.set_content(body, charset="utf-8", cte=rng.choice(["8bit", "quoted-printable", "base64"]))
    return msg.as_bytes()

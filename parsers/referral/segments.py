"""Which lines of a mail body are read as the form (step 1 of :mod:`parsers.referral.text_form`).

Quote marks (``>``) are removed and odd spaces made plain; signatures, sign-offs
and confidentiality notices are blanked until the next forwarded mail (or a
label no signature holds, such as Nom or Motif); signatures without a sign-off are
recognised by their shape (:mod:`parsers.referral.signatures`); the header lines of
forwarded mails (``De :``, ``Objet :``…) are blanked too.
"""

from __future__ import annotations

import re

from parsers.referral.labels import CONTACT, CP_COMMUNE, IGNORED, normalise
from parsers.referral.lines import is_boundary, parse_line
from parsers.referral.signatures import blank_signatures

_MAX_CHARS = 300_000
# Labels a signature may hold (the referrer's own details): they do not end a signature.
_SIGNATURE_KEYS = frozenset({
    "telephone", "email", "adresse", "code_postal", "commune", "referent_nom", "referent_structure",
    "referent_telephone", IGNORED, CONTACT, CP_COMMUNE,
})
_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007\u2009\u3000"} | dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None
)
_ODD_SPACE = re.compile("[" + "".join(map(chr, _SPACES)) + "]")
_SIG_DASHES = re.compile(r"^\s*--\s*$")
_SIGNOFF = re.compile(
    r"^(?:bien |tres |tres bien )?(?:cordialement|cdlt|cdt|bien a vous|bien a toi|salutations|"
    r"sinceres salutations|meilleures salutations|respectueusement|amicalement|amities|"
    r"bonne journee|bonne fin de journee|bonne soiree|bonne semaine|bon week end|belle journee|"
    r"bonne continuation|confraternellement|a bientot|merci|merci d avance|merci par avance|"
    r"merci beaucoup|merci a vous|avec mes remerciements|en vous remerciant(?: par avance)?|"
    r"je vous remercie|vous remerciant|best regards|kind regards|regards|"
    r"envoye de mon|envoye depuis mon|envoye a partir de|sent from my|telecharger outlook)\b(.*)$"
)
_DISCLAIMER_WORDS = re.compile(
    r"confidenti|destinataire|intended|imprimer|environnement|disclaimer|interdit|"
    r"secret professionnel|supprimer|detruire|expediteur|sender"
)
_DISCLAIMER_START = re.compile(
    r"^(?:ce (?:message|courriel|mail|e mail|email)|this (?:e mail|email|message)|avertissement|"
    r"avis de confidentialite|confidentialite|disclaimer|pensez a l environnement|"
    r"afin de contribuer au respect de l environnement)\b"
)


def _starts_ignored_zone(line: str) -> bool:
    """A signature, a sign-off or a confidentiality notice starts here."""
    if _SIG_DASHES.match(line):
        return True
    folded = normalise(line)
    signoff = _SIGNOFF.match(folded)
    if signoff and len(signoff[1].split()) <= 4 and not line.rstrip().endswith(":"):
        return True
    if len(folded) < 40 or not _DISCLAIMER_WORDS.search(folded):
        return False
    return bool(_DISCLAIMER_START.match(folded)) or len(set(_DISCLAIMER_WORDS.findall(folded))) >= 2


def prepare_lines(text: str) -> list[str | None]:
    """Lines to read: ``None`` for a line that must not be read, ``""`` for a blank one."""
    out: list[str | None] = []
    ignoring = False
    for raw in text[:_MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _QUOTE.sub("", raw) if ">" in raw else raw
        if not line.isascii() and _ODD_SPACE.search(line):  # translate() is slow: only if needed
            line = line.translate(_SPACES)
        line = line.rstrip()
        if is_boundary(line):
            ignoring = False
            out.append(None)
            continue
        pairs = parse_line(line) if line.strip() else None
        if not pairs and _starts_ignored_zone(line):
            ignoring = True
        elif ignoring and pairs:
            ignoring = pairs[0][0] in _SIGNATURE_KEYS
        out.append(None if ignoring else line)
    return blank_signatures(out)

"""Keep only the *new* text of a reply: no quoted history, signature or disclaimer.

Mail clients quote in many shapes: ``>`` lines (Gmail, Thunderbird, Apple Mail,
Orange), an attribution line ("Le 04/11/2026 à 08:00, X a écrit :", sometimes
wrapped over two lines; "On … wrote:"), Outlook header blocks ("De : … Envoyé :
… À : … Objet :" / "From: … Sent: …") under an optional ``____`` rule,
separators ("-----Message d'origine-----", "----- Mail original -----",
"-------- Message transféré --------"), or the quoted text flattened without
any marker (HTML converted to text, Yahoo). :func:`new_text` removes them, then
cuts signatures ("-- ", "Envoyé de mon iPhone", "Cordialement" + following
lines, a "Dr X" name line after the answer) and confidentiality disclaimers.
"""

from __future__ import annotations

import re

__all__ = ["new_text"]

_I = re.IGNORECASE

# An attribution line introducing quoted history (needs a digit: date or time).
_ATTRIBUTION = re.compile(
    r"^\s*(?:le|on|am|el)\s.*\d.*(?:(?<!')\ba\s+[ée]crit|wrote|schrieb|escribi[óo])\s*:\s*$", _I
)
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}|_{2,}|={2,})?\s*(?:message d'origine|message original|original message|"
    r"mail original|message transf[ée]r[ée]|forwarded message|message r[ée]exp[ée]di[ée])"
    r"\s*(?:-{2,}|_{2,}|={2,})\s*$",
    _I,
)
_FORWARD_INTRO = re.compile(
    r"^\s*(?:d[ée]but du message r[ée]exp[ée]di[ée]|begin forwarded message)\s*:\s*$", _I
)
_RULE = re.compile(r"^\s*_{8,}\s*$")
_ORANGE = re.compile(r"^\s*>?\s*message du \d{1,2}/\d{1,2}/\d{2,4}", _I)
_HEADER_FIRST = re.compile(r"^\s*\*?(?:de|from|exp[ée]diteur)\s*:\*?\s*\S", _I)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:envoy[ée](?: le| par)?|sent|date|[àa]|to|pour|objet|subject|sujet|cc|"
    r"copie [àa])\s*:\*?", _I
)
_SIG_DASHES = re.compile(r"^--\s?$")
_MOBILE_SIG = re.compile(
    r"^\s*(?:envoy[ée] (?:de|depuis|à partir de|a partir de) (?:mon|ma|mon smartphone|"
    r"l'application|outlook|yahoo|mail|orange|gmail|samsung)\b|sent from my\b|"
    r"get outlook for\b|t[ée]l[ée]charger outlook pour\b|obtenir outlook pour\b)",
    _I,
)
_DISCLAIMER = re.compile(
    r"^\s*(?:ce (?:message|courriel|mail|e-mail|email)(?: et (?:toutes |ses |les )?"
    r"(?:[ée]ventuelles )?pi[èe]ces jointes)? (?:est|sont) (?:strictement )?confidenti|"
    r"ce message et (?:toutes )?(?:ses |les )?(?:[ée]ventuelles )?pi[èe]ces jointes|"
    r"this (?:e-?mail|message) and any attachments|avant d'imprimer|"
    r"pensez [àa] l'environnement|afin de contribuer au respect de l'environnement)",
    _I,
)
_CLOSING = re.compile(
    r"^\s*(?:cordialement|bien cordialement|tr[èe]s cordialement|bien [àa] vous|"
    r"bien amicalement|amicalement|sinc[èe]res salutations|salutations(?: distingu[ée]es)?|"
    r"respectueusement|bav|bàv|cdlt|cdt|best regards|regards)\b[\s,.!]*(?:[A-ZÀ-Ý][^\n]{0,60})?$",
    _I,
)
_NAME_LINE = re.compile(
    r"^\s*(?i:dr\.?|docteur|doctor)\s+(?:[A-ZÀ-Ý]\.\s*)?[A-ZÀ-Ý][\w'’\-]*\.?"
    r"(?:\s+(?:[A-ZÀ-Ý]\.|[A-ZÀ-Ý][\w'’\-]*)){0,3}\s*[,.]?\s*$",
)


_LE_ON = re.compile(r"^\s*(?:le|on)\s", _I)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_attribution(lines: list[str], i: int) -> int:
    """Number of lines (1 or 2) of an attribution starting at ``i``, else 0."""
    line = lines[i]
    if len(line) > 400:
        return 0
    if _ATTRIBUTION.match(line):
        return 1
    if i + 1 < len(lines) and _LE_ON.match(line):
        joined = line.rstrip() + " " + lines[i + 1].strip()
        if len(joined) <= 400 and _ATTRIBUTION.match(joined):
            return 2
    return 0


def _is_header_block(lines: list[str], i: int) -> bool:
    """True when an Outlook-like "De : / Envoyé : / À : / Objet :" block starts at ``i``."""
    if not _HEADER_FIRST.match(lines[i]):
        return False
    following = [ln for ln in lines[i + 1 : i + 6] if ln.strip()]
    return sum(1 for ln in following[:4] if _HEADER_NEXT.match(ln)) >= 2


def _next_nonblank(lines: list[str], i: int) -> str | None:
    for ln in lines[i:]:
        if ln.strip():
            return ln
    return None


def _has_text(kept: list[str]) -> bool:
    return any(ln.strip() for ln in kept)


def _strip_history(lines: list[str]) -> list[str]:
    """Drop quoted lines and attributions; cut at the first unquoted history marker."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_quoted(line):
            i += 1
            continue
        span = _is_attribution(lines, i)
        if span:
            nxt = _next_nonblank(lines, i + span)
            if nxt is not None and _is_quoted(nxt):
                i += span  # quoted block follows; text after it (bottom-posting) is kept
                continue
            break  # flattened quote (HTML converted, Yahoo): everything below is history
        if (
            _SEPARATOR.match(line)
            or _FORWARD_INTRO.match(line)
            or _ORANGE.match(line)
            or _is_header_block(lines, i)
        ):
            break
        if _RULE.match(line):
            nxt = _next_nonblank(lines, i + 1)
            long_rule = len(line.strip()) >= 20
            if long_rule or nxt is None or _HEADER_FIRST.match(nxt) or _HEADER_NEXT.match(nxt):
                break
        kept.append(line)
        i += 1
    return kept


def _strip_signature(lines: list[str]) -> list[str]:
    """Cut at the first signature or disclaimer line that follows some text."""
    for i, line in enumerate(lines):
        if _SIG_DASHES.match(line) or _MOBILE_SIG.match(line) or _DISCLAIMER.match(line):
            return lines[:i]
        if (_CLOSING.match(line) or _NAME_LINE.match(line)) and _has_text(lines[:i]):
            return lines[:i]
    return lines


def _tidy(lines: list[str]) -> str:
    text = "\n".join(ln.rstrip() for ln in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def new_text(text: str) -> str:
    """Return only the new text of a reply ``text`` (plain text body).

    Quoted history (``>`` lines, "… a écrit :", Outlook header blocks,
    "-----Message d'origine-----" and similar separators, forwarded parts),
    signatures and disclaimers are removed; blank lines are tidied. The result
    is never longer than the input and this function never raises: on
    unexpected input it returns ``""`` (non-string) or the stripped input.
    """
    if not isinstance(text, str):
        return ""
    try:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines = [ln.replace("\ufeff", "").replace("\u200b", "") for ln in lines]
        result = _tidy(_strip_signature(_strip_history(lines)))
    except Exception:  # pragma: no cover - defensive: parsing must never raise
        return text.strip()
    return result if len(result) <= len(text) else text.strip()

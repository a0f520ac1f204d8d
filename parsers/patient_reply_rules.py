"""Pattern tables for patients' answers to "Êtes-vous toujours à la recherche d'un médecin traitant ?".

All patterns apply to text normalised by :func:`parsers.reply_text.normalize`
(lower case, no accents, SMS expanded, words separated by single spaces).
"yes" means *still looking*, "no" means *no longer looking / found one*.
"""

from __future__ import annotations

import re

__all__ = [
    "ACKNOWLEDGEMENT", "AMBIGUOUS_NON", "BENIGN_WORDS", "ESCALATIONS", "FOUND", "NO_QUALIFIERS",
    "REMOVAL", "STILL_LOOKING", "WEAK_FOUND", "YES_WORDS",
]

_DOC = r"(?:medecins?(?: traitants?)?|generalistes?|docteurs?|pediatres?)"
_SUBJ = (
    r"(?:j'ai|j'en ai|on a|nous avons|avons|il a|elle a|ils ont|elles ont|"
    r"(?<!y )(?<!n')\ba)"
)
_ADV = r"(?: (?:enfin|finalement|pu|deja|bien|maintenant|desormais|donc|eu|aussi))*"


def _c(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


# Statements that the patient still has no doctor / still looks for one.
STILL_LOOKING = _c(
    r"\b(?:toujours|encore) (?:a la |en )?recherche\b",
    r"\b(?:cherche|cherchons|cherchez|recherche|recherchons|cherchent) (?:toujours|encore)\b",
    r"\btoujours (?:sans|pas de|pas d'|aucun|personne|rien|en attente|besoin|interesse|"
    r"d'actualite|le cas|inscrit)",
    r"\bsans (?:aucun |de )?(?:nouveau )?" + _DOC + r"\b",
    r"\b(?:pas|plus|aucun|jamais eu) (?:encore |toujours )?(?:de |d')?(?:nouveau |vrai )?"
    + _DOC + r"\b",
    r"\b(?:pas|jamais|rien|personne|aucun) (?:encore |toujours |pu |su |reussi a )?trouv",
    r"\btrouv\w* (?:personne|aucun|rien|pas)\b",
    r"\b(?:personne|aucun(?: " + _DOC + r")?) (?:ne |n')?(?:veut|veulent|peut|peuvent|accepte|"
    r"acceptent|prend|prennent)\b",
    r"\b(?:ne|n') (?:prennent|prend|acceptent|accepte) (?:plus|pas) de nouveaux patients\b",
    r"\bne (?:veut|veulent|peut|peuvent) pas (?:me|nous|la|le) prendre\b",
    r"\bn'ai (?:toujours |encore |malheureusement )?personne\b",
    r"\btoujours personne\b",
    r"\bpersonne pour me (?:suivre|soigner)\b",
    r"\b(?:j'attends|attends|attend|attendons) (?:toujours|encore)\b",
    r"\btoujours en attente\b",
    r"\bque (?:j'attends|j'attend|nous attendons|on attend)\b",
    r"\ben attente d'un " + _DOC + r"\b",
    r"\b(?:toujours|encore) besoin\b",
    r"\bplus que jamais\b",
    r"\brester inscrite?s?\b",
    r"\bgarde[rz]?(?: moi| nous)? sur (?:la|votre) liste\b",
    r"\bne pas m'oublier\b|\bne m'oubliez pas\b",
    r"\b(?:pas|plus) (?:encore )?suivie?s?\b(?! par)",
    r"\binscrite?s? chez aucun\b",
    r"\b(?:pas|plus) (?:encore |toujours )?inscrite?s? chez\b",
    r"\b(?:ne peut|ne veut|ne peuvent|ne veulent|refuse) (?:pas )?(?:etre|devenir) "
    r"(?:mon|son|sa|notre|leur) " + _DOC,
    r"\b(?:a|ont) refuse\b",
)

# Statements that a doctor has been found / the patient no longer looks.
# What may follow "trouvé" for it to mean "found a doctor" ("j'ai trouvé votre message": no).
_FOUND_NEXT = (
    r"(?= ?$| (?:merci|grace|c'est|depuis|a|au|aux|sur|chez|par|donc|et|moi|enfin|finalement|"
    r"tout|toute?s?|seule?s?|pour|il|elle|vous|ca|oui|non|dr|docteur|" + _DOC + r")\b"
    r"| (?:un|une|mon|ma|son|sa|notre|leur|le|la)(?: nouveau| nouvelle)? (?:" + _DOC
    + r"|dr|docteur)\b| (?:un|une) ?$| (?:un|une) (?:merci|grace|c'est|depuis|a|au|sur|chez|par|"
    r"et|pour)\b)"
)

FOUND = _c(
    _SUBJ + _ADV + r" trouv\w*" + _FOUND_NEXT,
    r"^ trouv\w*" + _FOUND_NEXT,
    _SUBJ + _ADV + r" (?:un|une|mon|son) (?:nouveau |nouvelle )?" + _DOC + r"\b",
    r"\bj'en ai (?:maintenant |enfin |deja |trouve )?(?:un|une)\b",
    r"\b(?:est|est devenue?|est maintenant|est desormais|sera) (?:mon|ma|son|sa|notre|leur) "
    r"(?:nouveau |nouvelle )?(?:medecin traitant|" + _DOC + r")\b",
    r"\bdevenue? (?:mon|son|sa|notre|leur) medecin traitant\b",
    r"\b(?:a|ont) accepte de (?:me|le|la|nous|l'|les) (?:prendre|suivre|soigner)\b",
    r"\baccepte d'(?:etre|devenir) (?:mon|son|sa|notre|leur) medecin\b",
    r"\b(?:a|ont) (?:bien )?voulu (?:etre|devenir) (?:mon|son|sa|notre|leur) medecin\b",
    r"\b(?:a|ont) accepte de devenir (?:mon|son|sa|notre|leur) medecin\b",
    r"\bm'a (?:pris|prise|accepte|acceptee)\b",
    r"\b(?:ete|suis|sommes|est) (?:pris|prise|accepte|acceptee|acceptes) (?:par|chez|comme)\b",
    r"\bun " + _DOC + r" (?:a|m'a) accepte\b",
    r"\bplus besoin\b",
    r"\bn'en ai pas besoin\b",
    r"\bplus (?:la peine|necessaire|d'actualite|utile)\b",
    r"\bne (?:cherche|cherchons|recherche|recherchons|cherchent) plus\b",
    r"\bplus (?:a la|en) recherche\b",
    r"\bplus (?:interessee?s?|concernee?s?)\b",
    r"\bdeclare\w* (?:le |la )?.{0,40}\b(?:comme|en tant que) (?:mon |ma |son )?medecin traitant\b",
    r"\bdeclaration (?:de )?medecin traitant (?:faite|effectuee|remplie)\b",
)

# Weak hints of "no": decisive only after an explicit "non".
WEAK_FOUND = _c(
    r"\bc'est (?:bon|ok|regle|fait)\b",
    r"\b(?:suivie?s?|pris en charge|prise en charge) par\b",
    r"\bme suit\b",
)

# Facts that a coordinator must handle whatever the answer (checked first).
ESCALATIONS: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
    ("stop_request", _c(
        r"\bstop\b",
        r"\bne plus (?:m'|me |nous |lui )?(?:ecrire|contacter|envoyer|relancer|solliciter)",
        r"\barrete[rz]? (?:de |d')(?:m'|me |nous )?(?:ecrire|envoyer|contacter|relancer|harceler)",
        r"\bdesinscri", r"\bdesabonn", r"\bunsubscribe\b",
        r"\bne (?:m'|me |nous )?(?:ecrivez|contactez|envoyez|relancez) plus\b",
        r"\bsupprime[rz]? (?:mes donnees|mon adresse|mes coordonnees)",
        r"\bne (?:veux|voulons|souhaite|souhaitons|desire) plus (?:recevoir|etre contactee?s?)\b",
        r"\bne plus etre (?:contactee?s?|sollicitee?s?)\b", r"\bcesse[rz]? de (?:m'|me |nous )?ecrire",
        r"\blaisse[rz]? (?:moi|nous) tranquilles?\b", r"\bplus de (?:mails?|messages?|courriels?)\b",
    )),
    ("emotion", _c(
        r"\? \?", r"\bpourquoi\b", r"\b(?:la|le) meme (?:reponse|question|chose|probleme|histoire)\b", r"\bras le bol\b",
        r"\bhonte", r"\bnuls?\b", r"\bvous (?:vous )?moquez\b", r"\bservez a quoi\b", r"\bmarre\b",
        r"\bfatiguee?s?\b", r"\bencore ce (?:mail|message|courriel)\b", r"\bvous trouvez ca normal\b",
    )),
    ("deceased", _c(
        r"\bdecede", r"\bdeces\b", r"\bnous a quitte", r"\best morte?\b", r"\bobseques\b",
        r"\bdefunt",
    )),
    ("moved", _c(
        r"\bdemenag",
        r"\bn'habite plus\b",
        r"\bne (?:vis|vit|vivons|reside|habite|habitons) plus\b",
        r"\b(?:me suis|s'est|nous sommes|sommes|suis) (?:installee?s?|partie?s?) "
        r"(?:a|en|dans|au|aux|sur)\b(?! la retraite)",
        r"\bpartie?s? (?:vivre|habiter|m'installer|s'installer)\b",
        r"\bquitte (?:la region|le departement|la ville)\b",
        r"\bplus (?:dans|sur) (?:la region|le secteur|le departement)\b",
        r"\bnouvelle adresse\b",
    )),
    ("institution", _c(
        r"\behpad\b", r"\bmaison de retraite\b", r"\bhospitalise", r"\bhopital\b",
        r"\ben (?:foyer|residence senior|usld)\b",
    )),
    ("wrong_person", _c(
        r"\btrompe", r"\berreur\b", r"\bjamais (?:ete )?inscrite?\b", r"\bqui etes vous\b",
        r"\bne (?:vous )?connais pas\b", r"\bpas concernee?\b",
        r"\bcomment avez vous (?:eu|obtenu)",
    )),
    ("auto_reply", _c(
        r"\babsente? (?:du bureau |de mon bureau )?(?:jusqu|du \d)", r"\bmessage automatique\b",
        r"\bout of office\b", r"\brepondeur\b", r"\bje (?:suis|serai) (?:en conges|absente?)\b",
    )),
    ("several_people", _c(
        r"\bpour (?:moi|mon|ma|mes)\b.{0,80}\bpour (?:moi|mon|ma|mes|lui|elle)\b",
    )),
    ("hedged", _c(
        r"\bpeut etre\b",
        r"\b(?:je (?:ne )?)?sais pas\b(?! (?:me |m'|se |s'|utiliser|comment|faire|lire|ecrire|bien)\b)", r"\bje crois\b",
        r"\bje pense\b", r"\bnormalement\b", r"\bpas sure?\b", r"\bon verra\b",
        r"\bprobablement\b", r"\bsans doute\b", r"\benfin non\b", r"\benfin oui\b",
        r"\ben attente de (?:sa|la|leur) reponse\b", r"\bj'attends (?:sa|la|leur) reponse\b",
    )),
    ("preference", _c(r"\bprefere",)),
)

# A request to leave the list: a "no" only together with a FOUND statement.
REMOVAL = _c(
    r"\b(?:retire[rz]?|enleve[rz]?|raye[rz]?|supprime[rz]?|sortir|sortez|radie[rz]?)\b"
    r".{0,25}\bliste\b",
)

# Caveats that forbid an automatic "no" (found a doctor, but ...).
NO_QUALIFIERS = _c(
    r"\bmais\b", r"\bprovisoire", r"\btemporaire", r"\ben attendant\b", r"\bremplacant",
    r"\bretraite\b", r"\bpart (?:a|en)\b", r"\bpas (?:encore )?(?:mon|son|sa|notre) medecin traitant\b",
    r"\bsos medecin", r"\bteleconsult", r"\burgences?\b", r"\brendez vous\b", r"\brdv\b",
    r"\bbientot\b", r"\bsi\b", r"\?",
)

# After an explicit "non": means "not yet found" as much as "no".
AMBIGUOUS_NON = _c(
    r"\bnon (?:toujours |encore |pas )?trouv", r"\b(?:helas|malheureusement|introuvable)\b",
    r"\btoujours pas\b", r"\bpas encore\b", r"\bpour l'instant\b", r"\bpour le moment\b",
    r"\bpas maintenant\b", r"\bpas pour l'heure\b",
)

# "Oui, j'ai bien reçu votre message": a bare "oui" that only acknowledges receipt.
ACKNOWLEDGEMENT = _c(
    r"\b(?:bien )?recu (?:votre|le|ce|vos) (?:message|mail|courriel|e mail|email|relance)s?\b",
)

# Words meaning yes on their own ("toujours" unless followed by a negation).
YES_WORDS = _c(
    r"\boui\b", r"\btoujours\b(?! (?:pas|sans|rien|personne)\b)", r"\babsolument\b",
    r"\bevidemment\b", r"\bbien sur\b", r"\btout a fait\b", r"\baffirmatif\b",
)

# Politeness and filler that may surround a bare "non" without changing it.
_BENIGN = """
    non merci beaucoup bonjour bonsoir madame monsieur mme mr m cordialement salutations
    bien bonne journee soiree continuation a vous pour votre aide tout et de la le les
    heureusement desole desolee c'est ok bon je vous remercie remercie encore mille fois
    ! ? au revoir bav cdlt
"""
BENIGN_WORDS: frozenset[str] = frozenset(_BENIGN.split())

"""Form labels as partners write them → canonical keys (spec/referral-form.md).

Labels are compared after :func:`normalise`: case, accents, punctuation and
extra spaces do not matter, text in parentheses is tried with and without, and
qualifiers such as "du patient" / "de la patiente" are ignored. A label not
listed is read from its words (:mod:`parsers.referral.label_words`: head noun and
qualifiers, "N° de téléphone portable de la résidente"), typing slips corrected.

Besides the canonical keys of :mod:`parsers.referral.types`, :func:`lookup_label`
may answer a few *compound* keys that the form reader splits itself
(:data:`NOM_PRENOM`, :data:`PRENOM_NOM`, :data:`CP_COMMUNE`, :data:`CONTACT`)
or :data:`IGNORED` for labels that are known but not kept (fax, âge, date of
the form…): they still end a multi-line value and are never read as another field.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from parsers.referral.label_words import VOCABULARY, correct, word_key
from parsers.referral.types import BOOLEAN_KEYS

NOM_PRENOM = "+nom_prenom"
PRENOM_NOM = "+prenom_nom"
CP_COMMUNE = "+cp_commune"
CONTACT = "+contact"
IGNORED = "+ignored"

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nom": (
        "nom", "noms", "nom de naissance", "nom naissance", "nom de famille", "patient nom",
        "nom de jeune fille", "nom jeune fille", "nom de l assure", "nom de l assuree",
        "nom patronymique", "nom du beneficiaire",
    ),
    "nom_usage": (
        "nom d usage", "nom usage", "nom marital", "nom usuel", "nom d epouse", "nom epouse",
        "nom utilise", "nom de mariage", "nom d usage eventuel",
    ),
    "prenom": (
        "prenom", "prenoms", "premier prenom", "prenom usuel", "prenom de naissance",
        "prenom d usage", "patient prenom", "prenom s",
    ),
    "date_naissance": (
        "date de naissance", "date naissance", "date de naiss", "date naiss", "date de nais",
        "ne e le", "ne le", "nee le", "ne", "nee", "ne e", "n e le", "ddn", "d d n", "dn",
        "naissance", "date of birth", "dob", "birth date", "date de naissance jj mm aaaa",
    ),
    "sexe": ("sexe", "genre", "civilite", "sexe f m", "sexe h f", "sexe m f", "sex"),
    "ins": (
        "ins", "nir", "ins nir", "nir ins", "matricule ins", "matricule", "numero ins", "n ins",
        "no ins", "num ins", "ss", "n ss", "no ss", "num ss", "numero ss", "nss", "n de ss",
        "secu", "n secu", "no secu", "n de secu", "num secu", "numero secu", "numero de secu",
        "securite sociale", "n securite sociale", "no securite sociale", "n de securite sociale",
        "numero de securite sociale", "numero securite sociale", "num securite sociale",
        "immatriculation", "n immatriculation", "numero d immatriculation",
        "numero de carte vitale", "n carte vitale", "carte vitale", "n de carte vitale",
        "numero d assure", "numero d assure social", "n assure social", "n d assure",
        "numero de securite sociale nir",
    ),
    "telephone": (
        "telephone", "tel", "tels", "telephones", "tel patient", "telephone patient",
        "portable", "mobile", "tel portable", "telephone portable", "tel mobile",
        "telephone mobile", "tel fixe", "telephone fixe", "fixe", "tel domicile",
        "telephone domicile", "numero de telephone", "n de telephone", "n telephone",
        "n tel", "no tel", "num tel", "numero tel", "gsm", "phone", "telephone s",
        "tel s", "tel perso", "telephone personnel", "portable patient", "telephone joignable",
        "numero de portable", "n portable", "tel port", "port",
    ),
    "email": (
        "mail", "e mail", "email", "mel", "courriel", "adresse mail", "adresse e mail",
        "adresse email", "adresse electronique", "adresse courriel", "adresse mel",
        "mail personnel", "e mail personnel", "email personnel", "mail perso", "email perso",
        "e mail perso", "courriel personnel", "mail patient", "e mail patient",
    ),
    "adresse": (
        "adresse", "adresse postale", "adresse domicile", "adresse du domicile",
        "adresse complete", "adresse personnelle", "adresse actuelle", "domicile", "rue",
        "n et rue", "numero et rue", "voie", "adresse de residence",
    ),
    "code_postal": (
        "code postal", "cp", "c p", "code post", "code postale", "postal", "zip",
        "code postal du domicile",
    ),
    "commune": (
        "commune", "ville", "localite", "ville de residence", "commune de residence",
        "lieu de residence", "commune du domicile", "ville du domicile", "ville domicile",
        "commune domicile", "residence", "commune d habitation", "ville d habitation",
    ),
    "ald": (
        "ald", "affection longue duree", "affection de longue duree", "ald 30", "ald30",
        "ald exoneration", "exoneration ald", "ald en cours", "ald oui non",
        "affection longue duree ald", "ald affection longue duree",
        "ald affection de longue duree", "affection de longue duree ald",
    ),
    "css": (
        "css", "c2s", "cmu", "cmu c", "cmuc", "acs", "complementaire sante solidaire",
        "complementaire solidaire", "cmu complementaire", "css c2s", "c2s css", "css cmu c",
        "css ex cmu c", "beneficiaire css", "beneficiaire de la css", "css cmu", "cmu css",
        "complementaire sante solidaire css", "css complementaire sante solidaire",
    ),
    "ame": ("ame", "aide medicale d etat", "aide medicale de l etat", "ame aide medicale d etat"),
    "mobilite_reduite": (
        "mobilite reduite", "a mobilite reduite", "personne a mobilite reduite", "pmr",
        "visites a domicile", "visite a domicile", "visites domicile", "visite domicile",
        "vad", "besoin de visites a domicile", "besoin de vad", "besoin de visite a domicile",
        "mobilite reduite vad", "mobilite reduite visites a domicile",
        "deplacement impossible", "ne se deplace pas", "patient non deplacable",
    ),
    "situation_complexe": (
        "situation complexe", "patient complexe", "polypathologie", "polypathologique",
        "patient polypathologique", "cas complexe", "situation medico sociale complexe",
        "situation medicale complexe", "situation sociale complexe", "prise en charge complexe",
        "situation complexe polypathologie",
    ),
    "urgent": (
        "urgent", "urgence", "prioritaire", "priorite", "demande urgente", "caractere urgent",
        "urgent prioritaire", "demande prioritaire", "situation urgente",
    ),
    "motif": (
        "motif", "motifs", "motif de la demande", "motif d inscription", "motif de l inscription",
        "motif de l orientation", "motif de la saisine", "motif d orientation", "commentaire",
        "commentaires", "observation", "observations", "contexte", "remarque", "remarques",
        "informations complementaires", "infos complementaires", "information complementaire",
        "precisions", "situation", "situation du patient", "objet de la demande", "demande",
        "besoins", "besoin", "notes", "note", "contexte de la demande", "contexte medical",
        "contexte social", "elements de contexte", "motif contexte", "autres informations",
        "informations utiles", "divers", "commentaire libre", "resume de la situation",
        "raison", "raison de la demande", "raisons", "pourquoi", "motif du signalement",
    ),
    "ancien_medecin": (
        "ancien medecin traitant", "ancien mt", "precedent medecin", "precedent medecin traitant",
        "medecin traitant precedent", "ancien medecin", "dernier medecin traitant",
        "dernier medecin", "ex medecin traitant", "ex mt", "medecin traitant", "mt",
        "medecin traitant actuel", "medecin traitant anterieur", "ancien medecin traitant motif",
        "ancien medecin traitant et motif", "medecin precedent",
    ),
    "aidant": (
        "aidant", "aidants", "personne de confiance", "contact aidant", "aidant principal",
        "aidant familial", "proche aidant", "personne a prevenir", "personne a contacter",
        "nom de l aidant", "coordonnees aidant", "coordonnees de l aidant", "tel aidant",
        "telephone aidant", "telephone de l aidant", "tel de l aidant", "entourage",
        "tuteur", "curateur", "tuteur curateur", "representant legal", "mesure de protection",
        "aidant personne de confiance", "personne de confiance aidant", "famille",
    ),
    "consentement": (
        "consentement", "accord", "accord du patient", "accord patient", "accord de la patiente",
        "patient informe et d accord", "patient informe", "patient d accord", "d accord",
        "le patient est d accord", "la patiente est d accord", "patiente informee et d accord",
        "patient e informe e et d accord", "informe et d accord", "accord pour inscription",
        "consentement recueilli", "consentement oral", "consentement obtenu",
        "consentement eclaire", "consentement du patient recueilli", "information et consentement",
        "le patient a donne son accord", "la patiente a donne son accord", "patient consentant",
        "accord pour etre recontacte", "accepte d etre recontacte", "consentement a l inscription",
        "accord du patient pour l inscription", "accord du patient pour inscription",
        "le patient accepte", "la patiente accepte", "patient informe de la demande",
        "consentement du patient a l inscription", "accord recueilli", "accord oral",
        "consentement recueilli oui non", "accord inscription", "consentement inscription",
        "le patient est il d accord", "la patiente est elle d accord", "patient d accord pour l inscription",
        "accord du patient obtenu", "consentement du patient obtenu", "patient informe et consentant",
        "accord de la personne", "consentement de la personne", "accord de l usager",
    ),
    "referent_nom": (
        "oriente par", "orientee par", "oriente e par", "adresse par", "adressee par", "referent",
        "referente", "nom du referent", "nom du professionnel", "professionnel", "demandeur",
        "nom du demandeur", "emetteur", "rempli par", "fiche remplie par", "formulaire rempli par",
        "redacteur", "signale par", "orienteur", "professionnel referent", "referent nom",
        "personne referente", "professionnel orienteur", "nom du professionnel orienteur",
        "nom prenom du referent", "nom et prenom du referent", "saisi par",
        "nom du professionnel referent", "interlocuteur", "contact referent", "adresseur",
        "medecin adresseur", "medecin orienteur", "adresse e par",
    ),
    "referent_structure": (
        "structure", "etablissement", "service", "structure du referent", "organisme",
        "structure orientatrice", "structure demandeuse", "structure d origine", "service demandeur",
        "etablissement de sante", "structure service", "etablissement service",
        "service etablissement", "structure orienteuse", "organisme demandeur",
        "structure du professionnel", "nom de la structure", "lieu d exercice",
    ),
    "referent_telephone": (
        "tel referent", "telephone referent", "telephone du referent", "tel du referent",
        "telephone du professionnel", "tel professionnel", "tel du professionnel",
        "tel demandeur", "telephone demandeur", "tel du demandeur", "telephone du demandeur",
        "tel structure", "telephone structure", "tel de la structure", "telephone de la structure",
        "tel service", "telephone du service", "tel du service", "tel pro", "telephone pro",
        "ligne directe", "tel orienteur", "telephone orienteur", "tel professionnel referent",
        "telephone professionnel", "tel de contact du referent", "tel du professionnel referent",
    ),
    NOM_PRENOM: (
        "nom prenom", "nom et prenom", "nom prenoms", "nom et prenoms", "nom prenom du patient",
        "patient", "patiente", "patient e", "identite", "identite du patient", "nom prenom patient",
        "nom de naissance prenom", "nom prenom de naissance", "beneficiaire", "usager",
    ),
    PRENOM_NOM: ("prenom nom", "prenom et nom", "prenoms nom"),
    CP_COMMUNE: (
        "cp ville", "cp commune", "code postal ville", "code postal et ville", "code postal commune",
        "code postal et commune", "cp et ville", "cp et commune", "ville cp", "commune cp",
        "ville code postal", "commune code postal", "cp localite", "code postal localite",
    ),
    CONTACT: (
        "coordonnees", "coordonnees du patient", "coordonnees patient", "contact", "contact patient",
        "contact du patient", "joignable au", "moyen de contact", "coordonnees telephoniques",
    ),
    IGNORED: (
        "age", "fax", "telecopie", "date", "date de la demande", "date de saisine", "date d envoi",
        "date de la fiche", "mail referent", "e mail referent", "email referent", "mail du referent",
        "mail professionnel", "mail du professionnel", "e mail du professionnel", "mail pro",
        "email du professionnel", "courriel du referent", "courriel professionnel", "mss", "mssante",
        "fonction", "profession", "qualite", "fonction du referent", "profession du referent",
        "medecin souhaite", "medecin demande", "signature", "ipp", "n dossier", "numero de dossier",
        "rpps", "finess", "n finess", "adeli", "lieu de naissance", "pays de naissance",
        "nationalite", "langue", "langue parlee", "situation familiale", "mutuelle", "caisse",
        "regime", "organisme d assurance maladie", "caisse d assurance maladie", "n caisse",
        "pieces jointes", "pj", "profession du patient", "site", "site web", "web",
    ),
}

_LOOKUP: dict[str, str] = {
    syn: key for key, synonyms in _SYNONYMS.items() for syn in synonyms
}
# Words a typing slip is corrected to (label_words.correct).
_VOCABULARY = VOCABULARY | {word for syn in _LOOKUP for word in syn.split() if len(word) >= 6}

# Words that only say whose field it is ("Téléphone du patient", "Patient nom").
_QUALIFIER = re.compile(
    r"(?:^(?:patient|patiente|patient e|usager|beneficiaire)\s+)"
    r"|(?:\s+(?:du|de la|de l|des)?\s*(?:patient|patiente|patient e|usager|usagere|"
    r"beneficiaire|assure|assuree|personne)$)"
)
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_FILLER = re.compile(
    r"^(?:(?:voici|voila|et|le|la|les|l|son|sa|ses|votre|vos|leur|du|de|d|un|une)\s+)+"
    r"|\s+(?:est|sont|c est|etait)(?:\s+(?:le|la|l|de|du))?$"
)
_NUMBERED = re.compile(r"\s+\d$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_CACHED_LENGTH = 200  # longer texts (free text, whole lines) are folded without caching


def normalise(text: str) -> str:
    """Fold ``text`` for comparison: lower case, no accents, punctuation → one space."""
    if type(text) is str and len(text) <= _CACHED_LENGTH:
        return _fold_cached(text)
    return _fold(text)


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose: the same answer, faster
        return _NON_ALNUM.sub(" ", text.lower()).strip()
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("æ", "ae").replace("ß", "ss")
    return _NON_ALNUM.sub(" ", text).strip()


# Labels, answers and short values come back again and again (the same form template).
_fold_cached = functools.lru_cache(maxsize=16384)(_fold)


def _candidates(label: str) -> list[str]:
    """The normalised forms worth trying for one raw label, most literal first.

    Then without parentheses, without "du patient"-like qualifiers, without a
    leading article or possessive and a trailing "est" ("Son code postal est"),
    without a trailing number ("Tél 2").
    """
    if "(" not in label and "[" not in label:
        folded = normalise(label)
        if " " not in folded:  # one word (a name, a date, a number): each pattern needs a space
            return [folded] if folded else []
    return _all_candidates(label)


def _all_candidates(label: str) -> list[str]:
    out: list[str] = []
    for raw in (label, _PARENS.sub(" ", label)):
        norm = normalise(raw)
        for form in (norm, _QUALIFIER.sub("", norm).strip()):
            bare = _FILLER.sub("", form).strip()
            for candidate in (form, bare, _QUALIFIER.sub("", bare).strip(), _NUMBERED.sub("", form)):
                if candidate and candidate not in out:
                    out.append(candidate)
    return out


# "Accord de l'assurée pour transmission", "Consentement à l'inscription sur la liste"…
_CONSENT_LABEL = re.compile(
    r"^(?:accord|consentement)\b|\b(?:d accord|en accord|a donne son (?:accord|consentement)|"
    r"consentement (?:du|de la|de l) (?:patient|patiente|personne|interesse|interessee))\b"
)


@functools.lru_cache(maxsize=8192)
def lookup_label(label: str, *, loose: bool = True) -> str | None:
    """The canonical (or compound, or :data:`IGNORED`) key for a raw label, else ``None``.

    ``loose`` also accepts consent labels with extra words ("Accord de l'assurée
    pour transmission"); leave it off where the label has no separator after it.
    """
    if len(label) > 80:
        return None
    if not _LETTER.search(normalise(label)):
        return None  # a date, a phone number, a code: every label and rule needs a letter
    return _lookup(label, loose=loose)


_LETTER = re.compile(r"[a-z]")  # normalised text holds only a-z, 0-9 and spaces


def _lookup(label: str, *, loose: bool) -> str | None:
    candidates = _candidates(label)
    for form in candidates:
        key = _LOOKUP.get(form)
        if key is not None:
            return key
    for form in candidates:  # typing slips, then head noun + qualifiers (label_words)
        fixed = correct(form, _VOCABULARY)
        key = _LOOKUP.get(fixed) if fixed != form else None
        if key is None:
            key = word_key(fixed)
        if key is not None:
            return key
    if "/" in label:  # "CMU-C / CSS", "Ville / Commune": alternatives naming one field
        keys = {lookup_label(part, loose=loose) for part in label.split("/")}
        if len(keys) == 1 and None not in keys:
            return keys.pop()
    if loose and candidates and len(candidates[0].split()) <= 10:
        return _loose_key(candidates[0])
    return None


_CAREGIVER = re.compile(r"\b(?:aidant|aidante|personne de confiance|personne a prevenir|tuteur|curateur)\b")
_REFERRER = re.compile(r"\b(?:referent|referente|orienteur|orienteuse|demandeur|professionnel)\b")
_REFERRER_PHONE = re.compile(r"\b(?:tel|telephone|portable|ligne)\b")
_REFERRER_NAME = re.compile(r"\bnom\b")
_REFERRER_IGNORED = re.compile(r"\b(?:mail|e mail|email|courriel|mel|fax|fonction|profession)\b")
_REFERRER_STRUCTURE = re.compile(r"\b(?:structure|etablissement|service|organisme)\b")
_DOCTOR = re.compile(r"\b(?:medecin|mt)\b")
_WANTED_DOCTOR = re.compile(r"\bsouhait|\bdemand")


def _loose_key(folded: str) -> str | None:
    """Keys recognised by a few words anywhere in a longer label (after a separator only)."""
    if _CONSENT_LABEL.search(folded):
        return "consentement"
    if _CAREGIVER.search(folded):
        return "aidant"
    if _REFERRER.search(folded):
        if _REFERRER_PHONE.search(folded):
            return "referent_telephone"
        if _REFERRER_NAME.search(folded):
            return "referent_nom"
        if _REFERRER_IGNORED.search(folded):
            return IGNORED
        if _REFERRER_STRUCTURE.search(folded):
            return "referent_structure"
        return "referent_nom"
    if _DOCTOR.search(folded) and not _WANTED_DOCTOR.search(folded):
        return "ancien_medecin"  # "Nom du médecin traitant", "MT précédent et motif du départ"
    return None


def lookup_boolean_prefix(text: str) -> str | None:
    """The boolean key named at the start of ``text`` ("Mobilité réduite / VAD" → mobilite_reduite).

    Used for checklist items, where free words often follow the criterion; a
    sentence about the patient's agreement ("J'atteste que le patient a donné
    son accord…") names ``consentement``.
    """
    folded = normalise(_PARENS.sub(" ", text))
    words = folded.split()[:8]
    for end in range(len(words), 0, -1):
        key = _LOOKUP.get(" ".join(words[:end]))
        if key in BOOLEAN_KEYS:
            return key
    if len(folded.split()) <= 30 and _CONSENT_LABEL.search(folded):
        return "consentement"
    return None


# Lines of a forwarded or quoted mail header ("De : …", "Objet : …"): never form fields.
_HEADER_LABELS = frozenset({
    "de", "from", "a", "to", "cc", "cci", "bcc", "objet", "subject", "envoye", "envoye le",
    "sent", "date", "sujet", "repondre a", "reply to", "importance", "expediteur", "destinataire",
    "destinataires", "envoye par", "pour", "copie", "copie a",
})


def is_header_label(label: str) -> bool:
    """True for the labels of a forwarded mail's header block (De, Envoyé, À, Objet…)."""
    return normalise(label) in _HEADER_LABELS

"""Rendering the French mail templates (Jinja2), with a folder that may override them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

import templates as shipped
from mailbot.errors import TemplateError


@dataclass(frozen=True)
class RenderedMail:
    """A rendered template: subject, plain text and optional HTML."""

    subject: str
    text: str
    html: str | None = None


_WOMAN = {"le": "la patiente", "Le": "La patiente", "ce": "cette patiente",
          "Ce": "Cette patiente", "e": "e", "il": "elle", "Il": "Elle", "pronoun": "la",
          "au": "à la patiente", "patient": "patiente", "Patient": "Patiente", "ne": "née", "sil": "si elle"}
_MAN = {"le": "le patient", "Le": "Le patient", "ce": "ce patient", "Ce": "Ce patient", "e": "",
        "il": "il", "Il": "Il", "pronoun": "le", "au": "au patient", "patient": "patient",
        "Patient": "Patient", "ne": "né", "sil": "s'il"}


def patient_words(context: dict[str, Any]) -> dict[str, str]:
    """The words agreeing with the sex of the patient the mail is about (masculine when
    unknown): from the context's ``entry``, ``patient`` (a mapping) or ``sexe``."""
    sexe: Any = context.get("sexe")
    for source in (context.get("patient"), context.get("entry")):
        if sexe is None and isinstance(source, dict):
            sexe = source.get("sexe")
        elif sexe is None and source is not None and not isinstance(source, str):
            sexe = getattr(source, "sexe", None)
    woman = isinstance(sexe, str) and sexe.strip().upper().startswith("F")
    words = dict(_WOMAN if woman else _MAN)
    if not isinstance(sexe, str) or not sexe.strip():
        words["ne"] = "né(e)"
    return words


class Templates:
    """Looks templates up in ``override`` first, then in the shipped ``templates/``."""

    def __init__(self, override: Path | None = None) -> None:
        paths = [str(override)] if override else []
        paths.append(str(shipped.PATH))
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(paths), autoescape=jinja2.select_autoescape(["html.j2"]),
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
            trim_blocks=False, lstrip_blocks=False,
        )

    def render(self, name: str, **context: Any) -> RenderedMail:
        """Render ``<name>.txt.j2`` (and ``<name>.html.j2`` when it exists).

        Templates also get ``g``, the words agreeing with the patient's sex
        (``{{ g.Ce }} est inscrit{{ g.e }}``: « Cette patiente est inscrite »).
        """
        context.setdefault("g", patient_words(context))
        try:
            template = self.env.get_template(f"{name}.txt.j2")
            ctx = template.new_context(context)
            subject = "".join(template.blocks["subject"](ctx)).strip()
            text = "".join(template.blocks["body"](ctx)).strip() + "\n"
            html = None
            try:
                html_template = self.env.get_template(f"{name}.html.j2")
            except jinja2.TemplateNotFound:
                html_template = None
            if html_template is not None:
                html = html_template.render(context)
        except jinja2.TemplateNotFound as error:
            raise TemplateError(f"modèle de message introuvable : {error.name}") from None
        except KeyError as error:
            raise TemplateError(f"le modèle {name} n'a pas de bloc {error}") from None
        except jinja2.TemplateError as error:
            raise TemplateError(f"le modèle {name} ne peut pas être produit : {error}") from None
        return RenderedMail(" ".join(subject.split()), text, html)

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
        """Render ``<name>.txt.j2`` (and ``<name>.html.j2`` when it exists)."""
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

"""Choosing the outbound route of a recipient, and refusing health data on insecure ones."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch

from mailbot.config import MaildirRouteConfig, OutboundConfig, SmtpRouteConfig

# Domains of the MSSanté space (health data allowed): *.mssante.fr and the operators' own.
MSSANTE_PATTERNS = ("mssante.fr", "*.mssante.fr")


@dataclass(frozen=True)
class Route:
    """One outbound route: a name for logs, its settings and whether it may carry health data."""

    name: str
    config: MaildirRouteConfig | SmtpRouteConfig

    @property
    def secure(self) -> bool:
        """True when health data may travel on this route."""
        return self.config.secure


def domain_of(address: str) -> str:
    """The lower-case domain of an address."""
    return address.rsplit("@", 1)[-1].strip().lower()


def is_mssante(address: str) -> bool:
    """True for an address in the MSSanté space."""
    domain = domain_of(address)
    return any(fnmatch(domain, pattern) for pattern in MSSANTE_PATTERNS)


def routes_of(config: OutboundConfig) -> list[Route]:
    """The configured routes, the default one last."""
    routes = [Route(f"route{i}", r) for i, r in enumerate(config.routes, start=1)]
    routes.append(Route("default", config.default_route()))
    return routes


def choose_route(routes: list[Route], recipient: str) -> Route:
    """The first route whose ``domains`` match the recipient, else the default (last)."""
    domain = domain_of(recipient)
    for route in routes[:-1]:
        if any(fnmatch(domain, pattern.lower()) for pattern in route.config.domains):
            return route
    return routes[-1]

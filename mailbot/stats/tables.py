"""The report as titled tables of French text: what the terminal and the HTML page show.

:func:`report_tables` reads the JSON-ready report (``docs/stats.md``) and
answers :class:`Section` objects; the renderers only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailbot.stats.groups import CLOSED_REASONS, WAYS, label

CALL_REASONS = {"no_email": "sans adresse e-mail", "address_failing": "adresse e-mail en échec",
                "no_answer": "sans réponse au recontact"}
MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
             "nov.", "déc.")
NOT_A_COUNT = frozenset({"median_days", "p90_days", "share", "acceptance_rate"})


@dataclass
class Table:
    """A small table: a title, column headers and rows of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    text_columns: int = 1  # leading columns of words; the others are numbers


@dataclass
class Section:
    """A part of the report: a heading, an optional chart name and its tables."""

    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)


def month_label(month: str) -> str:
    """``2024-03`` → ``mars 2024``."""
    year, number = month.split("-")
    return f"{MONTHS_FR[int(number) - 1]} {year}"


class Formatter:
    """Formats values; in a public report a missing count is a masked one ("< 5")."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.public = bool(report.get("public"))
        self.below = report.get("mask_below") or 5

    def count(self, value: Any) -> str:
        """A count (``< 5`` when masked)."""
        if value is None:
            return f"< {self.below}" if self.public else "—"
        return f"{int(value):,}".replace(",", "\u202f")

    def days(self, value: Any) -> str:
        """A number of days."""
        return "—" if value is None else f"{float(value):.1f}".replace(".", ",") + " j"

    def share(self, value: Any) -> str:
        """A share as a percentage."""
        return "—" if value is None else f"{100 * float(value):.1f}".replace(".", ",") + " %"

    def value(self, key: str, value: Any) -> str:
        """Any value of the report, by its key."""
        if key in ("median_days", "p90_days"):
            return self.days(value)
        if key in ("share", "acceptance_rate"):
            return self.share(value)
        return self.count(value)


def _breakdown(title: str, data: dict[str, Any], fmt: Formatter, head: str,
               labels: dict[str, str] | None = None) -> Table:
    rows = [[(labels or {}).get(k) or label(k), fmt.count(v)] for k, v in data.items()]
    return Table(title, [head, "Nombre"], rows)


def _spreads(title: str, data: dict[str, Any], fmt: Formatter) -> Table:
    rows = [["Ensemble", fmt.count(data["overall"]["count"]),
             fmt.days(data["overall"]["median_days"]), fmt.days(data["overall"]["p90_days"])]]
    for group, spread in data["by_priority_group"].items():
        rows.append([label(group), fmt.count(spread["count"]), fmt.days(spread["median_days"]),
                     fmt.days(spread["p90_days"])])
    return Table(title, ["Groupe de priorité", "Patients", "Médiane", "9e décile"], rows)


def report_tables(report: dict[str, Any]) -> list[Section]:
    """Every section of the report, in reading order."""
    fmt = Formatter(report)
    req, res = report["requests"], report["resolutions"]
    sections = []

    months = {m: month_label(m) for m in report["period"]["months"]}
    s = Section("Demandes d'inscription", charts=["requests_by_month", "requests_by_referrer_type"])
    s.tables.append(Table("Total", ["", "Nombre"], [["Demandes reçues sur la période",
                                                      fmt.count(req["total"])]]))
    s.tables.append(_breakdown("Par mois", req["by_month"], fmt, "Mois", months))
    s.tables.append(_breakdown("Par type d'adresseur", req["by_referrer_type"], fmt, "Adresseur"))
    s.tables.append(_breakdown("Par critère (un patient peut en avoir plusieurs)",
                               req["by_criteria"], fmt, "Critère"))
    s.tables.append(_breakdown("Par âge à l'inscription", req["by_age_band"], fmt, "Âge"))
    s.tables.append(_breakdown("Par groupe de priorité", req["by_priority_group"], fmt, "Groupe"))
    s.tables.append(_breakdown("Par état actuel", req["by_status"], fmt, "État"))
    s.tables.append(Table("Par commune", ["Code postal", "Commune", "Nombre"], [
        [i["code_postal"] or "", i["commune"] or "(non renseignée)", fmt.count(i["count"])]
        for i in req["by_commune"]], text_columns=2))
    sections.append(s)

    s = Section("Sorties de la liste", charts=["resolutions_by_month"])
    s.tables.append(_breakdown("Par issue", res["by_way"], fmt, "Issue"))
    s.tables.append(Table("Par mois", ["Mois", *[label(w) for w in WAYS]], [
        [months.get(m, m), *[fmt.count(ways[w]) for w in WAYS]]
        for m, ways in res["by_month"].items()]))
    s.tables.append(_breakdown("Clôtures par motif", {k: res["closed_by_reason"][k]
                                                     for k in CLOSED_REASONS}, fmt, "Motif"))
    sections.append(s)

    s = Section("Délais", charts=["waiting_by_group"])
    s.tables.append(_spreads("De l'inscription au médecin traitant (patients sortis sur la "
                             "période)", report["time_to_resolution"], fmt))
    s.tables.append(_spreads("Attente en cours (patients encore en attente aujourd'hui)",
                             report["snapshot"]["still_waiting"], fmt))
    sections.append(s)

    found = report["found_mt"]
    s = Section("Patients ayant trouvé un médecin traitant (indicateur ACI)")
    s.tables.append(Table("Part des patients fragiles", ["Critère", "Patients", "Part"], [
        ["Total", fmt.count(found["total"]), ""],
        *[[label(k), fmt.count(v["count"]), fmt.share(v["share"])]
          for k, v in found["criteria"].items()]]))
    s.tables.append(Table("Selon l'issue", ["Issue", "Patients", "dont fragiles", "Part"], [
        [label(w), fmt.count(v["count"]), fmt.count(v["fragile"]), fmt.share(v["share"])]
        for w, v in found["by_way"].items()]))
    sections.append(s)

    snap = report["snapshot"]
    s = Section("Aujourd'hui", charts=["entries_by_status"])
    s.tables.append(_breakdown("Inscriptions par état", snap["entries_by_status"], fmt, "État"))
    calls = snap["call_list"]
    s.tables.append(Table("À traiter", ["", "Nombre"], [
        ["Patients à appeler (liste d'appels)", fmt.count(calls["total"])],
        *[[f"  dont {CALL_REASONS.get(k, k)}", fmt.count(v)] for k, v in calls["by_reason"].items()],
        ["Alertes en attente d'un coordinateur", fmt.count(snap["open_alerts"])]]))
    conf = report["confirmations"]
    s.tables.append(_breakdown(f"Confirmations « toujours en recherche » reçues "
                               f"(total {fmt.count(conf['total'])})", conf["by_month"], fmt,
                               "Mois", months))
    sections.append(s)

    if report.get("gps") is not None:
        s = Section("Propositions aux médecins (réservé aux coordinateurs)")
        s.tables.append(Table("Par médecin", ["Médecin", "Cabinet", "Envoyées", "Acceptées",
                                              "Refusées", "Expirées", "Taux d'acceptation",
                                              "Devenu MT"], [
            [g["gp"], g["practice"] or "", fmt.count(g["sent"]), fmt.count(g["accepted"]),
             fmt.count(g["declined"]), fmt.count(g["expired"]), fmt.share(g["acceptance_rate"]),
             fmt.count(g["became_mt"])] for g in report["gps"]], text_columns=2,
            note="" if report["gps"] else "Aucune proposition envoyée sur la période."))
        sections.append(s)
    return sections

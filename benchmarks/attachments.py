"""Attachments benchmark: mails/s of ``mailbot run --once`` on referrals sent as attachments.

Two sets, each in a fresh bot (SQLite): ``--pdf`` mails carrying one filled PDF form
(the blank of ``mailbot form pdf``, filled by pypdf with a different patient each)
and ``--batches`` mails carrying an XLSX of ``--rows`` patients (openpyxl). The bot
runs the real command ``mailbot run --once`` (process start included): store the
raw mail, classify, read the attachment, register every entry (duplicates, audit),
render and write the one acknowledgement. In the same run the baseline is pypdf
(``PdfReader(...).get_fields()``) or openpyxl (``load_workbook(read_only=True)``, every
row's values) reading the same files alone, in this process; and, to show what the
reading itself costs, the same mails parsed and their attachment read in this process
without any database (``*_read_ratio``). Target: ratio ≥ 0.5 and peak RSS < 300 MB.
On a shared machine the wall-clock ratios move with the load of the moment (baseline and
bot do not run at the same instant); the ``*_cpu_ratio`` figures divide CPU seconds
instead (the bot's process, user + system, against the baseline's), which the load of
other processes changes much less. The last line printed is one JSON object.

    python benchmarks/attachments.py [--pdf 1000] [--batches 100] [--rows 50] [--small]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailbot.config.minimal import merged, minimal_sections, render_toml  # noqa: E402
from parsers.referral.pdf_blank import blank_form  # noqa: E402

CONFIG = render_toml(merged(minimal_sections(), {
    "limits": {"replies_per_partner_per_hour": 1000000}, "logging": {"level": "WARNING"}}))
SENDER = "coordination@dac16.mssante.fr"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TODAY = dt.date(2026, 12, 3)
TOWNS = [("16000", "Angoulême"), ("16100", "Cognac"), ("16800", "Soyaux")]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(rng.randint(5, 9)))


def _patient(rng: random.Random) -> dict[str, str]:
    postal, town = rng.choice(TOWNS)
    return {"nom": _name(rng), "prenom": _name(rng).capitalize(),
            "date_naissance": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/"
                              f"{rng.randint(1930, 2005)}",
            "telephone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                         f"{rng.randint(10, 99)}", "code_postal": postal, "commune": town,
            "motif": "départ en retraite du médecin traitant"}


def _pdf(blank: bytes, patient: dict[str, str]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(blank)))
    writer.update_page_form_field_values(writer.pages[0], {**patient, "consentement": "/Yes"},
                                         auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xlsx(rng: random.Random, rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    keys = ["nom", "prenom", "date_naissance", "telephone", "code_postal", "commune", "motif"]
    sheet.append(["Nom", "Prénom", "Date de naissance", "Téléphone", "Code postal", "Commune",
                  "Motif", "Consentement"])
    for _ in range(rows):
        patient = _patient(rng)
        sheet.append([patient[k] for k in keys] + ["oui"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _mail(index: int, filename: str, ctype: tuple[str, str], data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = "liste-attente@cpts-exemple.mssante.fr"
    msg["Subject"] = "Orientation"
    msg["Message-ID"] = f"<bench-{index}@dac16.mssante.fr>"
    msg.set_content("Bonjour, ci-joint.")
    msg.add_attachment(data, maintype=ctype[0], subtype=ctype[1], filename=filename)
    return msg.as_bytes()


def _baseline_pdf(files: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds of pypdf reading every file's fields."""
    from pypdf import PdfReader

    start, cpu = time.perf_counter(), time.process_time()
    for data in files:
        PdfReader(io.BytesIO(data)).get_fields()
    return time.perf_counter() - start, time.process_time() - cpu


def _baseline_xlsx(files: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds of openpyxl reading every file's rows."""
    from openpyxl import load_workbook

    start, cpu = time.perf_counter(), time.process_time()
    for data in files:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                pass
        book.close()
    return time.perf_counter() - start, time.process_time() - cpu


def _read_only(mails: list[bytes]) -> float:
    """Seconds to parse each mail (compat32, as the daemon) and read its attachment, in-process:
    what the bot adds to the baseline before any database work."""
    import email
    import email.policy

    from parsers.referral.attached import FoundProblem, read_attachments

    start = time.perf_counter()
    for raw in mails:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        if any(isinstance(f, FoundProblem) for f in read_attachments(msg, today=TODAY)):
            raise SystemExit("an attachment of the benchmark was not read")
    return time.perf_counter() - start


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_bot(mails: list[bytes]) -> tuple[float, float, int, int]:
    """``mailbot run --once`` on ``mails`` in a fresh bot: wall and CPU seconds, entries,
    acknowledgements."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "mailbot.toml").write_text(CONFIG)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        base = [sys.executable, "-m", "mailbot", "--config", str(root / "mailbot.toml")]
        subprocess.run([*base, "init"], check=True, env=env, capture_output=True)
        new = root / "var" / "inbox" / "new"
        for index, raw in enumerate(mails):
            (new / f"{index:07d}.bench").write_bytes(raw)
        start, cpu = time.perf_counter(), _children_cpu()
        proc = subprocess.run([*base, "run", "--once"], env=env, capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
        if proc.returncode != 0:
            raise SystemExit(f"run --once failed: {proc.stderr[-2000:]}")
        listing = subprocess.run([*base, "entries", "export", "--format", "json"], env=env,
                                 capture_output=True, text=True, check=True)
        acks = len(list((root / "var" / "outbox" / "new").iterdir()))
        return seconds, cpu, len(json.loads(listing.stdout)), acks


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--small", action="store_true", help="100 PDF mails, 10 batches")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.small:
        args.pdf, args.batches = 100, 10
    rng = random.Random(args.seed)

    blank = blank_form("CPTS Exemple")
    pdfs = [_pdf(blank, _patient(rng)) for _ in range(args.pdf)]
    sheets = [_xlsx(rng, args.rows) for _ in range(args.batches)]
    pdf_mails = [_mail(i, "fiche.pdf", ("application", "pdf"), d) for i, d in enumerate(pdfs)]
    batch_mails = [_mail(i, "patients.xlsx", XLSX, d) for i, d in enumerate(sheets)]
    pdf_base_s, pdf_base_cpu = _baseline_pdf(pdfs)
    xlsx_base_s, xlsx_base_cpu = _baseline_xlsx(sheets)
    pdf_base, xlsx_base = args.pdf / pdf_base_s, args.batches / xlsx_base_s
    pdf_read = args.pdf / _read_only(pdf_mails)
    batch_read = args.batches / _read_only(batch_mails)
    load_before = os.getloadavg()[0]
    pdf_s, pdf_cpu, pdf_entries, pdf_acks = _run_bot(pdf_mails)
    batch_s, batch_cpu, batch_entries, batch_acks = _run_bot(batch_mails)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    pdf_rate, batch_rate = args.pdf / pdf_s, args.batches / batch_s

    print(f"PDF forms: {args.pdf} mails → {pdf_entries} entries, {pdf_acks} acknowledgements")
    print(f"  bot run --once: {pdf_s:.2f} s → {pdf_rate:.1f} mails/s (process start included)")
    print(f"  baseline pypdf get_fields alone: {pdf_base:.1f} files/s → ratio "
          f"{pdf_rate / pdf_base:.3f}")
    print(f"  mail parsed + form read, no database: {pdf_read:.1f} mails/s → ratio "
          f"{pdf_read / pdf_base:.3f}")
    print(f"  CPU seconds: bot {pdf_cpu:.2f}, pypdf {pdf_base_cpu:.2f} → ratio "
          f"{pdf_base_cpu / pdf_cpu:.3f}")
    print(f"XLSX batches: {args.batches} mails × {args.rows} rows → {batch_entries} entries, "
          f"{batch_acks} acknowledgements")
    print(f"  bot run --once: {batch_s:.2f} s → {batch_rate:.1f} mails/s")
    print(f"  baseline openpyxl read-only alone: {xlsx_base:.1f} files/s → ratio "
          f"{batch_rate / xlsx_base:.3f}")
    print(f"  mail parsed + rows read, no database: {batch_read:.1f} mails/s → ratio "
          f"{batch_read / xlsx_base:.3f}")
    print(f"  CPU seconds: bot {batch_cpu:.2f}, openpyxl {xlsx_base_cpu:.2f} → ratio "
          f"{xlsx_base_cpu / batch_cpu:.3f}")
    print(f"peak RSS of the bot processes: {peak_mb:.0f} MB; load average before: "
          f"{load_before:.2f}")
    print(json.dumps({
        "pdf_mails_per_s": round(pdf_rate, 1), "pdf_baseline_per_s": round(pdf_base, 1),
        "pdf_ratio": round(pdf_rate / pdf_base, 3),
        "batch_mails_per_s": round(batch_rate, 2), "batch_baseline_per_s": round(xlsx_base, 2),
        "batch_ratio": round(batch_rate / xlsx_base, 3), "rows_per_batch": args.rows,
        "pdf_read_ratio": round(pdf_read / pdf_base, 3),
        "batch_read_ratio": round(batch_read / xlsx_base, 3),
        "pdf_cpu_ratio": round(pdf_base_cpu / pdf_cpu, 3),
        "batch_cpu_ratio": round(xlsx_base_cpu / batch_cpu, 3),
        "pdf_count": args.pdf, "batch_count": args.batches,
        "entries": pdf_entries + batch_entries, "acks": pdf_acks + batch_acks,
        "peak_rss_mb": round(peak_mb, 1), "load_avg": round(load_before, 2)}))


if __name__ == "__main__":
    main()

"""Property tests (hypothesis): the parsers of user input never raise, whatever they are given.

Text-form, patient and GP replies, quoting, bounces (raw bytes), MIME helpers
and coordinator commands are fed random text and random arrangements of
their own vocabulary (labels, checkboxes, commands, DSN fields). Each answers
a typed result; an exception is a bug. Examples are bounded so the file runs
in seconds.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.commands.parser import CommandLine, parse_commands
from parsers.bounces import BounceReport, analyse_bounce
from parsers.mime import body_text, decode_bytes, decode_header_text
from parsers.quoting import new_text
from parsers.referral import NotAForm, ReferralForm, parse_text_form
from parsers.replies import GPReply, PatientReply, classify_gp_reply, classify_patient_reply

BOUNDED = settings(max_examples=100, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
TODAY = dt.date(2026, 12, 3)
LABELS = ["Nom", "Nom de naissance", "Nom d'usage", "Prénom", "Date de naissance", "Né(e) le",
          "Sexe", "INS", "NIR", "Téléphone", "Tél", "Portable", "Mail", "E-mail", "Adresse",
          "Code postal", "CP", "Commune", "Ville", "ALD", "CSS", "AME", "Mobilité réduite",
          "Situation complexe", "Urgent", "Motif", "Ancien médecin", "Aidant", "Consentement",
          "Consentement du patient", "Référent", "Structure", "Téléphone du référent"]
VALUES = ["MARTIN", "Lucien", "02/05/1950", "2/5/50", "1950-05-02", "31/02/1950", "F", "M",
          "1 50 05 16 015 123 45", "06 12 34 56 78", "+33 6 12 34 56 78", "x@y", "16000",
          "Angoulême", "oui", "non", "[x]", "[ ]", "☑", "☐", "X", "", "  ", "\t", "…", "💊",
          "\x00", "\u202e", "é" * 300]
SEPARATORS = [" : ", ":", " :", "\t", " - ", " = ", " ", "|", " | "]
COMMANDS = ["STATUT", "AIDE", "PROPOSER", "CLOTURER", "ROUVRIR", "PRIORITAIRE", "PAUSE",
            "REPRISE", "COMPLETER", "RENVOYER", "statut", "Clôturer", "E-7QK2M9", "e-7qk2m9",
            "A", "10000000007", "décédé", "déménagé", "retrait", "> STATUT", "--", "Nom : X"]
REPLY_WORDS = ["oui", "non", "OUI", "Non merci", "je cherche toujours", "j'ai trouvé",
               "le Dr Martin", "STOP", "complet", "accepte", "refuse", "1", "2", "PAUSE",
               "désinscrire", "?", ">", "Le 1 déc. 2026, X a écrit :", "-----Original Message-----",
               "De :", "Envoyé depuis mon iPhone", "\r", "\n", "\u00a0", "\x00"]

lines_of = st.lists(st.one_of(
    st.builds(lambda k, sep, v: f"{k}{sep}{v}", st.sampled_from(LABELS),
              st.sampled_from(SEPARATORS), st.sampled_from(VALUES) | st.text(max_size=40)),
    st.sampled_from(VALUES), st.text(max_size=80)), max_size=60).map("\n".join)
reply_text = st.one_of(st.text(max_size=400),
                       st.lists(st.sampled_from(REPLY_WORDS) | st.text(max_size=20),
                                max_size=40).map(" ".join),
                       st.lists(st.sampled_from(REPLY_WORDS), max_size=30).map("\n".join))
command_text = st.one_of(st.text(max_size=300),
                         st.lists(st.lists(st.sampled_from(COMMANDS) | st.text(max_size=12),
                                           max_size=6).map(" ".join), max_size=25).map("\n".join))


@BOUNDED
@given(lines_of, st.booleans())
def test_text_form_reader_never_raises(text: str, partial: bool) -> None:
    result = parse_text_form(text, today=TODAY, partial=partial)
    assert isinstance(result, ReferralForm | NotAForm)


@BOUNDED
@given(st.text(max_size=2000))
def test_text_form_reader_never_raises_on_any_text(text: str) -> None:
    assert isinstance(parse_text_form(text, today=TODAY), ReferralForm | NotAForm)


@BOUNDED
@given(reply_text, st.sampled_from(["proposal", "followup", "any"]))
def test_reply_readers_never_raise(text: str, context: str) -> None:
    assert isinstance(classify_patient_reply(text), PatientReply)
    assert isinstance(classify_gp_reply(text, context=context), GPReply)  # type: ignore[arg-type]
    assert isinstance(new_text(text), str)


DSN_LINES = ["Reporting-MTA: dns; mx.example", "Final-Recipient: rfc822; x@example.org",
             "Original-Recipient: rfc822;", "Action: failed", "Action: delayed", "Status: 5.1.1",
             "Status: 4.4.7", "Status: 9.9.9", "Status: ", "Diagnostic-Code: smtp; 550 5.1.1 unknown",
             "Message-ID: <a@b>", "Message-ID: <", "X-Failed-Recipients: x@example.org", ""]


def _bounce(parts: list[str], boundary: str, subject: str, report: bool) -> bytes:
    kind = 'multipart/report; report-type=delivery-status' if report else "multipart/mixed"
    head = (f"From: MAILER-DAEMON@example.org\r\nTo: liste-attente@cpts-exemple.mssante.fr\r\n"
            f"Subject: {subject}\r\nContent-Type: {kind}; boundary=\"{boundary}\"\r\n\r\n")
    body = "".join(f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n{p}\r\n"
                   for p in parts)
    return (head + body + f"--{boundary}--\r\n").encode("utf-8", errors="surrogatepass")


bounce_raw = st.one_of(
    st.binary(max_size=3000),
    st.builds(_bounce, st.lists(st.lists(st.sampled_from(DSN_LINES) | st.text(max_size=30),
                                         max_size=12).map("\r\n".join), max_size=4),
              st.sampled_from(["b", "", "=_x", "b" * 80]),
              st.sampled_from(["Undelivered Mail Returned to Sender", "Délai dépassé", ""])
              | st.text(max_size=40), st.booleans()))


@BOUNDED
@given(bounce_raw)
def test_bounce_reader_never_raises(raw: bytes) -> None:
    assert isinstance(analyse_bounce(raw, own_addresses=("liste-attente@cpts-exemple.mssante.fr",)),
                      BounceReport)


@BOUNDED
@given(st.binary(max_size=2000), st.sampled_from([None, "utf-8", "latin-1", "x-unknown", "utf-7",
                                                   "", "utf-16", "cp1252"]))
def test_mime_helpers_never_raise(data: bytes, charset: str | None) -> None:
    assert isinstance(decode_bytes(data, charset), str)
    assert isinstance(decode_header_text(data.decode("latin-1")), str)
    msg = email.message_from_bytes(b"Content-Type: text/plain; charset=" + (charset or "").encode()
                                   + b"\r\n\r\n" + data, policy=email.policy.compat32)
    assert isinstance(body_text(msg), str)


@BOUNDED
@given(command_text, st.text(max_size=60))
def test_command_reader_never_raises(text: str, subject: str) -> None:
    lines = parse_commands(text, subject)
    assert all(isinstance(line, CommandLine) for line in lines)

"""The readable text of a mail, whatever its MIME shape, charset and transfer encoding."""

from __future__ import annotations

import base64
import email
import email.policy
import quopri
import random

import pytest

from parsers.mime import body_text, decode_bytes, decode_header_text, html_to_text

FORM = "Nom : DURAND\nPrénom : Hélène\nCommune : Angoulême\nAccord : oui – « d’accord »\n"


def _mail(body: bytes, ctype: str = "text/plain", charset: str | None = "utf-8",
          cte: str = "8bit", extra: str = "") -> email.message.Message:
    param = f"; charset={charset}" if charset else ""
    head = (f"From: a@b.fr\nSubject: x\nMIME-Version: 1.0\nContent-Type: {ctype}{param}\n"
            f"Content-Transfer-Encoding: {cte}\n{extra}\n")
    return email.message_from_bytes(head.encode() + body)


# ---------------------------------------------------------------- charsets and encodings

@pytest.mark.parametrize("cte", ["8bit", "quoted-printable", "base64"])
@pytest.mark.parametrize("charset", ["utf-8", "cp1252"])
def test_transfer_encodings_and_charsets(cte: str, charset: str) -> None:
    raw = FORM.encode(charset)
    body = {"8bit": raw, "quoted-printable": quopri.encodestring(raw),
            "base64": base64.encodebytes(raw)}[cte]
    assert body_text(_mail(body, charset=charset, cte=cte)).strip() == FORM.strip()


@pytest.mark.parametrize(("data", "declared"), [
    (FORM.encode("utf-8"), "iso-8859-1"),  # utf-8 bytes declared latin-1
    (FORM.encode("cp1252"), "utf-8"),  # cp1252 bytes declared utf-8
    (FORM.encode("cp1252"), "iso-8859-1"),  # latin-1 meaning windows-1252 (’ « »)
    (FORM.encode("utf-8"), "us-ascii"),
    (FORM.encode("cp1252"), None),
    (FORM.encode("utf-8"), "x-unknown-charset"),
])
def test_wrong_or_missing_charset(data: bytes, declared: str | None) -> None:
    assert body_text(_mail(data, charset=declared)).strip() == FORM.strip()


def test_decode_bytes_falls_back_to_latin1_at_worst() -> None:
    assert decode_bytes(b"\x81\x8d\x8f\x90\x9d\xe9") == "\x81\x8d\x8f\x90\x9dé"


def test_format_flowed_soft_breaks_are_joined() -> None:
    msg = _mail(b"Motif : suivi \nannuel.\nNom : DURAND\n-- \nDr X\n", extra="")
    msg.set_param("format", "flowed")
    assert body_text(msg).splitlines()[:3] == ["Motif : suivi annuel.", "Nom : DURAND", "-- "]


# ---------------------------------------------------------------- HTML

def test_html_table_rows_become_label_value_lines() -> None:
    html = ("<table><tr><td><b>Nom :</b></td><td>DURAND</td></tr>"
            "<tr><th>Pr&eacute;nom</th><td><p>Marie</p></td></tr>"
            "<tr><td>Email</td><td></td></tr></table>")
    assert html_to_text(html).splitlines() == ["Nom : DURAND", "Prénom : Marie", "Email :"]


def test_html_wider_rows_keep_their_cells_apart() -> None:
    html = ("<table><tr><td>Nom</td><td>Prénom</td><td>DDN</td></tr>"
            "<tr><td>DURAND</td><td></td><td>12/03/1948</td></tr></table>")
    assert html_to_text(html).splitlines() == ["Nom\tPrénom\tDDN", "DURAND\t\t12/03/1948"]


def test_html_blocks_breaks_entities_and_blank_paragraphs() -> None:
    html = ("<html><head><style>p {color: red}</style><title>t</title></head><body>"
            "<p class=MsoNormal>Bonjour,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
            "<div>Nom&nbsp;: DURAND<br>Ville : Angoul&ecirc;me</div><!-- comment -->"
            "<script>alert(1)</script><ul><li>CP : 16000</li></ul></body></html>")
    assert html_to_text(html).splitlines() == [
        "Bonjour,", "", "Nom : DURAND", "Ville : Angoulême", "CP : 16000"]


def test_html_nested_layout_tables_read_the_inner_rows() -> None:
    html = ("<table><tr><td><img src='logo.png'></td><td>"
            "<table><tr><td>Nom</td><td>DURAND</td></tr></table></td></tr></table>")
    assert "Nom : DURAND" in html_to_text(html).splitlines()


def test_html_checkboxes_and_wingdings() -> None:
    html = ("<p><input type=checkbox checked> ALD <input type=checkbox> CSS</p>"
            "<p><span style='font-family:Wingdings'>þ</span> AME "
            "<span style=\"font-family: Wingdings\">¨</span> Urgent</p>"
            "<table><tr><td>☒</td><td>Mobilité réduite</td></tr></table>")
    lines = [" ".join(line.split()) for line in html_to_text(html).splitlines()]
    assert lines == ["[x] ALD [ ] CSS", "☒ AME ☐ Urgent", "☒ Mobilité réduite"]


def test_html_pre_keeps_its_lines() -> None:
    assert html_to_text("<pre>Nom    : DURAND\nPrénom : Marie</pre>").splitlines() == [
        "Nom  : DURAND", "Prénom : Marie"]


def test_html_deeply_nested_does_not_raise() -> None:
    html = "<div>" * 5000 + "Nom : DURAND" + "</div>" * 5000
    assert "Nom : DURAND" in html_to_text(html)


def test_html_only_mail_with_meta_charset() -> None:
    html = '<html><head><meta charset="windows-1252"></head><body><p>Pr\xe9nom : H\xe9l\xe8ne</p></body></html>'
    msg = _mail(html.encode("latin-1"), ctype="text/html", charset=None)
    assert body_text(msg) == "Prénom : Hélène"


def test_html_in_a_text_plain_part_is_converted() -> None:
    msg = _mail(b"<html><body><p>Nom : DURAND</p></body></html>")
    assert body_text(msg) == "Nom : DURAND"


# ---------------------------------------------------------------- MIME shapes

def _multipart(subtype: str, parts: list[bytes], boundary: str = "BOUNDARY") -> bytes:
    out = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\n\n".encode()
    for part in parts:
        out += f"--{boundary}\n".encode() + part + b"\n"
    return out + f"--{boundary}--\n".encode()


def _part(ctype: str, body: str, cte: str = "8bit", extra: str = "") -> bytes:
    return f"Content-Type: {ctype}; charset=utf-8\nContent-Transfer-Encoding: {cte}\n{extra}\n".encode() + body.encode()


def test_alternative_prefers_plain_text() -> None:
    raw = _multipart("alternative", [_part("text/plain", "Nom : PLAIN"),
                                     _part("text/html", "<p>Nom : PLAIN</p><p>HTML</p>")])
    assert body_text(email.message_from_bytes(b"MIME-Version: 1.0\n" + raw)) == "Nom : PLAIN"


@pytest.mark.parametrize("plain", ["", "  \n", "Ce message est au format HTML. Utilisez un client compatible."])
def test_alternative_uses_html_when_plain_is_empty_or_a_stub(plain: str) -> None:
    html = "<table><tr><td>Nom</td><td>DURAND</td></tr><tr><td>Prénom</td><td>Marie</td></tr></table>"
    raw = _multipart("alternative", [_part("text/plain", plain), _part("text/html", html)])
    assert body_text(email.message_from_bytes(raw)) == "Nom : DURAND\nPrénom : Marie"


def test_mixed_reads_text_parts_and_skips_binary_attachments() -> None:
    pdf = b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(bytes(range(256)))
    raw = _multipart("mixed", [_part("text/plain", "Nom : DURAND"), pdf,
                               _part("text/plain", "Prénom : Marie", extra='Content-Disposition: attachment; filename="fiche.txt"\n')])
    assert body_text(email.message_from_bytes(raw)) == "Nom : DURAND\n\nPrénom : Marie"


def test_attached_forwarded_mail_is_included_after_a_marker() -> None:
    inner = b"From: x@y.fr\nSubject: fiche\nContent-Type: text/plain; charset=utf-8\n\nNom : DURAND\n"
    raw = _multipart("mixed", [_part("text/plain", "Voir ci-joint."),
                               b"Content-Type: message/rfc822\n\n" + inner])
    text = body_text(email.message_from_bytes(raw))
    assert text.splitlines() == ["Voir ci-joint.", "", "-------- Message transféré --------", "Nom : DURAND"]


def test_related_html_with_inline_image() -> None:
    img = b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"\x89PNG" + bytes(50))
    related = _multipart("related", [_part("text/html", "<p>Nom : DURAND</p>"), img], "REL")
    raw = _multipart("alternative", [_part("text/plain", ""), related])
    assert body_text(email.message_from_bytes(raw)) == "Nom : DURAND"


def test_modern_policy_messages_read_the_same() -> None:
    raw = _multipart("alternative", [_part("text/plain", FORM, "quoted-printable")])
    legacy = email.message_from_bytes(raw)
    modern = email.message_from_bytes(raw, policy=email.policy.default)
    assert body_text(legacy) == body_text(modern) != ""


@pytest.mark.parametrize("raw", [
    b"",
    b"Content-Type: multipart/mixed\n\nno boundary at all\n",
    b'Content-Type: multipart/mixed; boundary="x"\n\n--x\nContent-Type: text/plain\n\nNom : DURAND\n',
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n@@@not base64!!!\n",
    b"Content-Type: text/plain; charset*=utf-8''%E9\nContent-Transfer-Encoding: quoted-printable\n\n=E9=Z\n",
    b"Content-Type: text/plain; format*=x\n\nNom : DURAND\n",
    b"Content-Type: message/rfc822\n\n" * 30 + b"Nom : DURAND\n",
    b"Content-Type: application/pkcs7-mime\n\n\x00\x01\x02",
])
def test_broken_mime_never_raises(raw: bytes) -> None:
    assert isinstance(body_text(email.message_from_bytes(raw)), str)


def test_broken_boundary_still_reads_the_text() -> None:
    raw = b'Content-Type: multipart/alternative; boundary="x"\n\n--x\nContent-Type: text/plain\n\nNom : DURAND\n'
    assert "Nom : DURAND" in body_text(email.message_from_bytes(raw))


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20261123)
    heads = [b"", b"Content-Type: text/html\n\n", b"Content-Type: multipart/mixed; boundary=b\n\n--b\n",
             b"Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n",
             b"Content-Type: message/rfc822\n\n"]
    for _ in range(150):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 1500)))
        for head in heads:
            for policy in (email.policy.compat32, email.policy.default):
                assert isinstance(body_text(email.message_from_bytes(head + data, policy=policy)), str)


# ---------------------------------------------------------------- headers

@pytest.mark.parametrize(("value", "expected"), [
    ("=?utf-8?q?Fiche_de_saisine_=E2=80=93_Mme_H=C3=A9l=C3=A8ne?=", "Fiche de saisine – Mme Hélène"),
    ("=?iso-8859-1?Q?Patient_sans_m=E9decin?=", "Patient sans médecin"),
    ("=?UTF-8?B?UGF0aWVudGUgw6AgaW5zY3JpcmU=?=", "Patiente à inscrire"),
    ("TR: =?utf-8?q?fiche_=C3=A9t=C3=A9?= urgent", "TR: fiche été urgent"),
    ("Plain\n subject folded", "Plain subject folded"),
    ("=?x-unknown?q?caf=E9?=", "café"),
    ("=?utf-8?q?broken", "=?utf-8?q?broken"),
    (None, ""),
])
def test_decode_header_text(value: str | None, expected: str) -> None:
    assert decode_header_text(value) == expected


def test_decode_header_text_of_a_modern_header_object() -> None:
    msg = email.message_from_bytes(b"Subject: =?utf-8?q?M=C3=A9decin?=\n\n", policy=email.policy.default)
    assert decode_header_text(msg["Subject"]) == "Médecin"


def test_outlook_stub_plain_with_html_inside_related() -> None:
    html = "<p>Nom : DURAND</p><p>Prénom : Marie</p><p>Commune : Angoulême</p>"
    img = b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(bytes(20))
    related = _multipart("related", [_part("text/html", html), img], "REL")
    raw = _multipart("alternative", [_part("text/plain", "Version HTML uniquement."), related])
    assert body_text(email.message_from_bytes(raw)) == "Nom : DURAND\nPrénom : Marie\nCommune : Angoulême"

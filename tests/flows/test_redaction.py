"""Redaction of personal data in comments, German formats included."""

from __future__ import annotations

import pytest

from flows.i18n import translator
from flows.redaction import redact

DE = translator("de")


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Schreiben Sie an erika.muster+shop@example.de bitte", "Schreiben Sie an [E-Mail] bitte"),
        ("Rufen Sie mich an: +49 151 23456789", "Rufen Sie mich an: [Telefon]"),
        ("Tel. 0151/2345678 ab 18 Uhr", "Tel. [Telefon] ab 18 Uhr"),
        ("Festnetz (030) 123 45 67", "Festnetz [Telefon]"),
        ("Erstattung auf DE89 3704 0044 0532 0130 00 bitte", "Erstattung auf [IBAN] bitte"),
        ("IBAN DE89370400440532013000", "IBAN [IBAN]"),
        ("Siehe https://example.com/bestellung?id=42 und www.beispiel.de", "Siehe [URL] und [URL]"),
        ("Mein Profil: @erika_muster", "Mein Profil: [Handle]"),
        ("Bestellung 4711123 kam nicht an", "Bestellung [Nummer] kam nicht an"),
        ("Kundennummer KD-123456", "Kundennummer KD-[Nummer]"),
        ("Ticket #98765", "Ticket #[Nummer]"),
        # Found by a privacy audit:
        ("Kundennummer 4711, bitte prüfen", "Kundennummer [Nummer], bitte prüfen"),
        ("Bestell-Nr.: 1234 fehlt", "Bestell-Nr.: [Nummer] fehlt"),
        ("order no. 123 never came", "order no. [Nummer] never came"),
        ("hans(at)example(dot)org", "[E-Mail]"),
        ("schreiben an erika [at] beispiel.de", "schreiben an [E-Mail]"),
        ("mein Profil example.com/profil/hans", "mein Profil [URL]"),
        ("t.me/hans_mueller", "[URL]"),
        ("de89 3704 0044 0532 0130 00", "[IBAN]"),
        # Found by a staff-side audit:
        ("Karte 4111 1111 1111 1111 belastet", "Karte [Nummer] belastet"),
        ("5500-0000-0000-0004 CVC", "[Nummer] CVC"),
        ("030 / 123 456 78 abends", "[Telefon] abends"),
        ("0151 - 234 567 89", "[Telefon]"),
        ("Tel: 0 30 / 12 34 56", "Tel: [Telefon]"),
        ("+49 (0) 171 / 123 45 67", "[Telefon]"),
        ("Vertragsnummer 12 345 678", "Vertragsnummer [Nummer]"),
        ("Bestellnummer: 123-456-789", "Bestellnummer: [Nummer]"),
        # Digits in dotted groups are a phone number, though a piece looks like a date:
        ("06.12.34.56.78", "[Telefon]"),
        ("Tel 089.12.34.56", "Tel [Telefon]"),
        ("0171/12.34.567", "[Telefon]"),
        ("(0171) 12.34.56", "[Telefon]"),
        ("Mobil: 0176.12.34.56.78", "Mobil: [Telefon]"),
        ("0171.234.56.78", "[Telefon]"),
        ("+43 664.123.45.67", "[Telefon]"),
        ("030 12.34.56", "[Telefon]"),
        # Found by an operator-side audit:
        ("Meine Steuer-ID 12 345 678 901", "Meine Steuer-ID [Nummer]"),
        ("IBAN DE89 3704 0044 0532 0130 01", "IBAN [Nummer]"),  # mistyped: a number still
        ("Karte 4111 1111 1111 1112 gesperrt", "Karte [Nummer] gesperrt"),  # fails Luhn
        ("Seriennummer 2024 0815 4711 12", "Seriennummer [Nummer]"),
        ("Mein Router hat 192.168.1.23", "Mein Router hat [IP]"),
        ("erika at example dot com", "[E-Mail]"),
        ("Rufen Sie an: 0151 2345 6789", "Rufen Sie an: [Telefon]"),
        # Found by a review of the above: a number after a digit is still a phone number.
        ("Call me after 5 +44 20 7946 0958", "Call me after 5 [Telefon]"),
        ("Zimmer 12 030 / 123 45 67", "Zimmer 12 [Telefon]"),
        ("erika dot mustermann at example dot com", "[E-Mail]"),
        ("Server 10.0.0.1 antwortet nicht", "Server [IP] antwortet nicht"),
    ],
)
def test_personal_data_becomes_a_placeholder(comment: str, expected: str) -> None:
    """The whole of it, not a piece: a number redacted but for its last digits leaks them."""
    assert redact(comment, DE) == expected


def test_an_invalid_iban_shaped_string_is_not_called_an_iban() -> None:
    assert "[IBAN]" not in redact("Code DE00 1234 5678 9012 3456 78", DE)


@pytest.mark.parametrize(
    "text",
    [
        "Lieferung nach 3 Tagen, 5 von 5 Sternen, 2026 wieder gern!",
        "z.B. das Produkt. Danach/später besser",
        "Version 2.0/3 läuft, am 12.03. um 14:30",
        "Kunde seit 2019, Preis 1299 Euro",
        # Dates and times are no phone numbers; "Kunden..." words name no id.
        "Bestellung vom 01.02.2024 kam am 05.02.2024",
        "am 03/12/2024 und 2024-02-01, Öffnungszeiten 08.00-18.00 Uhr",
        "Lieferung am 01.02.2024 12:30, Abholung am 05.02.2024 08:30",
        "Kundenservice 100 Punkte, Kundenzufriedenheit 100 %",
        "ticket 300 euros, account 365 days",
        "1 000 000 Euro Umsatz, Preis 12 345 678 Euro",  # thousands, not a phone number
        "de12 ganz toll",  # IBAN-shaped, but words
        "I looked at polka dot dresses, not at the dot matrix printer",
        "Version 4.2.0.1 und v2.10.0.5 stürzen ab",  # versions, not IP addresses
        "Kunde seit 2019, 2020 und 2021",
    ],
)
def test_ordinary_text_and_small_numbers_stay(text: str) -> None:
    assert redact(text, DE) == text


def test_placeholders_follow_the_staff_language() -> None:
    assert redact("mail me: john@example.com, +44 20 7946 0958", translator("en")) == (
        "mail me: [E-Mail], [Phone]"
    )

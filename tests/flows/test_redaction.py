"""Redaction of personal data in comments, German formats included."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import redaction
from flows.i18n import translator
from flows.redaction import PATTERNS, redact, strip_personal

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
        # the bracket or stop after a link stays (found by a hostile customer's walk-through:
        # "[Link]([URL]"), one the link opens goes with it
        ("[Link](http://evil.example/x)", "[Link]([URL])"),
        ("Siehe www.example.org/x).", "Siehe [URL])."),
        ("(mein Profil: example.com/profil/hans)", "(mein Profil: [URL])"),
        ("https://de.wikipedia.org/wiki/A_(B) hilft", "[URL] hilft"),
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
        "mail me: [Email], [Phone]"
    )


# Names and addresses are checked with the English placeholders, "[Name]" and "[Address]".
EN = translator("en")


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # After a closing, with nothing else on the line
        ("Viele Grüße, Erika Mustermann", "Viele Grüße, [Name]"),
        ("MfG Erika", "MfG [Name]"),
        ("LG Tom", "LG [Name]"),
        ("Gruß\nHans Meier", "Gruß\n[Name]"),
        ("Mit freundlichen Grüßen\nDr. Erika Mustermann", "Mit freundlichen Grüßen\n[Name]"),
        ("Best regards, John Smith", "Best regards, [Name]"),
        ("Cheers, John", "Cheers, [Name]"),
        ("Thanks, Anna", "Thanks, [Name]"),
        ("Alles super. LG Tom :)", "Alles super. LG [Name] :)"),
        ("Viele Grüße\n\nErika von der Heide", "Viele Grüße\n\n[Name]"),
        ("liebe grüße, Yılmaz-Öztürk", "liebe grüße, [Name]"),
        ("Gruß,\nJean-Luc O'Brien", "Gruß,\n[Name]"),
        ("LG Erika M.", "LG [Name]"),
        ("Liebe Grüße\nEure Anna", "Liebe Grüße\nEure [Name]"),
        ("Danke\nAnna", "Danke\n[Name]"),
        # What is redacted before does not keep a sign-off from counting as one
        ("Thanks\nJohn Smith\n+44 20 7946 0958", "Thanks\n[Name]\n[Phone]"),
        ("LG Tom, tom@example.com", "LG [Name], [Email]"),
        # Introducing oneself
        ("Mein Name ist Erika Mustermann", "Mein Name ist [Name]"),
        ("Ich heiße Anna Schmidt und bin Kundin", "Ich heiße [Name] und bin Kundin"),
        ("my name is John Smith", "my name is [Name]"),
        # the first or the family name said so (found by a hostile customer's walk-through)
        ("Mein Vorname ist Kevin", "Mein Vorname ist [Name]"),
        ("mein nachname ist schulze", "mein nachname ist [Name]"),
        ("Mein Familienname lautet Yilmaz", "Mein Familienname lautet [Name]"),
        ("My last name is Schulze, room was dirty", "My last name is [Name], room was dirty"),
        ("My surname is Schulze", "My surname is [Name]"),
        ("Mein Vorname ist nicht wichtig", "Mein Vorname ist nicht wichtig"),
        ("Hier schreibt Erika Muster.", "Hier schreibt [Name]."),
        ("Name: Dr. Erika Mustermann", "Name: [Name]"),
        (
            "Mein Name ist Anna Die Lieferung kam nicht",
            "Mein Name ist [Name] Die Lieferung kam nicht",
        ),
        # the first name after the family name, as forms have it (a staff walk-through:
        # "Jan" stayed); another word after a comma stays
        ("Mein Name ist Kowalski, Jan.", "Mein Name ist [Name]."),
        ("My name is Smith, John. Order late", "My name is [Name]. Order late"),
        ("Ich heiße Müller, Anna, bitte zurückrufen", "Ich heiße [Name], bitte zurückrufen"),
        ("Mein Name ist Anna, Hamburg", "Mein Name ist [Name], Hamburg"),
        ("Mein Name ist Hase, Peter", "Mein Name ist Hase, Peter"),
        # (its review: a form's next label stays one, a second person stays two)
        ("Vorname: Jan, Nachname: Kowalski", "Vorname: [Name], Nachname: [Name]"),
        ("Nachname: Mustermann, Vorname: Erika", "Nachname: [Name], Vorname: [Name]"),
        ("Name: Mustermann, Kunde seit 2010", "Name: [Name], Kunde seit 2010"),
        (
            "Mein Name ist Peter, Paul ist mein Bruder.",
            "Mein Name ist [Name], [Name] ist mein Bruder.",
        ),
        # (its re-check: two first names, or hyphenated, and a second person's full name)
        ("Mein Name ist Schneider, Anna Maria.", "Mein Name ist [Name]."),
        ("Mein Name ist Kowalski, Jan-Peter.", "Mein Name ist [Name]."),
        (
            "Mein Name ist Anna, Paul Schmidt ist mein Mann",
            "Mein Name ist [Name], [Name] ist mein Mann",
        ),
        ("Mein Name ist Kowalski, Jan Peter Müller war da", "Mein Name ist [Name], [Name] war da"),
        # A title and a name, staff named in feedback too; the title goes with the name
        ("Herr Müller", "[Name]"),
        ("Frau Dr. Schmidt war super", "[Name] war super"),
        ("Hr. Meier", "[Name]"),
        ("Fr. Yılmaz hat geholfen", "[Name] hat geholfen"),
        ("Mr Smith, Mrs. Jones and Ms. Brown", "[Name], [Name] and [Name]"),
        ("Dr. Weber", "[Name]"),
        ("Prof. Dr. Weber", "[Name]"),
        ("Herr Müller vom Service war toll", "[Name] vom Service war toll"),
        ("Danke an Frau Müller und Herrn Schulz!", "Danke an [Name] und [Name]!"),
        ("Herr und Frau Müller", "Herr und [Name]"),
        ("Herr Müller Frau Schmidt", "[Name] [Name]"),
        ("Frau Schmidt Sie war nett", "[Name] Sie war nett"),
        ("Mr van Dijk", "[Name]"),
        ("Hallo Herr Müller-Lüdenscheidt, danke!", "Hallo [Name], danke!"),
        ("Viele Grüße\nFrau Nguyễn", "Viele Grüße\n[Name]"),
        # after a number or a list's dash (found by an operator walk-through: in clear in
        # the export, the summary's words and the staff alert)
        ("Tisch 4 Herr Krause war unfreundlich", "Tisch 4 [Name] war unfreundlich"),
        ("Kommentar 5 Frau Meier", "Kommentar 5 [Name]"),
        ("Table 7 Mr Smith was rude", "Table 7 [Name] was rude"),
        ("- Herr Krause war unfreundlich", "- [Name] war unfreundlich"),
        (
            "1. Lieferung zu spät\n2 – Frau Meier unfreundlich",
            "1. Lieferung zu spät\n2 – [Name] unfreundlich",
        ),
        ("tisch 4 herr krause war unfreundlich", "tisch 4 [Name] war unfreundlich"),
        ("Zimmer 3 Mrs Jones", "Zimmer 3 [Name]"),
    ],
)
def test_names_become_a_placeholder(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Musterstraße 12", "[Address]"),
        ("Hauptstr. 5a", "[Address]"),
        ("Am Markt 3", "[Address]"),
        ("Lindenallee 7b", "[Address]"),
        ("Berliner Weg 4", "[Address]"),
        ("Goethestrasse 1", "[Address]"),
        ("Karl-Marx-Straße 12-14 ist gemeint", "[Address] ist gemeint"),
        ("Ich wohne im Birkenweg 5 seit 2019", "Ich wohne im [Address] seit 2019"),
        ("123 Main Street", "[Address]"),
        ("I live at 10 Downing St. now", "I live at [Address] now"),
        ("10115 Berlin", "[Address]"),
        ("Versand aus 60311 Frankfurt am Main", "Versand aus [Address]"),
        ("Musterstraße 12, 10115 Berlin", "[Address]"),
        ("Erika, Am Markt 3, 01067 Dresden", "Erika, [Address]"),
        (
            "Mit freundlichen Grüßen\nErika Mustermann\nMusterstraße 12\n10115 Berlin",
            "Mit freundlichen Grüßen\n[Name]\n[Address]",
        ),
        # A street named with its preposition, after a word for an address, within a
        # sentence, in small letters and with a range (left by session 64: all stayed)
        ("Ich wohne Am Ring 1 in Köln.", "Ich wohne [Address] in Köln."),
        ("Ich wohne am Ring 1-3.", "Ich wohne [Address]."),
        ("Meine Adresse ist an der Alster 5a, danke", "Meine Adresse ist [Address], danke"),
        ("Wohnhaft: Zur Linde 4", "Wohnhaft: [Address]"),
        ("Am Markt 3-5, 04109 Leipzig", "[Address]"),
        # a time there, or no word for an address before, keep it
        ("Ich wohne Am See 3 Jahre schon", "Ich wohne Am See 3 Jahre schon"),
        ("Ich wohne im Winter 3 Monate in Spanien", "Ich wohne im Winter 3 Monate in Spanien"),
        ("Wir waren am Markt 3 Stunden", "Wir waren am Markt 3 Stunden"),
        ("Das Café Am Markt 3-5 hat zu", "Das Café Am Markt 3-5 hat zu"),
        # the word for an address not right before, or a phrase in small letters (review)
        ("Die Lieferadresse konnte ich im Schritt 2 nicht ändern",) * 2,
        ("Meine Adresse wurde im Schritt 2 nicht angenommen",) * 2,
        ("Die Adresse steht auf der Seite 3 unten",) * 2,
        ("Ich wohne in der Regel 2 oder 3 Tage pro Woche dort",) * 2,
        ("Ich wohne im Block 4 und der Aufzug ist kaputt",) * 2,
        ("Die Adresse ist auf der Seite 3 falsch geschrieben",) * 2,
        ("Meine Adresse ist zum Teil 2 falsch",) * 2,
        # in small letters "in der" with a postal code after it (found by a second review)
        ("Ich wohne in der Au 5, 53111 Bonn", "Ich wohne [Address]"),
        # A postal code without an address around it is a number, as before
        ("Ich habe 12345 Punkte", "Ich habe 12345 Punkte"),  # a count (since the corpus review)
    ],
)
def test_addresses_become_a_placeholder(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Lieferung an Tom Becker, Hauptstr. 5 ging schief",
            "Lieferung an [Name], [Adresse] ging schief",
        ),
        ("Erika Mustermann\nMusterstraße 12\n10115 Berlin", "[Name]\n[Adresse]"),
        (
            "Bitte an: Frau Dr. Anna Schulz, Am Markt 3, 01067 Dresden",
            "Bitte an: [Name], [Adresse]",
        ),
        ("z. Hd. Erika Maria Mustermann, Lindenallee 7b", "z. Hd. [Name], [Adresse]"),
        ("Tom Becker, Hauptstraße 5, 10115 Berlin", "[Name], [Adresse]"),
        ("Absender: Tom Becker, Hauptstraße 5", "Absender: [Name], [Adresse]"),
        ("Lieferadresse: Tom Becker, Hauptstraße 5", "Lieferadresse: [Name], [Adresse]"),
        # an initial and a family name after such a word (a staff walk-through)
        (
            "Liefern an: M. Schulz, Ringstr. 9, 45127 Essen",
            "Liefern an: [Name], [Adresse]",
        ),
        ("Lieferung an P. Meier-Lang, Gartenweg 3", "Lieferung an [Name], [Adresse]"),
        ("Geliefert an St. Marien, Hauptstr. 5", "Geliefert an St. Marien, [Adresse]"),
        ("Liefern an:\nM. Schulz\nRingstr. 9", "Liefern an:\n[Name]\n[Adresse]"),
        ("Lieferung an H.-J. Schulz, Hauptstr. 5", "Lieferung an [Name], [Adresse]"),
        ("Lieferung an M. von Schulz, Hauptstr. 5", "Lieferung an [Name], [Adresse]"),
        ("please send it to Mary Smith, 10 Downing St.", "please send it to [Name], [Adresse]"),
        # no full name: a word before an address is no name
        ("Die Filiale Hauptstraße 5 war geschlossen", "Die Filiale [Adresse] war geschlossen"),
        ("Ihre Filiale Hauptstraße 5 war zu", "Ihre Filiale [Adresse] war zu"),
        ("Erika, Am Markt 3, 01067 Dresden", "Erika, [Adresse]"),
        # nor two capitalised words where nothing says the address is theirs (a review
        # found these taken for names)
        ("Neue Filiale Hauptstraße 5", "Neue Filiale [Adresse]"),
        ("Lidl Filiale Hauptstraße 5 ist top", "Lidl Filiale [Adresse] ist top"),
        ("Tolle Beratung\nMusterstraße 12", "Tolle Beratung\n[Adresse]"),
        ("Schneller Versand, Musterstraße 12, 10115 Berlin", "Schneller Versand, [Adresse]"),
        ("Lieferung an die Filiale, Hauptstraße 5", "Lieferung an die Filiale, [Adresse]"),
        ("Media Markt, Alexanderplatz 3, 10178 Berlin", "Media Markt, [Adresse]"),
        ("Defekte Kasse, Hauptstraße 5, 10115 Berlin", "Defekte Kasse, [Adresse]"),
        # and a surname that is also a word stays a surname (a review found them kept)
        ("an Tom Schnell, Hauptstraße 5", "an [Name], [Adresse]"),
        # a full name elsewhere in the comment: a common first and last name goes all
        # the same (found by a staff walk-through, session 50)
        (
            "Anna Schmidt hat super beraten. Musterstraße 12",
            "[Name] hat super beraten. [Adresse]",
        ),
    ],
)
def test_a_full_name_right_before_an_address_is_a_name(comment: str, expected: str) -> None:
    """The address went and the name beside it stayed: "Lieferung an Tom Becker,
    [Adresse]" still says who lives there."""
    assert redact(comment, DE) == expected
    words = set(re.findall(r"\w+", strip_personal(comment)))
    assert not {"Tom", "Becker", "Erika", "Maria", "Mustermann", "Mary", "Anna"} & words - set(
        re.findall(r"\w+", expected)
    )


@pytest.mark.parametrize(
    "text",
    [
        "Hauptstraße 5\nAnna Schmidt" + " " * 1950 + ".",
        "Hauptstraße 5, 10115 Berlin\n" + ("an Anna Schmidt" + " \t" * 30 + "\n") * 30,
    ],
)
def test_a_name_and_a_long_run_of_spaces_near_an_address_runs_through(text: str) -> None:
    """A run of spaces after a name, in a comment with an address, took 11 s at 2,000
    characters (three ways to split it, tried in turn): alerts stopped the bot meanwhile.
    (The name alone on the last line is a signature since the corpus review; a run of spaces
    and tabs is one space to the patterns, and so in what staff see, since an attack review.)"""
    redacted = redact(text, DE)
    assert "[Adresse]" in redacted and redacted.count("\n") == text.count("\n")
    assert not re.search(r"[ \t]{2}", redacted)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Alles bestens, lg tom", "Alles bestens, lg [Name]"),
        ("Gruß, tom müller", "Gruß, [Name]"),
        ("Viele Grüße\nanna-lena", "Viele Grüße\n[Name]"),
        ("kind regards\njohn smith", "kind regards\n[Name]"),
        # words of the language after a closing, and anything after a thank-you, stay
        ("mfg zufrieden", "mfg zufrieden"),
        ("Gruß euer team", "Gruß euer team"),
        ("Viele Grüße und bis bald", "Viele Grüße und bis bald"),
        ("lg aus hamburg", "lg aus hamburg"),
        ("Grüße an alle", "Grüße an alle"),
        ("Danke, läuft", "Danke, läuft"),
        ("thanks, great job", "thanks, great job"),
        ("mfg\nmfg", "mfg\nmfg"),
        ("LG TV ist kaputt", "LG TV ist kaputt"),
        # wishes and brands after a closing (a review found these taken for names)
        ("Viele Grüße, frohe Weihnachten", "Viele Grüße, frohe Weihnachten"),
        ("Gruß, gute Besserung", "Gruß, gute Besserung"),
        ("Best regards, merry christmas", "Best regards, merry christmas"),
        ("Fernseher: LG OLED", "Fernseher: LG OLED"),
        ("lg ok", "lg ok"),
        ("mfg, passt", "mfg, passt"),
        ("Kind regards, well done", "Kind regards, well done"),
    ],
)
def test_a_name_typed_in_small_letters_after_a_closing_is_a_name(
    comment: str, expected: str
) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Fehlercode 80070005 beim Update", "Fehlercode 80070005 beim Update"),
        ("error code: 80070005", "error code: 80070005"),
        ("Artikelnummer 4711123 fehlt", "Artikelnummer 4711123 fehlt"),
        ("Art.-Nr. 12345678 war aus", "Art.-Nr. 12345678 war aus"),
        ("Modellnummer 55123 kaputt", "Modellnummer 55123 kaputt"),
        ("Systemfehlercode 80070005", "Systemfehlercode 80070005"),
        # a person's numbers go, also beside such a word
        ("Gutscheincode 12345 ging nicht", "Gutscheincode [Nummer] ging nicht"),
        ("Fehler bei Bestellung 1234567", "Fehler bei Bestellung [Nummer]"),
        ("Fehler 0151 2345678", "Fehler [Telefon]"),
        ("Modell AB-12345", "Modell [Nummer]"),
        # only right after such a word, on its line, and not a phone number's length (a
        # review found these kept)
        ("Error 4155550123", "Error [Nummer]"),
        ("Fehler 123456789", "Fehler [Nummer]"),
        ("Fehlercode\n12345678", "Fehlercode\n[Nummer]"),
        ("Fehlercode 4155550123", "Fehlercode [Nummer]"),
    ],
)
def test_a_code_of_a_product_or_an_error_stays(comment: str, expected: str) -> None:
    """Staff need "Fehlercode 80070005" to act on a complaint; it names no one."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Meine Kundennummer ist 4711", "Meine Kundennummer ist [Nummer]"),
        ("meine Kundennr. lautet 4711", "meine Kundennr. lautet [Nummer]"),
        ("Bestellnummer war 4711", "Bestellnummer war [Nummer]"),
        ("my customer number is 4711", "my customer number is [Nummer]"),
        ("schreibt an erika at gmail.com", "schreibt an [E-Mail]"),
        ("erika.mustermann at web.de", "[E-Mail]"),
        ("e.muster at example.org", "[E-Mail]"),
        ("erika @ gmail.com bitte", "[E-Mail] bitte"),
        ("erika＠gmail.com", "[E-Mail]"),
        # what stays
        ("Die Bestellung ist 4711 Tage her", "Die Bestellung ist 4711 Tage her"),
        ("I bought it at amazon.com", "I bought it at [URL]"),  # a link, no address
        # A bare domain is a link Telegram makes clickable for staff (found by review: a
        # customer could plant one), and a personal one names its owner.
        ("Bestellung @ Amazon.de war schneller", "Bestellung @ [URL] war schneller"),
        ("found it at web.de cheaper", "found it at [URL] cheaper"),
        (
            "Bitte bei kunden-login-hilfe.com neu anmelden, siehe erika-mustermann.de",
            "Bitte bei [URL] neu anmelden, siehe [URL]",
        ),
        ("evil.com:8080/a evil.com?x=1 сайт.рф/login evil.xn--p1ai/x", "[URL] [URL] [URL] [URL]"),
        ("PAYPAL.COM.VERIFY-LOGIN.RU", "[URL]"),
        # Telegram links these too (review): more endings, any case but Capitalised.
        ("kunden-login-hilfe.cc evil.ai?x=1 x.cOm paypal.com.evil.cc", "[URL] [URL] [URL] [URL]"),
        # Endings that are words too: only with a path, port or query, or a hyphen.
        ("meine-seite.at, thanks.it/login", "[URL], [URL]"),
        (
            "thanks.it works now, danke.es, z.B.in der Filiale, Socket.IO, Safari.app",
            "thanks.it works now, danke.es, z.B.in der Filiale, Socket.IO, Safari.app",
        ),
        (
            "Das war gut.Es hat geklappt, node.js und bericht.pdf",
            "Das war gut.Es hat geklappt, node.js und bericht.pdf",
        ),
        ("2 @ 3.99 each", "2 @ 3.99 each"),
        ("Danke @ alle", "Danke @ alle"),
    ],
)
def test_numbers_and_addresses_said_in_a_sentence_or_spaced_out(
    comment: str, expected: str
) -> None:
    """Found by a security audit: 'Meine Kundennummer ist 4711' and 'erika at
    gmail.com' reached staff as written."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "text", ["1" * 4090 + " at x", "a at " + "b." * 2040, "x @ " + "b." * 2040]
)
def test_a_long_word_before_a_spelled_at_runs_through(text: str) -> None:
    """4,096 characters of what the spelled-out patterns look for (a word of digits
    before " at" once took time growing with the square of its length)."""
    assert "[E-Mail]" not in redact(text, DE)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Herr Schnell war sehr unfreundlich", "[Name] war sehr unfreundlich"),
        ("Frau Nette am Schalter", "[Name] am Schalter"),
        ("Ich bin Tom Schnell", "Ich bin [Name]"),
        # surnames that are words where a name would not start (a review found these kept)
        ("Viele Grüße, Anna Schön", "Viele Grüße, [Name]"),
        ("Viele Grüße, Michael Ende", "Viele Grüße, [Name]"),
        ("Ich bin Anna Schön", "Ich bin [Name]"),
        ("Frau Schön war sehr nett", "[Name] war sehr nett"),
        ("Herr Gut war unfreundlich", "[Name] war unfreundlich"),
        ("Lieferung an Anna Schön, Hauptstraße 5", "Lieferung an [Name], [Adresse]"),
        # and where they are words, they stay
        ("Danke!\nTolles Team", "Danke!\nTolles Team"),
        ("Eine Frau Mitte 40 hat geholfen", "Eine Frau Mitte 40 hat geholfen"),
        ("Danke\nGuten Tag", "Danke\nGuten Tag"),
        ("Viele Grüße, Ihr Service Team", "Viele Grüße, Ihr Service Team"),
    ],
)
def test_surnames_that_are_also_words_are_names_after_a_title(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a staff walk-through: shown to staff as written
        ("Passwort: Sommer2024! funktioniert nicht", "Passwort: [Passwort] funktioniert nicht"),
        ("PW: hallo123", "PW: [Passwort]"),
        ("my password is Hunter2!", "my password is [Passwort]"),
        ("Mein PIN ist 1234.", "Mein PIN ist [Passwort]"),
        ("Kennwort=geheim, trotzdem kein Login", "Kennwort=[Passwort] trotzdem kein Login"),
        # the words alone, and a word after "ist" without a digit or sign, stay
        ("Das Passwort ist zu lang.", "Das Passwort ist zu lang."),
        ("My password was reset twice", "My password was reset twice"),
        ("Die PIN ist falsch!", "Die PIN ist falsch!"),
    ],
)
def test_a_password_or_pin_after_its_word_is_redacted(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


def test_names_after_redacted_contact_data_in_german() -> None:
    """A German placeholder after a name ends the sign-off as well as an English one."""
    assert redact("LG Tom 0151 2345678", DE) == "LG [Name] [Telefon]"
    assert redact("Viele Grüße, Erika Muster, Musterstraße 5", DE) == (
        "Viele Grüße, [Name], [Adresse]"
    )


@pytest.mark.parametrize(
    "text",
    [
        # German capitalises nouns: closings followed by anything but a name
        "Viele Grüße an das Team",
        "Grüße aus Berlin",
        "Gruß und Dank",
        "Danke Team!",
        "Vielen Dank Für Alles",
        "Thanks Again!",
        "Liebe Grüße, Ihr Team",
        "Danke!\nSuper Service",
        "Danke!\nTolles Team",
        "Danke\nAnna\nund bis bald",  # a thank-you, then a line, then more: no sign-off
        "Mit freundlichen Grüßen Erika Mustermann, Kundin seit 2019",  # more on the line
        "Mein LG Fernseher ist kaputt",
        # Cues that introduce no name
        "Ich heiße Sie willkommen",
        "Ich heiße Sie herzlich willkommen",
        "Ich heiße Neukunden willkommen",
        "I'm Happy with it",
        "Hier schreibt Ihr Kunde",
        "Produktname: Super Deluxe",
        # "Herr" and "Frau" as nouns, and other titles that are none
        "Frau am Empfang war nett",
        "Die Frau Am Empfang war nett",
        "Herr der Ringe",
        "Eine Frau Mitte 40 hat geholfen",
        "Frau von der Post war nett",
        "Der Herr von Vodafone hat angerufen",
        "Mo.–Fr. Service top",
        "Nach 2 Hr. Wartezeit",
        "10 Fr. Gebühr verlangt",
        "Mo - Fr Service top",
        "2 Frau am Empfang waren nett",
        "- Frau von der Post kam zu spät",
        "1 Herr der Ringe Film",
        "5 Frauen Toilette defekt",
        "MS Teams ging nicht",
        # Streets and numbers that are no address
        "the Main Street store",
        "Top 5 Street Food",
        "Auf dem Rückweg 2 Stunden gewartet",
        "Parkplatz 3 war frei",
        "Platz 1 im Test",
        "Supermarkt 2 km entfernt",
        "Straße 5 war gesperrt",
        "Die Straße 3 Mal gesperrt",
        "Im Jahr 2020 war es besser",
        "Im Schnitt 4 Sterne",
        "Im Schnitt 4, manchmal 5",
        "Am Ende 3.",
        "Lieferung nach 3 Tagen, 5 von 5 Sternen",
        # found by a review of the name and address patterns
        "Tabellenplatz 3 erreicht",
        "Am Bahnsteig 3 gewartet",
        "Steckplatz 2 defekt",
        "Einstieg 2 war zu",
        "Versandweg 2 Tage",
        "Am Fr. Nachmittag angerufen",
        "Im Januar 3 Mal angerufen",
        "Im Januar 3",
    ],
)
def test_ordinary_capitalised_words_stay(text: str) -> None:
    assert redact(text, EN) == text


@pytest.mark.parametrize("text", ["Das hält in 10000 Jahren noch", "nach 25000 Kilometern kaputt"])
def test_a_number_of_things_is_no_postal_code(text: str) -> None:
    """Nor an id (since the corpus review: "120000 km", "25000 Payback-Punkte" stay)."""
    assert redact(text, EN) == text


def test_names_and_addresses_are_blanked_for_counting_words() -> None:
    assert strip_personal("Herr Müller vom Service\nLG Tom") == "  vom Service\nLG  "
    assert strip_personal("Musterstraße 12, 10115 Berlin") == " "


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("Anna ", False),
        ("Viele Grüße ", False),
        ("Gruß\n", False),
        ("Herr Müller ", True),
        ("Musterstraße 12 ", True),
        ("Am Markt 3, ", True),
    ],
)
def test_a_long_comment_of_capitalised_words_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    """4096 characters of what the name and address patterns look for, one after another."""
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, EN) != text) is has_personal_data
    assert (strip_personal(text) != text) is has_personal_data


def test_each_of_many_titled_names_goes() -> None:
    assert redact("Herr Müller " * 341, EN) == "[Name] " * 341


# Found by an evaluation on a corpus of comments (and the near-misses it tried):
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # An initial in the middle of a name or before it
        ("Sincerely,\nRobert J. Miller", "Sincerely,\n[Name]"),
        ("mfg K. Schneider", "mfg [Name]"),
        (
            "Rufen Sie mich bitte an: 0172/4455667. Gruß M. Haas",
            "Rufen Sie mich bitte an: [Phone]. Gruß [Name]",
        ),
        # Academic titles, with the faculty of a doctorate
        ("Mit freundlichen Grüßen\n\nDr. med. Anna Schulz", "Mit freundlichen Grüßen\n\n[Name]"),
        ("Mit freundlichen Grüßen\nDipl.-Ing. Peter Maier", "Mit freundlichen Grüßen\n[Name]"),
        ("Mit freundlichen Grüßen\nProf. Dr. Wagner", "Mit freundlichen Grüßen\n[Name]"),
        ("Die Ärztin Dr. med. Anna Schulz war nett", "Die Ärztin [Name] war nett"),
        ("Dr. rer. nat. Karl Weber hat mich beraten", "[Name] hat mich beraten"),
        ("Frau Dr. med. dent. Schulz hat gebohrt", "[Name] hat gebohrt"),
        ("Herr Dipl.-Ing. Maier kam pünktlich", "[Name] kam pünktlich"),
        ("Dr.-Ing. Peter Maier", "[Name]"),
        ("Mag. Eva Huber", "[Name]"),
        # After a closing: contact data on the same line, or a parenthesis ending it
        ("Viele Grüße, Erika Mustermann. Tel 0170 1234567", "Viele Grüße, [Name]. Tel [Phone]"),
        ("Viele Grüße, Erika Mustermann, Tel.: 0170 1234567", "Viele Grüße, [Name], Tel.: [Phone]"),
        ("Best regards, Erika. Mail: erika@example.org", "Best regards, [Name]. Mail: [Email]"),
        ("Regards, Hannah (order #55-221100)", "Regards, [Name] (order [Number])"),
        ("Gruß Kai (Kundennr. 55012398)", "Gruß [Name] (Kundennr. [Number])"),
        ("LG Anna (Kundin seit 2019)", "LG [Name] (Kundin seit 2019)"),
        # Introducing oneself with a first and a last name, or at the start with a cue
        (
            "Hallo, ich bin Thomas Berger und habe den Laptop zurückgeschickt.",
            "Hallo, ich bin [Name] und habe den Laptop zurückgeschickt.",
        ),
        ("Ich bin Lena Vogt, ich hab storniert", "Ich bin [Name], ich hab storniert"),
        ("I am Laura Bennett, I spoke to someone", "I am [Name], I spoke to someone"),
        ("I'm Robert J. Miller and I waited", "I'm [Name] and I waited"),
        ("Ich bin Anna Maria Schmidt", "Ich bin [Name]"),
        ("Hier ist Klaus nochmal, wegen der Retoure", "Hier ist [Name] nochmal, wegen der Retoure"),
        ("Hi, this is Tom from Leeds, I ordered", "Hi, this is [Name] from Leeds, I ordered"),
        ("Hallo, hier ist Anna Schmidt, ich habe", "Hallo, hier ist [Name], ich habe"),
        ("Guten Tag,\nhier ist Klaus nochmal", "Guten Tag,\nhier ist [Name] nochmal"),
        ("Hi, this is Tom.", "Hi, this is [Name]."),
        # A brand only in its own words: the same title with another name is a name
        ("Herr Dr. Oetker hat angerufen", "[Name] hat angerufen"),
        ("Mrs. Meyer called back", "[Name] called back"),
    ],
)
def test_names_with_a_clear_cue_become_a_placeholder(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # A street before a postal code and city, wherever it stands
        (
            "Meine neue Adresse ist Am Markt 3, 04109 Leipzig, bitte im System ändern",
            "Meine neue Adresse ist [Address], bitte im System ändern",
        ),
        ("Ich wohne Im Winkel 5, 12345 Neustadt", "Ich wohne [Address]"),
        # North American phone numbers
        ("You can reach me at (555) 123-4567", "You can reach me at [Phone]"),
        ("Call me on 555-123-4567 anytime", "Call me on [Phone] anytime"),
        ("Call 555.123.4567", "Call [Phone]"),
        # Ids joined by hyphens go whole, not a piece of them left
        ("Rechnungsnummer RE-2024-0815 stimmt nicht", "Rechnungsnummer [Number] stimmt nicht"),
        ("Bestellung 304-1234567-1234567 fehlt", "Bestellung [Number] fehlt"),
        ("order #112-5551234-9998877", "order [Number]"),
        ("Invoice INV-2024-00412 is wrong", "Invoice [Number] is wrong"),
    ],
)
def test_addresses_and_numbers_found_by_the_corpus_go_whole(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Praise, who writes, and a role after a closing, a thank-you or a title
        "Danke, Perfekt! Alles top",
        "Danke, Blitzschnell! Alles top",  # not a description, but more follows
        "Thanks, Awesome!",
        "Thanks, Amazing!",
        "Vielen Dank, Spitze!",
        "Grüße, Anonym",
        "LG Stammkunde",
        "Gruß, Zufriedene Kundin",
        "Herr Ober, zahlen bitte",
        # More on the line than contact data, or after a thank-you only
        "Viele Grüße, Erika Mustermann! Alles top",
        "Viele Grüße, Erika. Bestellung kam nicht",
        "Viele Grüße, Erika (Bestellung kam nicht) und tschüss",
        "Thanks, Amazon (not)",
        "Thanks, Amazon, for nothing",
        # Brands named like a person with a title, and an idiom
        "Die Dr. Oetker Pizza war kalt",
        "Meine Dr. Martens Boots haben eine Naht verloren",
        "Had a Dr Pepper with my meal",
        "Mr. Clean Magic Eraser arrived opened",
        "Mr Bean DVD was scratched",
        "Bought Mrs. Meyer's soap",
        "Frau Holle Kissen kam mit Loch",
        "Mein Name ist Hase, ich weiß von nichts",
        # "ich bin", "I am": no first and last name
        "Ich bin Kunde seit 2009",
        "Ich bin Stammkunde seit Jahren",
        "Ich bin Berliner und kenne mich aus",
        "Ich bin Berliner Stammkunde",
        "Ich bin Rentner und komme mit der App nicht klar",
        "Ich bin Deutsche Bahn Kunde",
        "Ich bin Total Enttäuscht",
        "ich bin der Meinung, dass",
        "I'm German and your website is hard to use",
        "I am Very disappointed. Customer Service Sucks",
        "I'm Really Happy with it",
        "I am Amazon Prime customer",
        "I'm Going Crazy",
        "I Am Writing To Complain",
        "Hello, I am the owner of the account",
        # "this is", "hier ist": no name
        "This is Ridiculous. Third time I'm calling",
        "This is Ridiculous, I want a refund",
        "Hier ist Chaos pur, keiner weiß Bescheid",
        "Hallo, hier ist Chaos, keiner weiß Bescheid",
        "Hier ist alles super gelaufen",
        "Hier ist Wasser aus der Maschine gelaufen",
        "Das Paket hier ist Müll aus China",
        # Numbers that are no phone number nor id, a square without a postal code
        "Von 2019-2023 war alles gut",
        "5-10 Tage Lieferzeit",
        "Saison 2023/2024, gekauft 12/2023",
        "Größe 38-40 passt",
        "Preis 199.99 und 1.299,00",
        "Version 3.14.2 läuft",
        "Das Café Am Markt 3 hat zu",
    ],
)
def test_near_misses_of_the_corpus_stay(text: str) -> None:
    assert redact(text, EN) == text


def test_labelled_contact_data_after_a_name_in_german_and_for_counting() -> None:
    comment = "Viele Grüße, Erika Mustermann. Tel 0170 1234567"
    assert redact(comment, DE) == "Viele Grüße, [Name]. Tel [Telefon]"
    assert "Erika" not in strip_personal(comment)


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("Dr. ", False),
        ("Dr. med. Anna ", True),
        ("I am Anna ", False),
        ("555-123-", False),
        ("1-", False),
        ("Am Markt 3, 04109 Leipzig ", True),
        ("Anna Schmidt Musterstraße 12 ", True),
        ("Anna Schmidt Berger, ", True),  # a common first and last name (session 50)
        ("lg tom ", True),  # a first name after a closing (session 54)
        ("mfg\n", False),
        ("wohne am Ring 1-3 in ", True),  # (session 66)
        ("am Markt 3 ", False),
    ],
)
def test_a_long_comment_of_what_the_new_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, EN) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # Found by a corpus of realistic comments (s16): Austrian and Swiss addresses
        ("Neue Adresse: Am Sonnenhang 12, 6020 Innsbruck", "Neue Adresse: [Address]"),
        ("Rechnungsanschrift: Bahnhofstrasse 10, 8001 Zürich", "Rechnungsanschrift: [Address]"),
        ("Meine Adresse ist Mariahilfer Straße 45/3/12, 1060 Wien", "Meine Adresse ist [Address]"),
        (
            "Lieferung bitte an Hauptstr.12 nicht an die alte",
            "Lieferung bitte an [Address] nicht an die alte",
        ),
        (
            "Absender war ich: Martina Huber, Hauptplatz 3, 8010 Graz",
            "Absender war ich: [Name], [Address]",
        ),
        (
            "send it to Kantstraße 150, 10623 Berlin, attn. Julia Roth",
            "send it to [Address], attn. [Name]",
        ),
        ("z. Hd. Herrn Meier bitte", "z. Hd. [Name] bitte"),
        # names after closings as people sign
        ("Grüße aus Hamburg\nJan Petersen", "Grüße aus Hamburg\n[Name]"),
        ("Gruss aus Wien, Lukas", "Gruss aus Wien, [Name]"),
        ("Best regards from Vienna,\nKatharina", "Best regards from Vienna,\n[Name]"),
        ("Works again.\nBest,\nEmily", "Works again.\nBest,\n[Name]"),
        # found by a staff-side audit: a thank-you before the closing hid it
        ("Thanks a lot.\nBest,\nEmily", "Thanks a lot.\nBest,\n[Name]"),
        ("Thanks.\nRegards,\nEmily", "Thanks.\nRegards,\n[Name]"),
        ("Danke.\nViele Grüße,\nAnna", "Danke.\nViele Grüße,\n[Name]"),
        ("Best,\nEmily", "Best,\n[Name]"),
        # found by a second review: details after the name, as after any closing
        ("Best,\nEmily (Kundennr. 1234567)", "Best,\n[Name] (Kundennr. [Number])"),
        ("Still waiting.\nBR, Oliver", "Still waiting.\nBR, [Name]"),
        ("Mfg. R. Schäfer-Ost", "Mfg. [Name]"),
        ("Beste Grüße\n— Ole", "Beste Grüße\n— [Name]"),
        ("Mit freundlichen Grüßen\ni.A. Sandra Kühn", "Mit freundlichen Grüßen\ni.A. [Name]"),
        ("Thanks a lot, Anna", "Thanks a lot, [Name]"),
        ("Cheers mate, Gary", "Cheers mate, [Name]"),
        # titles
        ("Danke an Dr.Weber für die Behandlung", "Danke an [Name] für die Behandlung"),
        ("Termin bei Frau Doktor Lehmann verschoben", "Termin bei [Name] verschoben"),
        ("Hr Bauer hat das super gemacht", "[Name] hat das super gemacht"),
        # numbers that name a person's case
        ("Mitgliedsnummer 4455 wird nicht erkannt", "Mitgliedsnummer [Number] wird nicht erkannt"),
        ("Patientennummer 2231, Befund fehlt", "Patientennummer [Number], Befund fehlt"),
        (
            "Buchungsnummer 8KX4PL – Zimmer nicht fertig",
            "Buchungsnummer [Number] – Zimmer nicht fertig",
        ),
        ("Rechnung 2024/0815 falsch", "Rechnung [Number] falsch"),
        ("Order 113-4567890-1234567 came damaged", "Order [Number] came damaged"),
        ("meine mail ist jens.k@gmx, bitte", "meine mail ist [Email], bitte"),
        ("meine mail is lisa.b@gmail,com", "meine mail is [Email]"),
        ("drop me a line: kate_w at yahoo.co.uk", "drop me a line: [Email]"),
        # a date of birth is personal, other dates are not
        ("geb. 12.03.1985, Termin am 01.02.2024", "geb. [Number], Termin am 01.02.2024"),
        ("My date of birth is 14/02/1979", "My date of birth is [Number]"),
    ],
)
def test_personal_data_as_people_write_it(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Found by the same corpus: praise, brands and codes staff need were blanked
        "Danke, Tolle Beratung!",
        "Danke Telekom!",
        "Thank you, Vodafone!",
        "Danke, Passt!",
        "liebe grüße, bleibt gesund",
        "Lieferung @home war schnell",
        "Fehler E-4012 beim Bezahlen",
        "PZN 01234567 war nicht vorrätig",
        "EAN 4006381333931 ist falsch ausgezeichnet",
        "Die App (Build 20240311) stürzt ab",
        "Dr. Schär Brot fehlt im Regal",
        "Bought a Mr. Coffee machine",
        "Dichtungsring 2 mm zu klein",
        "Campingplatz 12 war dreckig",
        "Zahlungsweg 2 von 3 ging nicht",
        "Ich bin Diabetiker Typ 2 und die Beratung war top",
        "Hello, this is Awful.",
        "Die Frau Apothekerin war sehr nett",
        # and what stays as it was
        "Fehlercode 80070005 beim Update",
        "Mo-Fr Service",
        "2 Hr Wartezeit",
    ],
)
def test_what_staff_need_to_read_stays(text: str) -> None:
    assert redact(text, EN) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # Found by a review of the corpus changes: these were redacted before them
        ("Meine Mail ist Anna @ t-online.de", "Meine Mail ist [Email]"),
        ("Mail: Klaus @ gmx.net", "Mail: [Email]"),
        ("Bitte an Kowalski @ firma-xyz.de schreiben", "Bitte an [Email] schreiben"),
        ("Anna@ gmx.de", "[Email]"),
        ("Mail: KLAUS @ GMX.NET", "Mail: [Email]"),
        ("Ich bin Thomas Berger 45 Jahre alt", "Ich bin [Name] 45 Jahre alt"),
        ("I'm John Smith 35 years old", "I'm [Name] 35 years old"),
        ("Dr. Beckmann hat sich viel Zeit genommen", "[Name] hat sich viel Zeit genommen"),
        ("Vielen Dank an Dr. Brandt und sein Team", "Vielen Dank an [Name] und sein Team"),
        ("Herr Hermes hat mich gut beraten", "[Name] hat mich gut beraten"),
        ("Danke, Herr Hermes!", "Danke, [Name]!"),
        ("Mein Name ist Hermes", "Mein Name ist [Name]"),
        ("Ich bin Lena Tolle aus Köln", "Ich bin [Name] aus Köln"),
        ("Frau Direktorin Schmidt war super", "[Name] war super"),
        ("Viele Grüße aus Bad Homburg\nJan Petersen", "Viele Grüße aus Bad Homburg\n[Name]"),
        ("Best regards from New York\nJane Smith", "Best regards from New York\n[Name]"),
        ("EAN: 01761234567 bitte zurückrufen", "EAN: [Phone] bitte zurückrufen"),
        # Found by a third review: these the second round's fixes let through again
        ("Grüße aus Hamburg!\nJan Petersen", "Grüße aus Hamburg!\n[Name]"),
        ("Viele Grüße aus Hamburg.\nJan", "Viele Grüße aus Hamburg.\n[Name]"),
        ("Liebe Grüße aus Köln Sabine Müller", "Liebe Grüße aus Köln [Name]"),
        ("Alles gut, danke! Best, Julia", "Alles gut, danke! Best, [Name]"),
        ("Super Beratung. BR, Tom", "Super Beratung. BR, [Name]"),
        ("Danke an Hr.Meier", "Danke an [Name]"),
        ("Mrs.Jones was lovely", "[Name] was lovely"),
        ("Buchungscode XK7P2Q", "Buchungscode [Number]"),
        ("Ticketcode AB12CD bitte prüfen", "Ticketcode [Number] bitte prüfen"),
        ("Hauptplatz 3\n8010 Graz", "[Address]"),
        # and a fourth: a joined code went only in part
        ("Kundencode AB12345-678", "Kundencode [Number]"),
        ("Ticketcode ABC1234/56", "Ticketcode [Number]"),
    ],
)
def test_what_the_corpus_changes_must_not_let_through(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Viele Grüße aus Bad Homburg",
        "Liebe Grüße aus Bad Tölz!",
        "Grüße aus Hamburg Altona",
        "Schaden: 1500 Euro, keine Zahlung",
        "Die neue Police 2024 ist viel teurer",
        "Our booking 2024 was a disaster",
        "Die Hr Abteilung reagiert nicht",
        "Ich hatte beim Doktor Termine verschoben",
        "Ms.Word stürzt ab",
        "Mr.Bean DVD",
        "BR, Tagesschau",
        "Best,\nthe service was great",
        "Best,\nfast delivery",  # found by review: words in small letters are no name
        "Best,\nfriendly staff",
        "Best, wenn ihr das nochmal prüft.",
        "Dr. Schär Brot fehlt im Regal",
        # found by a fourth review: titles written without a space took these
        "Fr.Sa. 10-20 Uhr geöffnet",
        "Hr.Abteilung antwortet nicht",
        "Ms.Excel stürzt ab",
        "Mrs.Sporty Kurs ausgefallen",
        "Mr.Spex Brille kam kaputt an",
    ],
)
def test_what_the_corpus_changes_must_not_blank(text: str) -> None:
    assert redact(text, EN) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Wohnung in der Hauptstraße 5, 1200 Euro Miete",
            "Wohnung in der [Address], 1200 Euro Miete",
        ),
        ("Lindenstraße 3, 2019 Neubau", "[Address], 2019 Neubau"),
        ("Hauptstraße 5\n2024 Umzug geplant", "[Address]\n2024 Umzug geplant"),
    ],
)
def test_four_digits_after_a_street_are_a_postal_code_only_where_they_can_be(
    comment: str, expected: str
) -> None:
    assert redact(comment, EN) == expected


# Found by a staff-side review (s28): what reached the staff chat as typed.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # A dash other than the hyphen between the groups, as Word and Outlook set " - "
        ("Bitte um Rückruf: Tel. 0151 – 2345 6789", "Bitte um Rückruf: Tel. [Telefon]"),
        ("Rückruf bitte unter 0151 – 23 45 67 89", "Rückruf bitte unter [Telefon]"),
        ("Festnetz 030 – 123 456 78, ab 18 Uhr", "Festnetz [Telefon], ab 18 Uhr"),
        ("+49 151 – 2345 6789", "[Telefon]"),
        ("Tel. 0151 — 2345 6789", "Tel. [Telefon]"),  # em dash
        ("Tel. 0151\u20112345 6789", "Tel. [Telefon]"),  # non-breaking hyphen
        ("Tel. 0151 \u2212 2345 6789", "Tel. [Telefon]"),  # minus sign
        ("Tel. 0151–23456789", "Tel. [Telefon]"),  # was "0151–[Nummer]"
        ("0151–12.34.56", "[Telefon]"),  # a piece like a time of day, as after a hyphen
        # Identity documents
        (
            "Ausweisnummer L01X00T47 wurde nicht akzeptiert",
            "Ausweisnummer [Nummer] wurde nicht akzeptiert",
        ),
        ("Reisepass C01X00T47 wurde nicht akzeptiert", "Reisepass [Nummer] wurde nicht akzeptiert"),
        ("Führerscheinnummer B072RRE2I55", "Führerscheinnummer [Nummer]"),
        ("Mein Personalausweis: L01X00T47", "Mein Personalausweis: [Nummer]"),
        ("passport C01X00T47 expired", "passport [Nummer] expired"),
        # Handles with a dot, e-mail addresses spelled with "(a)" or "[.]"
        ("Schreibt mir auf Instagram: @erika.muster", "Schreibt mir auf Instagram: [Handle]"),
        ("Instagram: @erika.muster.", "Instagram: [Handle]."),
        # (and not a sentence typed on after one, as it was not before)
        ("@anna_m.Danke für alles!", "[Handle].Danke für alles!"),
        ("Kontakt: erika.muster(a)gmx.de", "Kontakt: [E-Mail]"),
        ("erika.muster[at]gmx[.]de", "[E-Mail]"),
        # Number plates and a US social security number
        ("Kfz-Kennzeichen HH-AB 1234", "Kfz-Kennzeichen [Nummer]"),
        ("Kfz-Kennzeichen B-MW 123E", "Kfz-Kennzeichen [Nummer]"),
        ("Kennzeichen: HH AB 1234", "Kennzeichen: [Nummer]"),
        ("Das Auto HH-AB 1234 stand in der Einfahrt", "Das Auto [Nummer] stand in der Einfahrt"),
        ("My SSN is 123-45-6789", "My SSN is [Nummer]"),
    ],
)
def test_numbers_and_addresses_the_staff_review_found(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Dashes between numbers that are no phone number: dates, versions, prices, ranges
        "Die Lieferung kam am 12.03. – viel zu spät",
        "Version 2.3 – 4 Fehler",
        "Zimmer 123 – 4. Stock",
        "Preis 12,99 € – 15 €, Versand 0,99 € – 1,99 €",
        "Geöffnet 10–12 Uhr und 14:00 – 18:00, Mo–Fr 08–20 Uhr",
        "3–5 Tage Lieferzeit, 0,5 – 1 kg",
        "Von 2019–2023 war alles gut",
        "Bestellung vom 01.02.2024 – 05.02.2024, Lieferung 10.–12.03.",
        # A document without its number, or with a year
        "Reisepass 2024 abgelaufen",
        "Ausweis 2 Mal vorgezeigt, Führerschein Klasse B",
        "Pass auf, das Paket ist schwer",
        # Capitals and digits that are no number plate, no SSN; "(a)" in a list
        "USB-C 30 W Netzteil fehlt",
        "LED-TV 55 Zoll defekt",
        "PS-VR 2 Brille und LG TV 55 sind kaputt",
        "ICE 123 hatte Verspätung, Bus M 41 kam nicht",
        "DIN EN 1234 nicht erfüllt",
        "Bestellnummer fehlt, Artikel 123-45-678",
        "Punkt (a) Anlage.pdf",
        "Frage 1(a) ist unklar",
    ],
)
def test_what_the_staff_review_fixes_leave_alone(text: str) -> None:
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # Whom a closing is from
        (
            "Sehr enttäuscht. Viele Grüße von Erika Mustermann",
            "Sehr enttäuscht. Viele Grüße von [Name]",
        ),
        ("Viele Grüße\nvon Erika Mustermann", "Viele Grüße\nvon [Name]"),
        ("Gruß aus Kiel von Jan Petersen", "Gruß aus Kiel von [Name]"),
        ("Liebe Grüße von Anna", "Liebe Grüße von [Name]"),
        (
            "Viele Grüße von Erika Mustermann, Tel. 0151 2345678",
            "Viele Grüße von [Name], Tel. [Phone]",
        ),
        ("Regards from John Smith", "Regards from [Name]"),
        ("Best wishes from Emily Brown", "Best wishes from [Name]"),
        ("Love from Emily Brown", "Love from [Name]"),
        # "eure" as "Ihre", two names, "Love,"
        ("Nie wieder. Liebe Grüße, eure Erika", "Nie wieder. Liebe Grüße, eure [Name]"),
        ("Ärgerlich! LG Erika & Jan", "Ärgerlich! LG [Name]"),
        ("Grüße Erika und Jan Mustermann", "Grüße [Name]"),
        ("Love, Emily", "Love, [Name]"),
        ("Thanks!\nLots of love,\nAnna", "Thanks!\nLots of love,\n[Name]"),
        # A first and a last name after a role or a thank-you to someone
        ("Der Fahrer Jan Petersen war unhöflich", "Der Fahrer [Name] war unhöflich"),
        ("Vielen Dank an Jan Petersen!", "Vielen Dank an [Name]!"),
        ("Kundin: Erika Mustermann", "Kundin: [Name]"),
        ("Thanks to Sarah Miller at reception", "Thanks to [Name] at reception"),
        ("Unser Kollege Tom Becker aus Köln half", "Unser Kollege [Name] aus Köln half"),
        (
            "Die Kundenberaterin Anna Maria Schmidt war super",
            "Die Kundenberaterin [Name] war super",
        ),
        ("Our driver John Smith was rude", "Our driver [Name] was rude"),
    ],
)
def test_names_the_staff_review_found(comment: str, expected: str) -> None:
    """Also left out of the words counted for the summary, where they showed as "erika (3)"."""
    assert redact(comment, EN) == expected
    words = set(re.findall(r"\w+", strip_personal(comment)))
    assert not {"Erika", "Jan", "Anna", "Emily", "John", "Sarah", "Tom"} & words


@pytest.mark.parametrize(
    "text",
    [
        # A closing with "von" or "from" before no name
        "Viele Grüße von der ganzen Familie",
        "Liebe Grüße von uns allen",
        "Viele Grüße von Herzen",
        "Viele Grüße vom Team",
        "Grüße aus Berlin",
        "Best regards from Vienna",
        "Best wishes from New York",
        "Regards from the team",
        "Love it!",
        "Love the new app, great job",
        "Love, fast delivery",
        "Viele Grüße und Danke",
        "Danke Telekom und Vodafone",
        # A role or a thank-you before no name
        "Der Fahrer war nett",
        "Der Fahrer war unhöflich",
        "Vielen Dank an das Team",
        "Dank an das Team",
        "Dank an Ihre Kollegen",
        "Danke an Media Markt",
        "Danke an Deutsche Bahn für nichts",
        "Thanks to Royal Mail my parcel is lost",
        "Thanks to the driver",
        "Kundin: Offene Rechnung seit März",
        "Kunde: Lange Wartezeit am Schalter",
        "Der Fahrer Hermes Versand war schnell",
        "Der Mitarbeiter Kundenservice Hamburg war nett",
        "Der Techniker Termin Dienstag war ok",
        "Der Fahrer Kam Pünktlich",
        "Mitarbeiter Des Monats",
    ],
)
def test_ordinary_sentences_near_the_staff_review_names_stay(text: str) -> None:
    assert redact(text, EN) == text


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("Viele Grüße von ", False),
        ("Gruß aus Kiel\nvon ", False),
        ("LG Erika & ", True),  # a first name after a closing (session 54)
        ("Der Fahrer Jan ", True),  # a first name after a role (since the corpus review)
        ("Danke an Anna ", True),
        ("HH-AB ", False),
        ("0151 – ", True),
        ("@erika.", True),
    ],
)
def test_a_long_comment_of_what_the_staff_review_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, EN) != text) is has_personal_data


@pytest.mark.parametrize(
    "text",
    [
        # A brand, a team or a place after a thank-you
        "Thanks to Uber Eats the food arrived hot.",
        "Danke an Lieferando Berlin, alles bestens.",
        "Großes Lob an Küche Süd!",
        "Thanks to Prime Video support for the quick refund.",
        # A vehicle or a department after a role
        "Der Fahrer Mercedes Sprinter stand im Halteverbot.",
        "Mitarbeiter Kundendienst Hotline waren nett.",
        # A place after "from" or "von"
        "Regards from Cape Town",
        "Regards from Tel Aviv",
        "Regards from Kuala Lumpur",
        "Love from Palma Nova",
        "Liebe Grüße von Bord",
        "Viele Grüße aus dem Urlaub von Mallorca",
        # A product model or a train written like a number plate, and no car
        "Mein neuer Fernseher LG-OL 65 ist super.",
        "Der Router FB-AX 7590 läuft stabil.",
        "Mit der S-Bahn S-AB 12 gefahren.",
        "Mein Auto ist toll. Der Router FB-AX 7590 läuft stabil.",
        # Small letters after "Kennzeichen" that are no plate; a document with a year
        "Kennzeichen war am 12 nicht lesbar",
        "Ausweis abgelaufen 2024",
        "Rechnung 2024er Abrechnung",
    ],
)
def test_what_the_review_of_the_new_rules_found_stays(text: str) -> None:
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # Two names after a thank-you; the first alone where the second is a shop
        ("Danke an Jan Petersen und Anna Müller!", "Danke an [Name] und [Name]!"),
        (
            "Thanks to Sarah Miller and John Smith at reception",
            "Thanks to [Name] and [Name] at reception",
        ),
        ("Danke an Jan Petersen und Media Markt", "Danke an [Name] und Media Markt"),
        # "eurer" as "eure"
        ("Grüße von eurer Erika", "Grüße von eurer [Name]"),
        # A number plate in small letters after its word, or where a car is
        ("Kennzeichen hh-ab 1234", "Kennzeichen [Nummer]"),
        ("HH-AB 1234 parkte in der Einfahrt", "[Nummer] parkte in der Einfahrt"),
        ("Der Lieferwagen HH-AB 1234 stand im Weg", "Der Lieferwagen [Nummer] stand im Weg"),
        # An identity document's number in small letters
        ("Ausweis: l01x00t47", "Ausweis: [Nummer]"),
        ("Führerscheinnummer: b072rre2i55", "Führerscheinnummer: [Nummer]"),
    ],
)
def test_what_the_review_of_the_new_rules_found_missing(comment: str, expected: str) -> None:
    """Also left out of the words counted for the summary."""
    assert redact(comment, DE) == expected
    words = set(re.findall(r"\w+", strip_personal(comment)))
    assert not {"Anna", "Sarah", "John", "Erika", "hh", "1234", "l01x00t47"} & words


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("Danke an Jan Petersen und ", True),
        ("Regards from Cape ", False),
        ("Grüße von eurer ", False),
        ("Kennzeichen hh-", False),
        ("Auto HH-AB 12 ", True),
        ("Ausweis l01x ", False),
    ],
)
def test_a_long_comment_of_what_the_review_of_the_new_rules_looks_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # A date of birth in words, in short forms, or with "geboren" after it
        (
            "Bin am 12. März 1985 geboren, Vertrag läuft auf mich",
            "Bin am [Nummer] geboren, Vertrag läuft auf mich",
        ),
        ("geb. am 12.3.85", "geb. am [Nummer]"),
        ("Geburtstag: 12. März 1985", "Geburtstag: [Nummer]"),
        ("born on March 12, 1985", "born on [Nummer]"),
        ("DOB 03/12/1985", "DOB [Nummer]"),  # (as before)
        ("Ich bin am 12.03.1985 in Köln geboren", "Ich bin am [Nummer] in Köln geboren"),
        ("Geburtsdatum ist der 3. Mai 85", "Geburtsdatum ist der [Nummer]"),
        ("born on the 12th of March 1985", "born on the [Nummer]"),
        ("date of birth: Mar. 12th, 1985", "date of birth: [Nummer]"),
        ("My birthday is March 12", "My birthday is [Nummer]"),
        # An account named without "@" after a word that says it is one
        ("Telegram: erika_m2024", "Telegram: [Handle]"),
        ("mein TG ist erika_m2024", "mein TG ist [Handle]"),
        (
            "Mein Telegram-Benutzername ist erika_m2024, bitte melden",
            "Mein Telegram-Benutzername ist [Handle], bitte melden",
        ),
        ("Instagram erika.muster", "Instagram [Handle]"),
        ("username: john_smith99", "username: [Handle]"),
        (
            "Schreibt mir auf Instagram unter erika.muster",
            "Schreibt mir auf Instagram unter [Handle]",
        ),
        ("Discord: erika#1234", "Discord: [Handle]"),
        ("Signal: erika.01", "Signal: [Handle]"),
        ("X-Handle erika_m2024", "X-Handle [Handle]"),
        # A phone number spaced out digit by digit
        ("Handy: 0 1 5 1 2 3 4 5 6 7 8 9", "Handy: [Telefon]"),
        ("Tel 0 30 1 2 3 4 5 6 7", "Tel [Telefon]"),
        ("Rückruf unter 0 1 7 0 1 2 3 4 5 6 7, abends", "Rückruf unter [Telefon], abends"),
        ("Ruf an: 0151 2 3 4 5 6 7 8", "Ruf an: [Telefon]"),
        ("Meine Nummer ist 0 1 5 1 2 3 4 5 6 7 8 9.", "Meine Nummer ist [Telefon]."),
        ("+ 4 9 1 5 1 2 3 4 5 6 7 8", "[Telefon]"),
        # A local number without its area code after a word for a phone (mutation audit)
        ("Rufen Sie mich an: 555 1234", "Rufen Sie mich an: [Telefon]"),
        ("Tel. 834 56 78", "Tel. [Telefon]"),
        ("Tel: 44 12 34", "Tel: [Telefon]"),
        ("Erreichbar unter 834 5678 ab 18 Uhr", "Erreichbar unter [Telefon] ab 18 Uhr"),
        ("call me at 555-1234", "call me at [Telefon]"),
        ("Ruf mich an unter 8345678", "Ruf mich an unter [Telefon]"),
        ("meine Nummer: 834 56 78", "meine Nummer: [Telefon]"),
        ("my number is 555 1234", "my number is [Telefon]"),
        ("Melden Sie sich bitte unter 834 5678", "Melden Sie sich bitte unter [Telefon]"),
        ("Durchwahl 123456", "Durchwahl [Telefon]"),
        # as often said so (review of the change above: these reached staff as written)
        ("Sie erreichen mich unter 834 56 78", "Sie erreichen mich unter [Telefon]"),
        ("Rufen Sie mich bitte an: 555 1234", "Rufen Sie mich bitte an: [Telefon]"),
        # a first group of one digit, as a local number is said in pairs (found by the
        # corpus review of what staff see: it reached staff as written)
        ("Tel. 8 34 56 78, bitte zurückrufen", "Tel. [Telefon], bitte zurückrufen"),
        ("Rufen Sie mich an: 5 55 12 34", "Rufen Sie mich an: [Telefon]"),
    ],
)
def test_what_the_dpo_review_found(comment: str, expected: str) -> None:
    """Also left out of the words counted for the summary."""
    assert redact(comment, DE) == expected
    words = set(re.findall(r"\w+", strip_personal(comment)))
    assert not {"1985", "85", "März", "March", "erika_m2024", "erika", "john_smith99"} & words
    assert not {"1", "2", "3", "4", "5", "6", "7", "8", "9"} & words


@pytest.mark.parametrize(
    "text",
    [
        # Dates that are no date of birth, and a year of birth alone (it says an age)
        "Lieferung am 12. März 2026",
        "seit 1985 Kunde",
        "Bestellt am 3.12.",
        "Am 3. Mai 2024 bestellt, am 12. Juni geliefert",
        "Delivered on March 12, 2026, two weeks late",
        "Geschenk zum Geburtstag kam am 12. März 2026 an",
        "Geboren wurde die Idee am 12. März 2026",
        "Ich bin 1985 geboren und komme mit der App nicht klar",
        "Im Mai 12 Pakete, im Juni 3",
        # A messenger or a username named, and no account
        "Telegram ist super",
        "Telegram funktioniert nicht",
        "Das Signal ist schwach, Empfang 2 Balken",
        "Signal 5G fehlt im Keller",
        "Benutzername ist falsch",
        "Username: falsch geschrieben",
        "Nutzername und Passwort vergessen",
        "Telegram v10.2 stürzt ab",
        "Instagram Version 312.0 stürzt ab",
        "TG 2 war voll",  # the underground car park
        # A phone named, and numbers that are no phone's
        "Telefon 20 30 Minuten gewartet",
        "Hotline: 45 Minuten in der Warteschleife",
        "Tel Aviv 2023 war toll",
        "Call me at 10 30 tomorrow",
        "Erreichbar war niemand, 5 Anrufe",
        "Telefon 200.000 Kunden betroffen",
        "Meine Nummer 5 war lecker",
        "Melden Sie sich 2 Tage vorher",
        "My number is 12 on the list",
        "Telefon 10 20 30 Minuten in der Schleife",
        "Telefon 2 10 20 30 Minuten in der Schleife",
        "Handy 1 200 Euro teurer",
        "Sie erreichen mich 2 Wochen nicht",
        "Rufen Sie mich bitte an, 2 Stunden gewartet",
        "X-Box 360 defekt",
        # Digits spaced out that are ratings, marks or a scale
        "1 2 3 4 5 Sterne",
        "Noten 1 2 3",
        "Noten 1 2 3 2 1",
        "Skala 0 1 2 3 4 5 6 7 8 9",
        "0 1 2 3 4 5 6 7 8 9 10",
        "Bewertungen 5 4 5 5 4 5 5 5 5 3",
        "Tel 0 1 2 3 kaputt",
    ],
)
def test_what_the_dpo_review_fixes_leave_alone(text: str) -> None:
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("Telegram: ", False),
        ("TG ist ", False),
        ("Telegram a_", True),
        ("Signal ", False),
        ("geb. am 12. März ", True),
        ("12. März ", False),
        ("March 12, ", False),
        ("1 ", False),
        ("1 12 ", False),
        ("0 1 ", True),
        ("Tel 0 1 ", False),
    ],
)
def test_a_long_comment_of_what_the_dpo_review_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


# Found by the corpus review (s29): names in small letters or capitals after a title, a first
# name alone after a role, a thank-you or a word that names, relatives, account holders,
# families, closings, signatures, addresses in small letters, social security and staff
# numbers. (German placeholders: the detection is the same for both languages.)
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "herr müller hat mir gesagt dass es morgen kommt",
            "[Name] hat mir gesagt dass es morgen kommt",
        ),
        ("hr. schulz war sehr kompetent", "[Name] war sehr kompetent"),
        (
            "der chef herr papadopoulos ist immer freundlich, bestes gyros in münchen-pasing",
            "der chef [Name] ist immer freundlich, bestes gyros in münchen-pasing",
        ),
        (
            "HERR MÜLLER VOM KUNDENSERVICE HAT MICH EINFACH ABGEWIMMELT!!!",
            "[Name] VOM KUNDENSERVICE HAT MICH EINFACH ABGEWIMMELT!!!",
        ),
        ("frau schmidt an der info war super", "[Name] an der info war super"),
        ("herr klaus müller war da", "[Name] war da"),
        (
            "Fr Schmidt aus der Buchhaltung schickt falsche Rechnungen",
            "[Name] aus der Buchhaltung schickt falsche Rechnungen",
        ),
        ("Kellner Tobias war sehr aufmerksam", "Kellner [Name] war sehr aufmerksam"),
        (
            "Der Concierge Giuseppe hat uns den besten Italiener empfohlen",
            "Der Concierge [Name] hat uns den besten Italiener empfohlen",
        ),
        (
            "der support mitarbeiter kevin war voll nett",
            "der support mitarbeiter [Name] war voll nett",
        ),
        (
            "Our server Jake made our anniversary dinner special",
            "Our server [Name] made our anniversary dinner special",
        ),
        (
            "Danke an Kevin und Chantal vom Frühdienst, ihr seid klasse!",
            "Danke an [Name] und [Name] vom Frühdienst, ihr seid klasse!",
        ),
        (
            "Bedienung (glaub sie hieß Jessica) war überfordert",
            "Bedienung (glaub sie hieß [Name]) war überfordert",
        ),
        (
            "Er heißt Kevin und war am Telefon extrem pampig",
            "Er heißt [Name] und war am Telefon extrem pampig",
        ),
        (
            "the guy called Dave at reception was awesome",
            "the guy called [Name] at reception was awesome",
        ),
        ("Her name was Olga and she refused", "Her name was [Name] and she refused"),
        ("her name tag said Olga, was very rude", "her name tag said [Name], was very rude"),
        ("Der Fahrer Jan war unhöflich", "Der Fahrer [Name] war unhöflich"),
        ("Namensschild 'Dennis' war gut zu lesen", "Namensschild '[Name]' war gut zu lesen"),
        (
            "Die Mitarbeiterin (Namensschild 'S. Kowalczyk') hat falsch rausgegeben",
            "Die Mitarbeiterin (Namensschild '[Name]') hat falsch rausgegeben",
        ),
        ("dank an d'resi am tresen", "dank an d'[Name] am tresen"),
        (
            "Meine Tochter Lea (6) hatte Angst, aber Schwester Monika hat sie abgelenkt",
            "Meine Tochter [Name] (6) hatte Angst, aber Schwester [Name] hat sie abgelenkt",
        ),
        ("Thanks to Sarah from customer care", "Thanks to [Name] from customer care"),
        ("Phone: 030 5551234, ask for Kowalski", "Phone: [Telefon], ask for [Name]"),
        (
            "Bitte Erstattung auf DE89 3704 0044 0532 0130 00, Kontoinhaber Hans Meier",
            "Bitte Erstattung auf [IBAN], Kontoinhaber [Name]",
        ),
        (
            "Mein Vater Klaus-Dieter Möller (geb. 03.07.1948) wurde schlecht beraten",
            "Mein Vater [Name] (geb. [Nummer]) wurde schlecht beraten",
        ),
        (
            "Mein Mann Peter Schulz hat schon dreimal angerufen",
            "Mein Mann [Name] hat schon dreimal angerufen",
        ),
        ("Empfänger: Hans Meier", "Empfänger: [Name]"),
        ("Paket ging an den account holder John Smith", "Paket ging an den account holder [Name]"),
        (
            "Paket sollte zu meinen Eltern: Familie Nowak, Am Markt 3, 04109 Leipzig",
            "Paket sollte zu meinen Eltern: Familie [Name], [Adresse]",
        ),
        ("bei Nachbar Fam. Becker eingeworfen", "bei Nachbar Fam. [Name] eingeworfen"),
        ("3. OG links, bitte klingeln bei Wagner", "3. OG links, bitte klingeln bei [Name]"),
        ("Reservierung lief auf Nguyen, 4 Personen", "Reservierung lief auf [Name], 4 Personen"),
        (
            "Rücksendung an mich: Jana Wolff, Bergstraße 23, 69117 Heidelberg",
            "Rücksendung an mich: [Name], [Adresse]",
        ),
        (
            "Anyway, Tom Baker, 12 Oak Road, London - please resend",
            "Anyway, [Name], [Adresse], London - please resend",
        ),
        ("Hochachtungsvoll\nGerhard Schröder-Klein", "Hochachtungsvoll\n[Name]"),
        ("Essen war kalt.\nViele liebe Grüße, Hans", "Essen war kalt.\nViele liebe Grüße, [Name]"),
        (
            "Bitte um Rückmeldung. Danke im Voraus, Hans Meier",
            "Bitte um Rückmeldung. Danke im Voraus, [Name]",
        ),
        (
            "Die Pizza war top!! Liebe Grüße und bis bald, Petra",
            "Die Pizza war top!! Liebe Grüße und bis bald, [Name]",
        ),
        (
            "Danke für die schnelle Hilfe. Herzlichst, Ihre Ingrid Vogel",
            "Danke für die schnelle Hilfe. Herzlichst, Ihre [Name]",
        ),
        ("cheers, mike", "cheers, [Name]"),
        ("Cheers, Mike from Leeds", "Cheers, [Name] from Leeds"),
        ("Signed, Tom Baker", "Signed, [Name]"),
        (
            "Leider wieder falsch geliefert.\nPetra Schmidt",
            "Leider wieder falsch geliefert.\n[Name]",
        ),
        ("Servus, passt scho. Sepp Huber", "Servus, passt scho. [Name]"),
        ("Achim Müller-Lüdenscheidt", "[Name]"),
        ("Baulärm. Familie Schulz-Yılmaz", "Baulärm. Familie [Name]"),
        ("Tschüss und danke, Oma Gertrud", "Tschüss und danke, Oma [Name]"),
        (
            "meine adresse ist lindenweg 7, 50667 köln, bitte nochmal schicken",
            "meine adresse ist [Adresse], bitte nochmal schicken",
        ),
        ("adresse hauptstraße 12 10115 berlin", "adresse [Adresse]"),
        (
            "Alte Landstraße 8, 22339 Hamburg ist meine Lieferadresse",
            "[Adresse] ist meine Lieferadresse",
        ),
        (
            "Sozialversicherungsnummer 65180539W001 wurde falsch gemeldet",
            "Sozialversicherungsnummer [Nummer] wurde falsch gemeldet",
        ),
        (
            "Versicherungsnummer 45 120385 M 123 bei der Kfz-Versicherung",
            "Versicherungsnummer [Nummer] bei der Kfz-Versicherung",
        ),
        ("Best.-Nr. 4711 fehlt noch", "Best.-Nr. [Nummer] fehlt noch"),
        ("Fahrer Nr. 4471 hat die Tür zugemacht", "Fahrer Nr. [Nummer] hat die Tür zugemacht"),
        ("Agent ID 4471 hung up on me twice", "Agent ID [Nummer] hung up on me twice"),
        ("0049 151 12345678", "[Telefon]"),
        ("Schadensnummer 2024-SN-884412", "Schadensnummer [Nummer]"),
        (
            "Herr von Bülow aus der Filiale hat mir super geholfen",
            "[Name] aus der Filiale hat mir super geholfen",
        ),
        (
            "Rezeptionistin Frau von der Heide war freundlich",
            "Rezeptionistin [Name] war freundlich",
        ),
        ("Frau de la Cruz an der Rezeption", "[Name] an der Rezeption"),
        (
            "Herr Dr. med. Klaus-Peter von Schönebeck hat sich Zeit genommen",
            "[Name] hat sich Zeit genommen",
        ),
        ("Herr Müller/Frau Schmidt von der Hotline", "[Name]/[Name] von der Hotline"),
        ("Meine Mail: anna schmidt (at) gmx de, bitte", "Meine Mail: [E-Mail], bitte"),
    ],
)
def test_what_the_corpus_review_found(comment: str, expected: str) -> None:
    """Also left out of the words counted for the summary."""
    assert redact(comment, DE) == expected
    words = set(re.findall(r"\w+", strip_personal(comment)))
    assert not {"Tobias", "Kevin", "Olga", "müller", "MÜLLER", "Meier", "Wagner", "4711"} & words


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Zi 214 war laut", "Zi [Nummer] war laut"),
        ("Raum 214 war kalt", "Raum [Nummer] war kalt"),
        ("Rm 412 was noisy", "Rm [Nummer] was noisy"),
        ("Suite 1204 was great", "Suite [Nummer] was great"),
        ("Handy: 0 1 5 1 - 2 3 4 5 6 7 8 9", "Handy: [Telefon]"),
        ("Telefon: 0 1 7 1 / 2 3 4 5 6 7 8", "Telefon: [Telefon]"),
        # a count, a year, a scale stay
        ("Im Raum 80331 fallen Zustellungen aus", "Im Raum 80331 fallen Zustellungen aus"),
        ("Suite 2019 renoviert", "Suite 2019 renoviert"),
        ("Noten 1 2 - 3 2 1", "Noten 1 2 - 3 2 1"),
        # a phone number whose digits pass the card check, and a guest's number kept
        ("Mein Handy +4915112345678", "Mein Handy [Telefon]"),
        ("Karte 4111 1111 1111 1111", "Karte [Nummer]"),
        ("Ich bin Gast Nr. 5 und habe gewartet", "Ich bin Gast Nr. 5 und habe gewartet"),
    ],
)
def test_more_rooms_and_a_spelled_phone_with_a_dash_go(comment: str, expected: str) -> None:
    """Found by a staff walk-through: "Zi 214", "Raum 214", "Rm 412", "Suite 1204" and a
    phone number spelled digit by digit with a dash in it reached staff."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Anna Schmidt war super", "[Name] war super"),
        ("Essen kalt – Anna Schmidt war trotzdem nett", "Essen kalt – [Name] war trotzdem nett"),
        (
            "Bitte melden Sie sich, Thomas Berger, Zimmer 305",
            "Bitte melden Sie sich, [Name], Zimmer [Nummer]",
        ),
        ("Bitte rufen Sie Thomas Berger zurück", "Bitte rufen Sie [Name] zurück"),
        ("Please contact Sarah Johnson, room 12", "Please contact [Name], room 12"),
        ("Nachtportier Klaus Becker war betrunken", "Nachtportier [Name] war betrunken"),
        ("Gäste: Thomas und Sabine Berger", "Gäste: [Name] und [Name]"),
        # a first name and a noun, a brand: no surname of the list after it
        ("Thomas Mann ist mein Lieblingsautor", "Thomas Mann ist mein Lieblingsautor"),
        ("Top.\nTom Tailor", "Top.\nTom Tailor"),
        ("Max Zimmer war frei", "Max Zimmer war frei"),
    ],
)
def test_a_common_first_and_last_name_goes_anywhere(comment: str, expected: str) -> None:
    """Found by a staff walk-through: with no cue before them ("Herr", a role, "an"),
    "Thomas Berger, Zimmer 305" and "Please contact Sarah Johnson" reached the alert,
    the summary and the export; employees named are personal data too."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Petra Koch war sehr nett", "[Name] war sehr nett"),
        ("Ich habe mit Petra Koch telefoniert", "Ich habe mit [Name] telefoniert"),
        ("Ansprechpartnerin war Petra Koch", "Ansprechpartnerin war [Name]"),
        ("Petra Klein hat mich beraten", "[Name] hat mich beraten"),
        ("Kontakt: Frank Vogel", "Kontakt: [Name]"),
        ("Rückruf bitte an Anke Wolf.", "Rückruf bitte an [Name]."),
        ("Petra Lang war nett", "[Name] war nett"),
        ("Please call back Petra Klein", "Please call back [Name]"),
        # the word alone, a brand, a first name that is a word: as before
        ("Der Koch war super", "Der Koch war super"),
        ("Calvin Klein Jeans gekauft", "Calvin Klein Jeans gekauft"),
        ("Im Winter Sommer", "Im Winter Sommer"),
        ("Petra fand es klein", "Petra fand es klein"),
        ("Anna Braun-Schmidt half", "[Name] half"),
        # a thing, a brand, an institute, a place, a public figure (found by the review)
        ("Wir haben Mia Winter-Jacke gekauft", "Wir haben Mia Winter-Jacke gekauft"),
        ("Ich habe Anna Koch-Kurs geschenkt", "Ich habe Anna Koch-Kurs geschenkt"),
        ("Booked through Thomas Cook", "Booked through Thomas Cook"),
        ("Bestellt bei Peter Hahn, alles gut", "Bestellt bei Peter Hahn, alles gut"),
        ("Robert Koch Institut hat gesagt", "Robert Koch Institut hat gesagt"),
        ("Die Max Winter Halle", "Die Max Winter Halle"),
        ("Wir waren im Hotel Maria Stein", "Wir waren im Hotel Maria Stein"),
        ("Stephen King ist mein Lieblingsautor", "Stephen King ist mein Lieblingsautor"),
        ("Barry White songs", "Barry White songs"),
        # before a noun, which German capitalises (found by the second review)
        ("Ich habe Anke Wolf Bescheid gesagt", "Ich habe [Name] Bescheid gesagt"),
        ("Hat Petra Koch Sie schon angerufen?", "Hat [Name] Sie schon angerufen?"),
        ("Anna Winter Urlaub war toll", "[Name] Urlaub war toll"),
    ],
)
def test_a_first_name_and_a_last_name_that_is_a_word_go_together(
    comment: str, expected: str
) -> None:
    """Found by a staff walk-through: "Petra war sehr nett" went, "Petra Koch war sehr
    nett" reached the alert, the digest, the summary and its frequent words ("petra"):
    a last name that is a word too (Koch, Klein, Wolf, Vogel) kept the whole name."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Terrible. I'm jane_doe99 on Telegram, DM me at @ janedoe",
            "Terrible. I'm [Handle] on Telegram, DM me at [Handle]",
        ),
        ("Contact me at jane_doe99 on telegram", "Contact me at [Handle] on telegram"),
        ("Ich bin @ anke_wolf auf Telegram", "Ich bin [Handle] auf Telegram"),
        ("I am janedoe99 on Instagram", "I am [Handle] on Instagram"),
        ("write me @ erika", "write me [Handle]"),
        ("max.mustermann gmail com", "[E-Mail]"),
        ("Mail an erika_m gmx.de bitte", "Mail an [E-Mail] bitte"),
        # no account's name, no address
        ("Treffen @ Bahnhof", "Treffen @ Bahnhof"),
        ("Preis @ Home", "Preis @ Home"),
        ("Support on Telegram was slow", "Support on Telegram was slow"),
        ("Fotos auf Instagram", "Fotos auf Instagram"),
        ("v2.1 on Telegram", "v2.1 on Telegram"),
        ("I saw them 2x live at Wembley", "I saw them 2x live at Wembley"),
        ("Version 2.0 web de", "Version 2.0 web de"),
        # after an account's word, or written to the reader (found by the review)
        ("Mein Insta @ erikamuster", "Mein Insta [Handle]"),
        ("My handle is @ janedoe", "My handle is [Handle]"),
        ("Kontakt: @ erika", "Kontakt: [Handle]"),
        ("erika_m gmx.at", "[E-Mail]"),
        # formal, with a comma, capitalised (found by the second review)
        ("Schreiben Sie mir @ ankewolf", "Schreiben Sie mir [Handle]"),
        ("Melden Sie sich gerne @ ankewolf", "Melden Sie sich gerne [Handle]"),
        ("DM me, @ janedoe", "DM me, [Handle]"),
        ("Erika85 auf Insta", "[Handle] auf Insta"),
        ("JaneDoe99 on Telegram", "[Handle] on Telegram"),
        ("Parken in der TG @ Ebene minus 2", "Parken in der TG @ Ebene minus 2"),
        # "@" for "at", products, codes, hashtags (found by the review)
        ("Erreichbarkeit @ Hotline ist schlecht", "Erreichbarkeit @ Hotline ist schlecht"),
        ("Shipping address @ checkout was wrong", "Shipping address @ checkout was wrong"),
        ("Contact @ reception was friendly", "Contact @ reception was friendly"),
        ("I'll text you @ noon", "I'll text you @ noon"),
        (
            "Kontaktiert mich gerne, Termin @ Filiale Mitte",
            "Kontaktiert mich gerne, Termin @ Filiale Mitte",
        ),
        ("I bought FIFA23 on Steam", "I bought FIFA23 on Steam"),
        ("the iPhone15 on Facebook marketplace", "the iPhone15 on Facebook marketplace"),
        ("Code SOMMER20 auf Instagram", "Code SOMMER20 auf Instagram"),
        ("unter #urlaub2024 auf Instagram", "unter #urlaub2024 auf Instagram"),
        ("Office365 Outlook at work keeps crashing", "Office365 Outlook at work keeps crashing"),
        ("The 5G web at the hotel was slow", "The 5G web at the hotel was slow"),
    ],
)
def test_accounts_and_addresses_written_unusually_go(comment: str, expected: str) -> None:
    """Found by a staff walk-through: an account's name before the service it is on, a
    space typed after "@", and an address with "@" left out reached staff as written."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "frau am empfang war nett",
        "herr der ringe",
        "Herr Ober",
        "frau holle",
        "die frau meinte, es dauert",
        "ein netter herr sagte ja",
        "eine frau mitte 40",
        "Ich wurde als Herr angeschrieben, bin aber eine Frau.",
        "DIE FRAU WAR NETT",
        "FRAU AM EMPFANG",
        "Mo–Fr 9-18 Uhr",
        "Mo-Fr Service",
        "Mo bis Fr Ruhetag",
        "Do, Fr Ruhetag",
        "ab Fr Nachmittag",
        "Fr. 12.3. geliefert",
        "Der Fahrer kam pünktlich",
        "Danke an alle",
        "Kellner war nett",
        "Familie ist wichtig",
        "Familie Urlaub gebucht",
        "bei Wagner's Pizzeria",
        "Mark my words",
        "Danke an Toni's Pizzeria",
        "der fahrer max 5 minuten zu spät",
        "Namensschild war nicht zu sehen",
        "klingeln bei Nachbarn",
        "ask for Help",
        "Reservierung lief auf Hochtouren",
        "Frau von der Post war nett",
        "Herr vom Ordnungsamt",
        "Frau von der Krankenkasse",
        "Danke, Deutsche Bahn!",
        "Thank you, Deutsche Telekom",
        "Cheers, Amazon",
        "cheers, fast delivery",
        "Cheers, mate",
        "Tolle Pizza\nGerne Wieder",
        "Bestellung kam nicht.\nAmazon Prime",
        "Top.\nTom Tailor",
        "auf dem rückweg 2 stunden",
        "parkplatz 3 war frei",
        "ICE1234 fiel aus, RTX4090 im Rucksack war heil",
        "Flug LH2034 nach Mallorca",
        "Kilometerstand 120000 km",
        "Ich habe 25000 Payback-Punkte",
        "Im Raum 80331 fallen Zustellungen aus",
        "kein Internet in 80331, Telekom vertröstet",
        "Die 116117 war nicht erreichbar",
        "Telekom Hotline 0800 3301000 war besetzt",
        "Die Pizza heißt Margherita",
        "Der Fahrer Mercedes Sprinter",
        "Fam. mit Kindern",
        "herr gott nochmal",
        "frau doktor",
        "Die Kinder heißen alle anders",
        "Danke an das Team",
        "Familie Müller's Garten",
    ],
)
def test_what_the_corpus_review_fixes_leave_alone(text: str) -> None:
    """Near misses with the same cue words: nouns, a Friday, brands, places, counts, codes."""
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("herr müller ", True),
        ("HERR MÜLLER ", True),
        ("frau ", False),
        ("Fr Schmidt ", True),
        ("Fr ", False),
        ("Herr von ", False),
        ("Herr von der Bülow ", True),
        ("Kellner Tobias war ", True),
        ("Kellner ", True),  # "Kellner Kellner" at the end, as before
        ("danke an kevin und ", True),
        ("sie hieß ", False),
        ("Namensschild ", False),
        ("klingeln bei ", False),
        ("ask for ", False),
        ("Familie ", False),
        ("Fam. Becker ", True),
        ("Jana Wolff, ", True),  # a common first and last name (session 50)
        ("Jana Wolff, Bergstraße 23, ", True),
        ("Anna Schmidt. ", True),
        ("Tom Baker\n", True),
        ("Viele liebe liebe Grüße ", False),
        ("Liebe Grüße und bis ", False),
        ("cheers, ", False),
        ("Cheers, Mike from ", False),
        ("lindenweg 7, ", False),
        ("lindenweg 7 50667 ", True),
        ("adresse ", False),
        ("Alte Alte ", False),
        ("65180539W001 ", True),
        ("45 120385 M ", True),
        ("Fahrer Nr. ", False),
        ("ICE1234 ", False),
        ("12000 km ", False),
        ("in 80331, ", False),
        ("2024-SN-", True),
        ("anna (at) gmx ", False),
        ("x/Frau ", False),
        ("d'resi ", False),
    ],
)
def test_a_long_comment_of_what_the_corpus_review_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Danke an Kevin, Chantal, Jessica und Dennis vom Frühdienst",
            "Danke an [Name], [Name], [Name] und [Name] vom Frühdienst",
        ),
        ("Danke an Anna, das war super", "Danke an [Name], das war super"),
        ("Der Koch Andreas war super", "Der Koch [Name] war super"),
        ("Ich bin Anna und sehr sauer", "Ich bin [Name] und sehr sauer"),
        ("Hauptstraße 12, 10115 berlin", "[Adresse]"),
        ("Meine Adresse: Hauptstr. 5, 80331 münchen.", "Meine Adresse: [Adresse]."),
    ],
)
def test_what_the_review_of_the_corpus_rules_found(comment: str, expected: str) -> None:
    """Found by the review of the change: a list of names after a thank-you kept all but
    the first, a cook was no role, "Ich bin Anna" no introduction, and a city in small
    letters after a street and postal code stayed beside "[Adresse], [Nummer]"."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Der Koch kam raus und hat sich entschuldigt",
        "Der Chef hat sich entschuldigt",
        "Ich bin sehr zufrieden",
        "ich bin kunde seit 10 jahren",
        "Ich bin Jung und brauche das",
        "Lindenstraße 3, 2019 neubau",
    ],
)
def test_what_the_review_of_the_corpus_rules_leaves_alone(text: str) -> None:
    assert redact(text, DE) == text.replace("Lindenstraße 3", "[Adresse]")


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [("Kevin, ", True), ("Kevin und ", True), ("Ich bin ", False)],
)
def test_a_long_list_of_names_runs_through(unit: str, has_personal_data: bool) -> None:
    text = "Danke an " + (unit * (4096 // len(unit) + 1))[:4096]
    redacted = redact(text, DE)
    assert (redacted != text) is has_personal_data
    assert "Kevin" not in redacted


@pytest.mark.parametrize(
    "text",
    [
        # "frau" typed small is often a wife: any word may follow
        "frau fand das essen kalt",
        "Frau bestellte Pizza, ich Nudeln.",
        "frau allergisch gegen nüsse",
        "frau rollstuhl, kein aufzug",
        "FRAU FAND DAS ESSEN KALT",
        # "Familie" as a word, and a noun after it
        "Waren mit der Familie Schnitzel essen",
        "Haben als Familie Spaß gehabt",
        "Familie Frühstück war super",
        "Familie Buffet war top",
        # a role that is a thing too, before a product or a channel
        "Der Sender Sky Sport fehlt seit gestern",
        "Die Bedienung Android App ist umständlich.",
        "Our server Microsoft Exchange was down",
        "Mutter Erde Produkte sind teuer.",
        # a booking "on" a place or a way to pay, a door bell in a storm
        "Tisch war auf Terrasse reserviert, saßen aber drinnen.",
        "Bestellung lief auf Kreditkarte, wurde doppelt abgebucht.",
        "booked under Expedia",
        # found by the review of the fixes
        "I'm Victoria fan",
        "Ich bin Victoria-Kunde",
        # found by the last review
        "Bitte klingeln bei Ankunft",
        "Sender: Sky Sport fehlt",
        "Ihr Partner Tele Columbus hat versagt",
        "Der Server Jurassic Park läuft nicht",
        "Ideal für Familie Ausflüge, Kinder lieben es",
    ],
)
def test_what_the_review_of_the_corpus_rules_found_over_redacted(text: str) -> None:
    """Found by the review of the corpus rules: each of these lost its matter to "[Name]"."""
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("frau müller an der kasse war unfreundlich", "[Name] an der kasse war unfreundlich"),
        ("frau papadopoulos war super", "[Name] war super"),
        ("frau anna schmidt war nett", "[Name] war nett"),
        ("Leider alles ruiniert. Familie Kowalczuk", "Leider alles ruiniert. Familie [Name]"),
        ("bitte bei Familie Kowalczuk klingeln", "bitte bei Familie [Name] klingeln"),
        ("Mein Mann Peter Schulz hat angerufen", "Mein Mann [Name] hat angerufen"),
        ("bitte klingeln bei Wagner", "bitte klingeln bei [Name]"),
        ("Reservierung lief auf Nguyen", "Reservierung lief auf [Name]"),
        ("auf den Namen Kowalczuk reserviert", "auf den Namen [Name] reserviert"),
        # as often said so (DPO review: kept while "auf den Namen" went)
        ("Reservierung unter dem Namen Yilmaz", "Reservierung unter dem Namen [Name]"),
        ("Tisch unter meinem Namen Kowalczuk", "Tisch unter meinem Namen [Name]"),
    ],
)
def test_names_the_narrower_corpus_rules_still_take(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Danke an alle, Kellner Tobias war super", "Danke an alle, Kellner [Name] war super"),
        ("Danke an Anna, Lob an Ben", "Danke an [Name], Lob an [Name]"),
        ("Mein Mann Dragan Petrović hat angerufen", "Mein Mann [Name] hat angerufen"),
        ("Die Chefin Ayşe Demirci war nett", "Die Chefin [Name] war nett"),
        ("Empfänger: Chidi Okafor", "Empfänger: [Name]"),
        ("bitte klingeln bei Kowalski", "bitte klingeln bei [Name]"),
        ("Buchung lief auf A. Lindemann", "Buchung lief auf [Name]"),
        ("Familie Lindemann, Zimmer 12", "Familie [Name], Zimmer 12"),
        ("an die Familie Müller", "an die Familie [Name]"),
        ("Hauptstraße 12, 10115 stimmt nicht", "[Adresse], [Nummer] stimmt nicht"),
        ("frau walter fand das essen kalt", "[Name] fand das essen kalt"),
        ("Ich bin Anna-Lena und sauer", "Ich bin [Name] und sauer"),
        # found by the last review
        ("frau anna lindemann war nett", "[Name] war nett"),
        ("Ich bin Jean-Pierre und sauer", "Ich bin [Name] und sauer"),
    ],
)
def test_what_the_review_of_the_fixes_found(comment: str, expected: str) -> None:
    """Found by the review of the narrower rules: a list swallowed the cue after it, and a
    name with an unlisted first name after a relative, a bell, a family's comma or an
    article was kept; a small-letter verb after a postal code went as a city."""
    assert redact(comment, DE) == expected


def test_an_english_name_after_a_role_that_is_no_thing_goes() -> None:
    assert redact("The manager Priya Patel was rude", EN) == "The manager [Name] was rude"
    assert redact("booked under Patel", EN) == "booked under [Name]"
    assert redact("Thanks to everyone, waiter Dave was great", EN) == (
        "Thanks to everyone, waiter [Name] was great"
    )


def test_every_pattern_is_listed_where_figures_and_the_warm_up_find_it() -> None:
    # PATTERNS fingerprints the figures computed with them, and `feedbackbot run` compiles
    # exactly those before polling: one left out would be compiled at a customer's comment.
    module = vars(redaction)
    defined = {name for name, value in module.items() if isinstance(value, redaction._Pattern)}
    listed = {name for name, value in module.items() if any(value is p for p in PATTERNS)}
    assert defined == listed


def test_commands_start_without_compiling_the_patterns_which_run_compiles_first() -> None:
    # Compiling them took about a second and a half of every command, `--help` too.
    script = (
        "import bot.cli, flows.redaction as r\n"
        "print(sum(p._compiled is not None for p in r.PATTERNS))\n"
        "r.compile_patterns()\n"
        "print(sum(p._compiled is not None for p in r.PATTERNS), len(r.PATTERNS))\n"
        "print(r.strip_personal('Gruß, Anna Schmidt'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    before, after, shown = done.stdout.splitlines()
    assert before == "0"
    count, total = after.split()
    assert count == total and int(total) > 80
    assert "Anna" not in shown and "Schmidt" not in shown


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a slip of the thumb before an address made the redaction raise (found by an attack
        # review): every alert, summary and start of the bot failed on that one comment
        ("Tom  Becker, Hauptstr. 5", "[Name], [Address]"),
        ("Tom\tBecker, Hauptstr. 5", "[Name], [Address]"),
        ("Grüße Jana  Wolff, Bergstraße 23", "Grüße [Name], [Address]"),
        # a phone's or a signature's no-break space between first and last name
        ("Viele Grüße, Erika\u00a0Mustermann", "Viele Grüße, [Name]"),
        ("Tom\u00a0Becker, Hauptstr. 5", "[Name], [Address]"),
        ("Danke an Herrn\u202fMüller", "Danke an [Name]"),
        ("Viele Grüße, Erika Muster\u00admann", "Viele Grüße, [Name]"),
    ],
)
def test_names_apart_by_odd_spaces(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


def test_a_comment_the_patterns_fail_on_is_withheld_and_the_failure_logged_without_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(text: str, placeholder: object) -> str:
        raise ValueError(f"cannot place {text!r}")  # quoting the comment, as some do

    monkeypatch.setattr(redaction, "_replace", failing)
    comment = "Erika Mustermann, Hauptstr. 5, fand alles gut"
    assert redact(comment, translator("de")) == (
        "[Kommentar zurückgehalten: Er konnte nicht auf personenbezogene Daten geprüft werden]"
    )
    assert redact(comment, EN) == ("[Comment withheld: it could not be checked for personal data]")
    assert strip_personal(comment) == ""
    logged = [record.getMessage() for record in caplog.records]
    # the innermost frame of flows.redaction (here the caller of the failing stand-in)
    where = re.compile(r"could not be redacted \(ValueError in (redact|strip_personal), line")
    assert logged and all(where.search(m) for m in logged)
    assert not any("Mustermann" in m or "Hauptstr" in m for m in logged)


def test_the_log_names_where_in_the_redaction_it_failed_not_inside_re(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("a bug")

    monkeypatch.setattr(redaction, "_is_person", broken)
    redact("Der Fahrer Jan Petersen war nett", DE)
    [line] = [record.getMessage() for record in caplog.records]
    name = re.search(r"RuntimeError in (\w+), line", line)
    assert name is not None, line
    source = Path(redaction.__file__).read_text(encoding="utf-8")
    assert f"def {name.group(1)}(" in source, line


# Pieces people's comments are made of, odd spacing included: a mix of them once made a
# pattern's replacement raise (see test_names_apart_by_odd_spaces).
PIECES = [
    *("  ", " ", "\t", "\n", "\u00a0", ", ", ". ", "-", "/", "&", "–", "(", ")", ":"),
    *("Tom", "Becker", "Erika", "Mustermann", "Anna ", "Jan ", "Kevin", "Müller ", "Ä", "ß"),
    *("Herr ", "Frau ", "Dr. ", "Herr Dr. med. ", "Familie ", "Mein Vater ", "Der Fahrer "),
    *("LG ", "Gruß ", "Viele Grüße, ", "Danke an ", "Mein Name ist ", "Ich bin ", "this is "),
    *("Hauptstr. 5", "Bergstraße 23", "Am Markt ", "10115 Berlin", "123 Main Street", "Str. "),
    *("Kundennummer ", "nr ", "Ausweis ", "DE89 3704 ", "12.", "12. März ", "geb. ", "12:30"),
    *("0151 ", "+49 ", "1", "0", "(at)", " at ", " dot ", "@a", "a.de", "www.", "Telegram "),
    *("Kontoinhaber ", "sie hieß ", "und ", "von ", "ist ", "a", "A", "x1 "),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_the_patterns_take_any_mix_of_pieces_without_failing(pieces: list[str]) -> None:
    # _replace itself: redact() would withhold the comment and hide the failure
    text = "".join(pieces)
    redaction._replace(text, lambda kind: f"[{kind}]")
    redaction._replace(text, lambda kind: " ")


def test_a_name_before_an_address_goes_however_it_is_spaced() -> None:
    # Every combination (540) of the places where people's spacing varies
    spacings = [" ", "  ", "\t", "\u00a0", " \u200b", "\u202f"]
    for lead, first, gap, last, comma, address in itertools.product(
        ["", "Grüße ", "an "],
        ["Tom", "Jana"],
        spacings,
        ["Becker", "Wolff"],
        [", ", ",", ",  "],
        ["Hauptstr. 5", "Bergstraße 23", "Am Markt 3"],
    ):
        comment = f"{lead}{first}{gap}{last}{comma}{address}"
        shown = redaction._replace(comment, lambda kind: f"[{kind}]")  # raises no error
        assert last not in shown and "[address]" in shown, (comment, shown)


# Found by an attack review (s30): names as said on the phone ("Anna Schmidt hier"), set
# off by commas after "ich", after a signature's label, surname first as in a form, after
# "Patientin" and "ich bin die", and an e-mail address spelled with "punkt" and "bei".
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Anna Schmidt hier, bitte zurückrufen", "[Name] hier, bitte zurückrufen"),
        ("Hallo, Anna Schmidt hier.", "Hallo, [Name] hier."),
        ("Hallo zusammen, Tom hier!", "Hallo zusammen, [Name] hier!"),
        ("Anna hier", "[Name] hier"),
        ("Ich, Erika Mustermann, bin enttäuscht", "Ich, [Name], bin enttäuscht"),
        ("Ich, Kevin, habe bestellt", "Ich, [Name], habe bestellt"),
        ("Ich, Frau Schmidt, bin sauer", "Ich, [Name], bin sauer"),
        ("Unterschrift: Erika Mustermann", "Unterschrift: [Name]"),
        ("Signatur: E. Mustermann", "Signatur: [Name]"),
        ("gez. Erika Mustermann", "gez. [Name]"),
        ("Name: Erika Mustermann", "Name: [Name]"),
        ("Name = Erika Mustermann", "Name = [Name]"),
        ("Mein Name: Erika Mustermann", "Mein Name: [Name]"),
        (
            "Ich heiße Erika Mustermann und war sehr zufrieden",
            "Ich heiße [Name] und war sehr zufrieden",
        ),
        ("Hier schreibt Erika Mustermann, danke!", "Hier schreibt [Name], danke!"),
        ("Mustermann, Erika (Kundin seit 2010)", "[Name] (Kundin seit 2010)"),
        ("Name = Mustermann, Erika", "Name = [Name]"),
        ("Name: Mustermann, Erika", "Name: [Name]"),
        ("Kundin: Mustermann, Erika", "Kundin: [Name]"),
        ("Müller, Anna", "[Name]"),
        ("Name: Müller, Anna; Zimmer 4", "Name: [Name]; Zimmer 4"),
        ("Zimmer 12, Patientin Erika Mustermann", "Zimmer 12, Patientin [Name]"),
        ("Der Patient Anna war laut", "Der Patient [Name] war laut"),
        (
            "Ich bin die Erika aus der Filiale in der Hauptstraße",
            "Ich bin die [Name] aus der Filiale in der Hauptstraße",
        ),
        ("Ich bin der Max", "Ich bin der [Name]"),
        ("Ich bin die Erika Mustermann", "Ich bin die [Name]"),
        ("erika punkt mustermann bei gmx punkt de", "[E-Mail]"),
        ("Mail: erika bei gmail punkt com", "Mail: [E-Mail]"),
        ("Kontakt: tom bei web.de", "Kontakt: [E-Mail]"),
        ("erika.mustermann bei gmx.de", "[E-Mail]"),
    ],
)
def test_what_the_attack_review_found(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


def test_a_name_set_off_by_commas_after_i_goes_in_english_too() -> None:
    assert redact("I, John Smith, am angry", EN) == "I, [Name], am angry"


@pytest.mark.parametrize(
    "text",
    [
        "Hier schreibt man gern Bewertungen",
        "Alles Gute hier.",
        "Anna hier ist alles gut",
        "Tom Tailor hier.",
        "Unterschrift fehlte auf dem Lieferschein",
        "Unterschrift: Fehlt leider",
        "Unterschrift: Keine",
        "Ich, Berliner Stammkunde, bin sauer",
        "Ich bin die ganze Woche unterwegs",
        "Ich bin der Meinung Sabine hat recht",
        "Ich bin der Meinung, dass es zu teuer ist",
        "Ich bin die Neue",
        "Ich bin die Paula-Kundin",
        "Ich bin der Tim Mälzer Fan",
        "Patient und freundlich",
        "Die Patientin war nett",
        "Patientin, 45 Jahre",
        "Müller, Bäcker und Metzger haben zu",
        "Fischer, Anna und Tom waren super",
        "Hallo, Anna!",
        "Hi, Tom (Kunde)",
        "Schade, Anna.",
        "Bäcker, Anna",
        "Fazit: Lecker, Anna",
        "Perfekt, Anna (Kasse)",
        "Ich bestelle bei web punkt de",
        "Kunde bei gmx punkt de",
        "ich bin seit Jahren kunde bei web punkt de",
        "Wir waren bei Anna essen",
    ],
)
def test_what_the_attack_review_fixes_leave_alone(text: str) -> None:
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("punkt ", False),
        ("a punkt ", False),
        ("x bei ", False),
        ("erika punkt bei gmx punkt ", False),
        ("Anna Schmidt ", True),  # a common first and last name (session 50)
        ("Anna hier, ", True),
        ("Ich, Erika Mustermann ", False),
        ("Ich, Anna, ", True),
        ("Unterschrift: Erika ", True),
        ("gez. E. ", False),
        ("Mustermann, Erika (", False),
        ("Müller,Anna", False),
        ("Ich bin die ", False),
        ("Ich bin die Erika ", True),
        ("Patientin Erika ", True),
    ],
)
def test_a_long_comment_of_what_the_attack_review_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # deleted outright, an invisible character joined a word and a number, which then
        # matched none of the patterns (found by the review of that change)
        ("Tel\u200b01512345678", "Tel [Phone]"),
        ("IBAN\u200bDE89370400440532013000", "IBAN [IBAN]"),
        ("Nr\u00ad01512345678", "Nr [Phone]"),
        ("Code\u200b123456789", "Code [Number]"),
        ("Ruf an\u2060+49 151 2345678", "Ruf an [Phone]"),
        # inside a word or a number it still goes
        ("erika.mus\u200bter@gmx.de", "[Email]"),
        ("0151\u200b2345678", "[Phone]"),
        ("Viele Grüße, Erika\u200bMustermann", "Viele Grüße, [Name]"),
        # ... and where a space would split a word or an address (the review of the fix)
        ("Viele Grüße, E\u200brika Mustermann", "Viele Grüße, [Name]"),
        ("Mail: erika\u200b.mustermann@gmx.de", "Mail: [Email]"),
        ("Mail: erika\u200b85@web.de", "Mail: [Email]"),
        ("Tel +\u200b49 151 23456789", "Tel [Phone]"),
        ("IBAN G\u200bB29NWBK60161331926819", "IBAN [IBAN]"),
        ("IBAN GB\u200b29NWBK60161331926819", "IBAN [IBAN]"),
        ("IBAN: DE\u200b89 3704 0044 0532 0130 00", "IBAN: [IBAN]"),
        ("Mail erika.mustermann@G\u200bMX.de", "Mail [Email]"),
        ("Kundennr. KD4711A\u200b0815", "Kundennr. [Number]"),
        # joiners too (the read-through), but not in an emoji sequence
        ("Viele Grüße, Erika\u200dMustermann", "Viele Grüße, [Name]"),
        ("Viele Grüße, Erika\u200cMustermann", "Viele Grüße, [Name]"),
        (
            "Top! \U0001f468\u200d\U0001f469\u200d\U0001f467",
            "Top! \U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
    ],
)
def test_invisible_characters_neither_hide_nor_join(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a hostile customer's review: marks of writing direction, a joiner after a
        # space or an "@", a variation selector, a tag ...
        ("Mail: erika.mustermann\u200e@gmx.de", "Mail: [Email]"),
        ("Viele Grüße, Erika\u200f Mustermann", "Viele Grüße, [Name]"),
        ("Rufen Sie mich an: 0151\u200e23456789", "Rufen Sie mich an: [Phone]"),
        ("Tel 0151\u202e98765432\u202c", "Tel [Phone]"),
        ("Mail: erika\u2066mustermann@gmx.de\u2069", "Mail: [Email]"),
        ("Mail: erika\ufe0fmustermann@gmx.de", "Mail: [Email]"),
        ("Mail: erika\U000e0041mustermann@gmx.de", "Mail: [Email]"),
        ("Tel 0151 \u200d2345 6789", "Tel [Phone]"),
        ("Schreib mir auf @\u200derika_m85", "Schreib mir auf [Handle]"),
        ("Mail: erika.mustermann@\u200dgmx.de", "Mail: [Email]"),
        # ... letters and digits in other shapes: fullwidth, circled, composed apart
        ("IBAN ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００", "IBAN [IBAN]"),
        ("Rufen Sie mich an: ０１５１ ２３４５６７８９", "Rufen Sie mich an: [Phone]"),
        ("Mail: max＠example．com", "Mail: [Email]"),
        ("Schreib mir auf ＠erika_m85", "Schreib mir auf [Handle]"),
        ("Tel: ①⑤①②③④⑤⑥⑦⑧⑨", "Tel: [Phone]"),
        ("Mail: ⓔⓡⓘⓚⓐ@gmx.de", "Mail: [Email]"),
        ("Viele Grüße, Ｅｒｉｋａ Ｍｕｓｔｅｒｍａｎｎ", "Viele Grüße, [Name]"),
        ("Herr Mu\u0308ller war unfreundlich", "[Name] war unfreundlich"),
        ("Viele Grüße, Jürgen Mu\u0308ller", "Viele Grüße, [Name]"),
        # ... and with a mark on every letter or digit: struck through, a keycap
        ("Mail: e\u0336r\u0336i\u0336k\u0336a\u0336@gmx.de", "Mail: [Email]"),
        (
            "Tel: 0\u03361\u03365\u03361\u0336 2\u03363\u03364\u03365\u03366\u03367\u0336",
            "Tel: [Phone]",
        ),
        ("Tel " + "".join(d + "\ufe0f\u20e3" for d in "015123456789"), "Tel [Phone]"),
        # emoji sequences, units and fractions stay as written
        *(
            (emoji, emoji)
            for emoji in (
                "Top! \U0001f468\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f",
                "Top! \U0001f9d1\U0001f3fd\u200d\U0001f4bb \U0001f3f3\ufe0f\u200d\U0001f308",
            )
        ),
        ("120 m², 3½ Zimmer, CO₂ ℹ\ufe0f", "120 m², 3½ Zimmer, CO₂ ℹ\ufe0f"),
    ],
)
def test_other_shapes_of_letters_and_digits_hide_nothing(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # Telegram's own links name an account (found by a hostile customer's review)
        ("Meldet euch: tg://resolve?domain=erika_m85", "Meldet euch: [URL]"),
        ("tg://user?id=77000", "[URL]"),
        ("ftp://erika:geheim@files.example.com/x", "[URL]"),
    ],
)
def test_links_of_any_scheme_go(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # an address split across lines, or with spaces around its dots (found by a hostile
        # customer's review: the name before "@" reached staff)
        ("Mail: erika.mustermann@\ngmx.de danke", "Mail: [Email] danke"),
        ("erika.mustermann@ \n gmx.de", "[Email]"),
        ("Schreiben Sie an max @ example . com", "Schreiben Sie an [Email]"),
        ("max.muster@gmx . de", "[Email]"),
        ("max @ mail . example . co . uk, danke", "[Email], danke"),
        # what stays: no known top-level domain after the spaced dot, a price, a shop
        ("Ich war @ home . Das Essen war kalt", "Ich war @ home . Das Essen war kalt"),
        ("Preis 2 @ 3 . de", "Preis 2 @ 3 . de"),
        ("Kosten @ 3 . 99", "Kosten @ 3 . 99"),
        ("Bestellung @\nAmazon.de war schneller", "Bestellung @\n[URL] war schneller"),
    ],
)
def test_an_address_split_across_lines_or_spaced_around_its_dots_goes(
    comment: str, expected: str
) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # after a word for a phone, groups apart by other signs (found by a hostile
        # customer's review: in clear)
        ("Tel 0151_2345_6789", "Tel [Phone]"),
        ("Tel 0151~2345~6789", "Tel [Phone]"),
        ("Tel 0151,2345,6789", "Tel [Phone]"),
        ("Handy: 0151·2345·6789", "Handy: [Phone]"),
        ("Mobil 0151 · 2345 · 6789", "Mobil [Phone]"),
        ("Mobil 0151_23456789", "Mobil [Phone]"),
        ("call me at 555~123~4567", "call me at [Phone]"),
        ("phone: 555·123·4567", "phone: [Phone]"),
        # what stays: without such a word, prices, counts
        ("0151_2345_6789", "0151_2345_6789"),
        ("Zimmer 12_34_56", "Zimmer 12_34_56"),
        ("Das Handy 1299,99 war zu teuer", "Das Handy 1299,99 war zu teuer"),
        ("Handy 1.299,00 €", "Handy 1.299,00 €"),
        ("Telefon war 20,30,40 Minuten besetzt", "Telefon war 20,30,40 Minuten besetzt"),
        ("Handy 3~4 Tage kaputt", "Handy 3~4 Tage kaputt"),
    ],
)
def test_a_phone_number_after_its_word_goes_whatever_parts_it(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # an IBAN written with dashes or dots (found by a hostile customer's review: its
        # first eight characters were kept and the rest labelled a phone number)
        ("IBAN DE89-3704-0044-0532-0130-00", "IBAN [IBAN]"),
        ("DE89.3704.0044.0532.0130.00, danke", "[IBAN], danke"),
        ("IBAN DE89 - 3704 - 0044 - 0532 - 0130 - 00", "IBAN [IBAN]"),
        ("IBAN DE89–3704–0044–0532–0130–00.", "IBAN [IBAN]."),
        ("GB29.NWBK.6016.1331.9268.19", "[IBAN]"),
        ("IBAN: DE89-3704-0044-0532-0130-01", "IBAN: [Number]"),  # mistyped: still a number
        # what stays: too few digits for an account
        ("Modell AB12-CDEF-GH34-IJKL", "Modell AB12-CDEF-GH34-IJKL"),
        ("Rechnung RE12-2024-0001", "Rechnung RE12-2024-0001"),
        # the word after a mistyped one stays (found by a diff review: "ist" was taken
        # as its last group)
        ("Seriennummer AB12.3456.7890.1234 ist defekt", "Seriennummer [Number] ist defekt"),
        ("Nummer AB12 3456 7890 1234 ist falsch", "Nummer [Number] ist falsch"),
        ("AB12-3456-7890-1234 falsch", "[Number] falsch"),
        ("IBAN DE89 3704 0044 0532 0130 00 ist meine", "IBAN [IBAN] ist meine"),
        # a valid one with a word after it (found by a second diff review: "[Number]")
        ("Nummer AT61 1904 3002 3457 3201 ist falsch", "Nummer [IBAN] ist falsch"),
        ("IBAN AT61 1904 3002 3457 3201 bitte", "IBAN [IBAN] bitte"),
    ],
)
def test_an_iban_with_dashes_or_dots_is_one_iban(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a precision review of the attack review's cues: ordinary comments
        ("Ich bin seit 2010 bei gmx.de zufrieden", "Ich bin seit 2010 bei [URL] zufrieden"),
        ("Mails landen z.B. bei gmx.de im Spam", "Mails landen z.B. bei [URL] im Spam"),
        ("Version 2.0 bei web.de", "Version 2.0 bei [URL]"),
        ("Kartoffeln, Linda (festkochend)", "Kartoffeln, Linda (festkochend)"),
        ("Bestellt: Cheeseburger, Angus (medium)", "Bestellt: Cheeseburger, Angus (medium)"),
        ("very patient Highly Recommended!", "very patient Highly Recommended!"),
        ("WLAN-Name: Hotel Gast", "WLAN-Name: Hotel Gast"),
        ("Feld Name: Sonderzeichen gehen nicht", "Feld Name: Sonderzeichen gehen nicht"),
        ("Name = Feld lässt sich nicht ausfüllen", "Name = Feld lässt sich nicht ausfüllen"),
        ("Hier ist Ihr Team.", "Hier ist Ihr Team."),
        ("Hier ist Chaos.", "Hier ist Chaos."),
        # ... and names in those shapes, which still go
        ("Hier ist Anna Schmidt, bitte zurückrufen", "Hier ist [Name], bitte zurückrufen"),
        ("Hier spricht Anna Schmidt.", "Hier spricht [Name]."),
        ("Mustermann, Erika (Kundin seit 2010)", "[Name] (Kundin seit 2010)"),
        ("Name: Erika Mustermann", "Name: [Name]"),
        ("Der Patient Anna war laut", "Der Patient [Name] war laut"),
        ("erika.mustermann bei gmx.de", "[E-Mail]"),
        # (the review of those fixes)
        ("Mail: e.m bei gmx.de", "Mail: [E-Mail]"),
        ("Mail: em1985 bei gmx.de", "Mail: [E-Mail]"),
        ("Das Update v3.1 bei outlook.com", "Das Update v3.1 bei [URL]"),
        ("Mustermann, Erika (Zimmer 12)", "[Name] (Zimmer 12)"),
        ("Burger, Hans (Gast-Empfehlung)", "Burger, Hans (Gast-Empfehlung)"),
        ("Name: Schmidt Anna", "Name: [Name]"),
        ("Nachname: Mustermann", "Nachname: [Name]"),
        ("Kunden-Name: Erika Mustermann", "Kunden-Name: [Name]"),
        ("the patient John Smith was left waiting", "the patient [Name] was left waiting"),
        # (the read-through of the day's changes)
        ("Very Patient Highly Recommended!", "Very Patient Highly Recommended!"),
        ("doctor and patient John Smith", "doctor and patient [Name]"),
        ("Hier ist Anna Schmidt\nbitte zurückrufen", "Hier ist [Name]\nbitte zurückrufen"),
        ("Hier ist Anna Schmidt: bitte zurückrufen", "Hier ist [Name]: bitte zurückrufen"),
        ("Treffpunkt anna bei gmx punkt de", "Treffpunkt [E-Mail]"),
    ],
)
def test_the_new_cues_take_names_not_ordinary_words(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a staff review: a name signed after a dash or a comma stayed, and staff
        # read it in alerts, summaries and "Häufige Wörter" (after "Best regards –" it went)
        (
            "My order #A12345 never arrived. Call me at (555) 123-4567. – John Smith",
            "My order #[Number] never arrived. Call me at [Phone]. – [Name]",
        ),
        (
            "Kaiserschmarrn! Ruft mich an 0171 2345678, Petra Schulze",
            "Kaiserschmarrn! Ruft mich an [Phone], [Name]",
        ),
        (
            "Danke an Jan, Kaiserschmarrn top. – Petra Schulze",
            "Danke an [Name], Kaiserschmarrn top. – [Name]",
        ),
        ("Order never arrived - Sarah Miller", "Order never arrived - [Name]"),
        ("Lieferung kam nie an. — Petra Schulze", "Lieferung kam nie an. — [Name]"),
        ("~ Sarah Miller", "~ [Name]"),
        ("Essen kalt, Petra Schulze\nSonst gut", "Essen kalt, [Name]\nSonst gut"),
        ("Essen kalt – Petra Schulze :(", "Essen kalt – [Name] :("),
        ("Essen kalt.\n– Petra", "Essen kalt.\n– [Name]"),
        ("Essen kalt –Petra", "Essen kalt –[Name]"),
        (
            "Lieferung kam nie – Petra Schulze, Tel. 0171 2345678",
            "Lieferung kam nie – [Name], Tel. [Phone]",
        ),
        # (as the rules for dishes, books and brands were made stricter: a double first name
        # before a known last name, a contact's label after, a bullet of no list)
        ("Paket kam nie an – Anna Maria Schmidt", "Paket kam nie an – [Name]"),
        ("Danke – Hans Peter Müller", "Danke – [Name]"),
        ("Danke – Erika von der Heide", "Danke – [Name]"),
        ("Paket kam nie an – Anna Schmidt-Weber", "Paket kam nie an – [Name]"),
        ("Paket kam nie an – Anna Kowalczyk", "Paket kam nie an – [Name]"),
        ("Danke – Anna Klein", "Danke – [Name]"),  # ("Calvin Klein" is a brand)
        ("Kalt – John Smith Tel. 0171 2345678", "Kalt – [Name] Tel. [Phone]"),
        ("Paket kam nie an\n- Anna Schmidt", "Paket kam nie an\n- [Name]"),
        ("Fahrer:\n- Anna Schmidt\n- Tom Becker", "Fahrer:\n- [Name]\n- [Name]"),
        ("Leider kalt, Petra Schulze", "Leider kalt, [Name]"),
    ],
)
def test_a_name_signed_after_a_dash_or_a_comma_goes(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    "text",
    [
        # what follows a dash or a comma at the end and is no one's name
        "Alles top – Super Service",
        "Wir waren in der Therme, Bad Homburg",
        "Jeans gekauft – Tom Tailor",
        "Tolle Jeans, Tom Tailor",
        "Pullover gekauft – Ralph Lauren",
        "Tolles Hotel, Frankfurt am Main",
        "Super Essen – Kaiserschmarrn Deluxe",
        "Lecker – Spaghetti Carbonara",
        "Die Pizza war kalt, Bella Italia",
        "Baumarkt – Max Bahr",
        "Danke an alle – Team Nord",
        "Kartoffeln, Linda (festkochend)",
        "Essen kalt, Petra",  # a first name alone after a comma: "Danke, Anna" is a greeting's
        "Gleis 7, Wagen 12, Platz 45 – Sitz war kaputt",
        "Eltern-Kind-Zimmer - Tom und ich",
        "Sehr gut - Victoria Station ist nah",
        # found by a review: dishes, books and brands after a comma or a dash
        "Wir hatten Pizza, Tom Kha Gai",
        "Toll – Tom Kha Gai",
        "Bestellt:\n- Tom Kha Gai\n- Pad Thai",
        "Essen:\n- Pad Thai\n- Tom Yum",
        "Wir bestellten Pad Thai, Tom Yum",
        "Sehr schön – Marie Antoinette Suite",
        "Buch gelesen – Anne Frank Tagebuch",
        "Kalt – Anne Frank Tagebuch\nSonst gut",
        "Fahrrad gekauft – Mary Poppins",
        "Beste Pizza der Stadt – Mario Bros",
        "Top Produkt – Marc Cain",
        "Schuhe gekauft – Paul Green",
        "Gekauft bei – Tom Ford",
        "Parfum gekauft – Karl Lagerfeld",
        "Jeans, Calvin Klein",
    ],
)
def test_what_ends_a_comment_after_a_dash_and_is_no_name_stays(text: str) -> None:
    assert redact(text, EN) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a staff review: staff named after a role and "hieß", "namens", set off by
        # commas, or opening the comment with "This is", stayed, while "sie hieß Jessica"
        # and "Our server Jessica" went
        ("Der Kellner hieß Kevin Becker", "Der Kellner hieß [Name]"),
        ("Die Kellnerin hieß Jessica", "Die Kellnerin hieß [Name]"),
        ("Der Fahrer hieß Marcel, sehr freundlich.", "Der Fahrer hieß [Name], sehr freundlich."),
        ("Kellner hieß Marcel, Pizza kalt.", "Kellner hieß [Name], Pizza kalt."),
        ("Der Kellner namens Kevin", "Der Kellner namens [Name]"),
        ("our server, Dave, was great", "our server, [Name], was great"),
        ("Der Kellner, Kevin Becker, war nett", "Der Kellner, [Name], war nett"),
        ("Mein Mann, Peter, war dabei", "Mein Mann, [Name], war dabei"),
        ("This is David Brown, I called yesterday.", "This is [Name], I called yesterday."),
        ("This is Sarah Miller", "This is [Name]"),
        ("Er heißt Kevin Becker und war nett", "Er heißt [Name] und war nett"),
        ("the guy called Dave Smith was rude", "the guy called [Name] was rude"),
        ("Die Verkäuferin hieß Frau Yilmaz", "Die Verkäuferin hieß [Name]"),
    ],
)
def test_staff_named_after_a_role_and_a_word_that_names_go(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    "text",
    [
        # what "hieß", a comma after a role or "This is" put before words that are no one's
        "Das Gericht heißt Kaiserschmarrn Royal",
        "Die Suppe hieß Tom Kha Gai",
        "Der Film hieß Toni Erdmann",
        "The dish called Eggs Benedict was cold",
        "Der Sender heißt Sky Sport",
        "Der Sender, Sky Sport, fehlt",
        "Der Server heißt Apache",
        "Das Lokal heißt Toni's Pizzeria",
        "Die Kellnerin, sehr nett, kam sofort",
        "Mutter, Vater, Kind",
        "This is Ridiculous. Third time",
        "This is Great Britain, lovely",
        "This is Tom Tailor quality.",
        "I called customer service, they said no",
    ],
)
def test_what_the_words_that_name_put_before_no_name_stays(text: str) -> None:
    assert redact(text, EN) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a staff review: these stayed, "Bestellung 47112023" and "Order 4711-2023"
        # went, and the number linked a customer's two alerts
        ("Bestellung 4711-2023 kam nicht an", "Bestellung [Nummer] kam nicht an"),
        (
            "Immer noch nichts wegen Bestellung 4711-2023!!",
            "Immer noch nichts wegen Bestellung [Nummer]!!",
        ),
        ("Bestellung 4711/2023", "Bestellung [Nummer]"),
        ("Reklamation 2026/551 noch offen", "Reklamation [Nummer] noch offen"),
        ("Bestellung: 4711-2023", "Bestellung: [Nummer]"),
        # found by a review: with "Nr." or "Nummer" between, the usual wording, they stayed
        ("Bestellung Nr. 4711-2023", "Bestellung Nr. [Nummer]"),
        ("Bestellung Nr 4711-2023", "Bestellung Nr [Nummer]"),
        ("Bestellung #4711-2023", "Bestellung #[Nummer]"),
        ("Bestellung No. 4711-2023 fehlt", "Bestellung No. [Nummer] fehlt"),
        ("Reklamation Nr. 2026/551", "Reklamation Nr. [Nummer]"),
        ("Retoure Nummer: 12345/2025 offen", "Retoure Nummer: [Nummer] offen"),
        ("Meine Bestellung mit der Nummer 4711-2023", "Meine Bestellung mit der Nummer [Nummer]"),
        ("Bestellung Nr. 4711 kam nicht", "Bestellung Nr. [Nummer] kam nicht"),
        ("Bestellung Nr. 1000-2000 Stück", "Bestellung Nr. [Nummer] Stück"),  # "Nr." says so
        # (as before)
        ("Bestellung 47112023", "Bestellung [Nummer]"),
        ("Order 4711-2023", "Order [Nummer]"),
        ("Rechnung 2026-4711 doppelt", "Rechnung [Nummer] doppelt"),
        # ... and, unlike a number in two parts, these stay
        ("Bestellung 2019-2023 war gut", "Bestellung 2019-2023 war gut"),
        ("Bestellung 2023/2024 war gut", "Bestellung 2023/2024 war gut"),
        ("Lieferung 12/2023 kam", "Lieferung 12/2023 kam"),
        ("Sendung 3-5 Tage unterwegs", "Sendung 3-5 Tage unterwegs"),
        ("Bestellung vom 12.03.2024", "Bestellung vom 12.03.2024"),
        ("Bestellung Nr. 2019-2023 war gut", "Bestellung Nr. 2019-2023 war gut"),
        ("Bestellung Nr. 5 war falsch", "Bestellung Nr. 5 war falsch"),
        ("Lieferung Nr. 12 fehlt", "Lieferung Nr. 12 fehlt"),
        ("Bestellung nochmal 4711-2023", "Bestellung nochmal 4711-2023"),
        # found by a review: a range before a unit or an amount is no number
        ("Bestellung 1000-2000 Stück", "Bestellung 1000-2000 Stück"),
        ("Bestellung 2000/3000 Euro", "Bestellung 2000/3000 Euro"),
        ("Lieferung 1500-2000 Euro Schaden", "Lieferung 1500-2000 Euro Schaden"),
        ("Lieferung 1500-2000 € Schaden", "Lieferung 1500-2000 € Schaden"),
        ("Bestellung 1000-2000 Stk. bitte", "Bestellung 1000-2000 Stk. bitte"),
        ("Lieferung 1500-2000 kg", "Lieferung 1500-2000 kg"),
        (
            "Bestellung 1000-2000 Stück, Bestellung 4711-2023",
            "Bestellung 1000-2000 Stück, Bestellung [Nummer]",
        ),
        # a few capitals before the digits (found by a staff walk-through: "-XK" stayed)
        ("Bestellnr. A-7731-XK kam nicht", "Bestellnr. [Nummer] kam nicht"),
        ("Bestellnummer AB-12345-C fehlt", "Bestellnummer [Nummer] fehlt"),
        ("Kundennummer A-12 stimmt nicht", "Kundennummer A-12 stimmt nicht"),
        ("Bestellung A-Klasse 2024", "Bestellung A-Klasse 2024"),
    ],
)
def test_an_order_number_in_two_parts_goes_as_the_others(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by the corpus review of what staff see: a hotel room's number (with the day
        # of the stay it names the guest) and a booking named by its word alone reached staff
        ("Zimmer 312 war sehr laut", "Zimmer [Nummer] war sehr laut"),
        ("Zimmer Nr. 207 hatte Schimmel", "Zimmer Nr. [Nummer] hatte Schimmel"),
        ("Zimmernummer 207", "Zimmernummer [Nummer]"),
        ("Zi. 108 – Fenster klemmt", "Zi. [Nummer] – Fenster klemmt"),
        ("We stayed in room 1204 for 3 nights", "We stayed in room [Nummer] for 3 nights"),
        ("Room no. 512, cold shower", "Room no. [Nummer], cold shower"),
        ("Booking 4711: charged twice", "Booking [Nummer]: charged twice"),
        ("Buchung 4711 – kein Frühstück", "Buchung [Nummer] – kein Frühstück"),
        ("Bestellung 4711 kam nicht an", "Bestellung [Nummer] kam nicht an"),
        ("Reservierung 55821 bestätigt", "Reservierung [Nummer] bestätigt"),
        ("Reservation 8KX4PL, no towels", "Reservation [Nummer], no towels"),
        # ... while a practice's room, a year, a count, an amount, a time, a range stay
        ("Zimmer 3 war kalt, Zimmer 12 ok", "Zimmer 3 war kalt, Zimmer 12 ok"),
        ("Die Buchung 2024 lief gut", "Die Buchung 2024 lief gut"),
        ("Zimmer 2019 renoviert?", "Zimmer 2019 renoviert?"),
        ("Bestellung 1000 Stück Flyer", "Bestellung 1000 Stück Flyer"),
        ("Bestellung 1500 Euro", "Bestellung 1500 Euro"),
        ("Reservierung 1930 Uhr", "Reservierung 1930 Uhr"),
        ("3 Zimmer, 120 m²", "3 Zimmer, 120 m²"),
        ("Zimmer 120 m² groß", "Zimmer 120 m² groß"),
        ("Zimmer 101 bis 110 ohne Balkon", "Zimmer 101 bis 110 ohne Balkon"),
        ("Reservierung ICE1234 doppelt", "Reservierung ICE1234 doppelt"),
        ("Room for 200 guests", "Room for 200 guests"),
        # (found by a review of the change: the number taken)
        ("Room 1200 dollars a night", "Room 1200 dollars a night"),
        ("Buchung 5000 Teilnehmer", "Buchung 5000 Teilnehmer"),
        ("Zimmer 120 Gäste", "Zimmer 120 Gäste"),
        ("Wartezimmer 312", "Wartezimmer 312"),
        # (mutation audit: each went unnoticed when its guard was dropped) a word in
        # capitals is no booking code ("Bestellung [Nummer] angekommen" says the opposite),
        # a unit or a count after the number is no room's or booking's number
        (
            "Bestellung NICHT angekommen, 2 Wochen gewartet",
            "Bestellung NICHT angekommen, 2 Wochen gewartet",
        ),
        ("Booking CANCELLED, 2 hours on hold", "Booking CANCELLED, 2 hours on hold"),
        ("Bestellung 5000 mAh Powerbank", "Bestellung 5000 mAh Powerbank"),
        ("Zimmer 220 Volt Steckdose kaputt", "Zimmer 220 Volt Steckdose kaputt"),
        ("Buchung 1400 Übernachtungen pro Jahr", "Buchung 1400 Übernachtungen pro Jahr"),
        ("Reservierung 1200 Plätze", "Reservierung 1200 Plätze"),
        ("Booking 1400 nights a year", "Booking 1400 nights a year"),
    ],
)
def test_a_room_or_a_booking_named_by_its_word_goes(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by the corpus review of what staff see: a customer card's number and a
        # workshop manager's name reached staff as written
        ("Kundenkarte Nr. 9876 geht nicht", "Kundenkarte Nr. [Nummer] geht nicht"),
        ("Kundenkartennummer 9876", "Kundenkartennummer [Nummer]"),
        ("loyalty card no. 55821 not working", "loyalty card no. [Nummer] not working"),
        ("Werkstattleiter Jürgen Braun war nett", "Werkstattleiter [Name] war nett"),
        ("Geschäftsführer Herr Özdemir rief an", "Geschäftsführer [Name] rief an"),
        # (mutation audit: "Meister" dropped from the roles went unnoticed)
        ("Meister Jürgen Braun hat gepfuscht", "Meister [Name] hat gepfuscht"),
        # ... not a card with a year or a small number, nor a product
        ("Die Karte 2024 war toll", "Die Karte 2024 war toll"),
        ("Karten Nr. 12 bitte", "Karten Nr. 12 bitte"),
        ("Bonuskarte 2023 abgelaufen", "Bonuskarte 2023 abgelaufen"),
        ("Meister Proper ist alle", "Meister Proper ist alle"),
    ],
)
def test_a_card_number_and_a_manager_named_by_role_go(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by the corpus review of what staff see: a car's identification number names
        # its keeper to a garage, and reached staff as written
        (
            "Fahrgestellnummer WVWZZZ1JZXW000001 bitte notieren",
            "Fahrgestellnummer [Nummer] bitte notieren",
        ),
        ("VIN: 1HGCM82633A004352", "VIN: [Nummer]"),
        ("FIN WBA3A5C50CF256551.", "FIN [Nummer]."),
        # ... not 17 capitals without a digit, nor a model's code
        ("ABCDEFGHJKLMNPRST", "ABCDEFGHJKLMNPRST"),
        # (mutation audit: the digit required went unnoticed, as a text without a digit is
        # not looked at; with one elsewhere, a word shouted in 17 capitals became an id)
        (
            "VERBRAUCHERSCHUTZ ist informiert, seit 3 Wochen nichts",
            "VERBRAUCHERSCHUTZ ist informiert, seit 3 Wochen nichts",
        ),
        ("Fernseher OLED55C37LA top", "Fernseher OLED55C37LA top"),
    ],
)
def test_a_vehicle_identification_number_goes(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by the corpus review of what staff see: a phone number in words, digit by
        # digit, reached staff as written
        (
            "Rückruf bitte: null eins sieben eins zwei drei vier fünf sechs sieben acht",
            "Rückruf bitte: [Telefon]",
        ),
        ("Tel. null-eins-sechs-null fünf fünf fünf eins zwei", "Tel. [Telefon]"),
        ("call me: oh seven nine one one, one two three four five", "call me: [Telefon]"),
        # a letter matched case-insensitively only (a dotless i): withheld, as the digit
        # of "sıeben" was not found (review of the change)
        ("Rückruf: null eins sıeben eins zwei drei vier", "Rückruf: [Telefon]"),
        ("RÜCKRUF: NULL EİNS SİEBEN EİNS ZWEİ DREİ VİER", "RÜCKRUF: [Telefon]"),
        # "zwo" as said on the phone, "fuenf" typed without an umlaut, groups split by "/"
        # (mutation audit: dropping each went unnoticed, and the number reached staff)
        (
            "Rückruf bitte: null eins sieben zwo, drei vier fünf sechs sieben acht",
            "Rückruf bitte: [Telefon]",
        ),
        ("Mobil: null eins fuenf eins, zwei drei vier fuenf sechs sieben", "Mobil: [Telefon]"),
        ("Tel. null drei null / eins zwei drei vier fünf sechs", "Tel. [Telefon]"),
        # ... while counting, or fewer than seven digit words, stay
        ("Eins zwei drei, ab in die Tüte", "Eins zwei drei, ab in die Tüte"),
        (
            "one, two, three, four, five, six, seven stars",
            "one, two, three, four, five, six, seven stars",
        ),
        (
            "zehn neun acht sieben sechs fünf vier drei",
            "zehn neun acht sieben sechs fünf vier drei",
        ),
        ("I had one two three four five six drinks", "I had one two three four five six drinks"),
        ("eins " * 16 + "!", "eins " * 16 + "!"),
    ],
)
def test_a_phone_number_in_words_goes(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a staff review: "[Telefon]" made staff think the customer asked for a call
        (
            "Mein Paket mit der Sendungsnummer 00340434161234567890 liegt bei DHL.",
            "Mein Paket mit der Sendungsnummer [Nummer] liegt bei DHL.",
        ),
        ("Tracking: 00340434161094042557", "Tracking: [Nummer]"),
        ("Meine Sendungsnummer ist 00340434161234567890", "Meine Sendungsnummer ist [Nummer]"),
        ("Paket 1Z999AA10123456784 verloren", "Paket [Nummer] verloren"),
        ("UPS sagt 1Z999AA10123456784 zugestellt", "UPS sagt [Nummer] zugestellt"),
        ("Sendungsnummer JJD000390007000123456", "Sendungsnummer [Nummer]"),
        ("Tracking number 9400111899223197428490", "Tracking number [Nummer]"),
        ("00340434161234567890 kam nie an", "[Nummer] kam nie an"),  # too long for a phone's
        # found by a review: written in groups, as on the label, only the first group went
        ("Sendungsnummer 00340434 16 1234 5678", "Sendungsnummer [Nummer]"),
        ("DHL Sendung 00340434 16 1234 5678 fehlt", "DHL Sendung [Nummer] fehlt"),
        ("Paket 12345678 9012 3456 fehlt", "Paket [Nummer] fehlt"),
        ("Sendungsnummer: 00340434 1612345678", "Sendungsnummer: [Nummer]"),
        ("Sendungsnr. JJD 0003 9000 7000 1234 56", "Sendungsnr. [Nummer]"),
        ("Mein Paket 12345678 90 kam nicht", "Mein Paket [Nummer] kam nicht"),
        # ... but not what counts after it
        ("Paket 12345678 10 Tage unterwegs", "Paket [Nummer] 10 Tage unterwegs"),
        ("Paket 12345678 9012 10 Tage unterwegs", "Paket [Nummer] 10 Tage unterwegs"),
        ("Sendung 12345678 2 mal zugestellt", "Sendung [Nummer] 2 mal zugestellt"),
        ("Sendung 12345678 12.5 kg", "Sendung [Nummer] 12.5 kg"),
        ("Paket 12345678 20 € teurer", "Paket [Nummer] 20 € teurer"),
        ("Sendung DHL 12 Tage", "Sendung DHL 12 Tage"),
        # ... while phone numbers near those words stay phone numbers
        ("Paket kam nicht, ruft mich an 0151 23456789", "Paket kam nicht, ruft mich an [Telefon]"),
        ("Paketdienst 0151 23456789", "Paketdienst [Telefon]"),
        ("Tel 0049 151 2345 6789", "Tel [Telefon]"),
        ("Paket 2 kam nicht, Sendung ABCDEFGH", "Paket 2 kam nicht, Sendung ABCDEFGH"),
    ],
)
def test_a_tracking_number_is_a_number_not_a_phone_number(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # found by a staff review: smaller identifiers that stayed
        ("I live at 12 Baker Street, London NW1 6XE", "I live at [Address]"),
        ("I live at 12 Baker Street NW1 6XE", "I live at [Address]"),
        ("My postcode is SW1A 1AA", "My postcode is [Address]"),
        ("Postfach 1234, 10001 Berlin", "[Address]"),
        ("Schreibt an Postfach 12 34 56.", "Schreibt an [Address]."),
        ("PO Box 123", "[Address]"),
        ("P.O. Box 4711, Springfield", "[Address], Springfield"),
        ("Schreibt mir an petra.schulze at gmx de", "Schreibt mir an [Email]"),
        ("erika85 at web de bitte", "[Email] bitte"),
        ("MEIN ANWALT HERR DR. WEBER MELDET SICH", "MEIN ANWALT [Name] MELDET SICH"),
        ("herr dr. müller war nett", "[Name] war nett"),
        ("HERR DR. MED. WEBER", "[Name]"),
        # ... and their look-alikes, which stay
        ("Galaxy S24 5GB kaputt", "Galaxy S24 5GB kaputt"),
        ("PS5 2TB war teuer", "PS5 2TB war teuer"),
        ("Mein Postfach 3 Tage voll", "Mein Postfach 3 Tage voll"),
        ("Das Postfach ist voll", "Das Postfach ist voll"),
        ("E-Mail-Postfach 2 voll", "E-Mail-Postfach 2 voll"),
        ("looked at me at web de", "looked at me at web de"),
        ("die frau dr. meinte", "die frau dr. meinte"),
    ],
)
def test_smaller_identifiers_the_staff_review_found(comment: str, expected: str) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        # 4096 characters of what the staff review's rules look for
        ("– Anna ", True),
        ("– Anna Schmidt ", True),
        (", Anna Schmidt\n", True),
        ("- ", False),
        ("\n- Tom Kha Gai", False),
        ("– Anna Maria Tel ", False),
        ("Kellner hieß ", False),
        ("Kellner hieß Kevin ", True),
        ("Kellner, Dave ", True),
        ("hieß Kevin Becker ", True),
        ("This is David ", False),
        ("Bestellung 4711-", False),
        ("Bestellung 4711-2023 ", True),
        ("Bestellung Nr. ", False),
        ("Bestellung mit der Nummer 1", False),
        ("Bestellung 1000-2000 Stück, ja. ", False),  # (4096 characters: none cut off)
        ("Zimmer 312 ", True),
        ("eins ", False),
        ("null eins zwei ", False),  # (more digits than a phone number has)
        ("Zimmer Nr. ", False),
        ("Buchung 2024 ", False),
        ("Sendungsnummer ", False),
        ("Sendung 12345678 12 ", True),
        ("Sendung JJD 12 34 ", False),
        ("1Z999", False),
        ("Postfach 12 ", False),
        ("a.b at gmx ", False),
        ("HERR DR. ", False),
        ("[Adresse], London NW1 ", False),
    ],
)
def test_a_long_comment_of_what_the_second_staff_review_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    """(Speed is the benchmarks' to measure; a pattern that backtracks without end fails
    here by the test's timeout.)"""
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # IPv6 addresses, whole or with "::"
        ("IPv6 2001:db8::8a2e:370:7334 gesperrt", "IPv6 [IP] gesperrt"),
        ("from 2001:DB8:85A3:0:0:8A2E:370:7334.", "from [IP]."),
        # "(0)" right before the area code, the rest in pairs
        ("Mobil: +49 (0)171 123 45 67", "Mobil: [Telefon]"),
        ("call +44 (0)20 7946 0958 please", "call [Telefon] please"),
        # an American Express card (4-6-5), a Swiss AHV number
        ("Amex 3782 822463 10005 charged twice", "Amex [Nummer] charged twice"),
        ("AHV-Nr. 756.1234.5678.97", "AHV-Nr. [Nummer]"),
        # a British number plate after its word or a car
        ("the car with plate AB12 CDE blocked me", "the car with plate [Nummer] blocked me"),
        ("Der Wagen mit AB12CDE stand da", "Der Wagen mit [Nummer] stand da"),
        # an English street's abbreviation without a dot
        ("my address is 123 Main St, Springfield", "my address is [Adresse], Springfield"),
        ("45 Elm Rd, Leeds LS1 4AP", "[Adresse]"),
        # an Austrian house number with staircase and door is no date
        ("Hauptplatz 1/3/12, 4020 Linz", "[Adresse]"),
        ("Hauptstraße 12/3/14, 1100 Wien", "[Adresse]"),
        # a self-introduction in small letters
        ("ich heisse mehmet yilmaz", "ich heisse [Name]"),
        ("mein name ist max mustermann aus berlin", "mein name ist [Name] aus berlin"),
        ("my name is john smith", "my name is [Name]"),
        ("ich heiße anna, bin kundin", "ich heiße [Name], bin kundin"),
        ("mein name ist anna und ich bin sauer", "mein name ist [Name] und ich bin sauer"),
    ],
)
def test_what_the_corpus_audit_found_goes(comment: str, expected: str) -> None:
    """Each reached staff whole, or but for a piece ("my name is [Name] smith", "Amex 3782
    [Nummer] [Nummer]"), before the corpus audit."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "comment",
    [
        # look-alikes of the new patterns
        "um 12:30:45 Uhr",
        "localhost ::1 und fe80::1",
        "std::vector<int> stürzt ab",
        "Spielstand 1:0:2:1:3:0:1:1",
        "Code AB12 CDE funktioniert nicht",
        "Bus 5 Richtung St Pauli",
        "Am 1/3/12 war ich da",
        "ich heiße sie willkommen",
        "my name is missing on the invoice",
        "mein name ist falsch geschrieben",
        # a model number in two parts after its word (was "[Telefon]")
        "Modellnummer 0815-4711 defekt",
        # what feedback is made of
        "Preis 19,99 € war zu hoch",
        "Besuch am 12.03.2024 um 14:30 Uhr",
        "Mein iPhone 15 Pro lädt nicht",
        "nur 50 % Rabatt statt 70%",
        "5/5 Sterne, 10 von 10",
        "RTX 4090 war ausverkauft",
        "Wartezeit von 18:15 bis 19:45",
        "Kunde seit 2010",
        "Fernseher 55 Zoll, 120 Hz",
        "App Version 3.2.1 stürzt ab",
    ],
)
def test_what_the_corpus_audit_keeps(comment: str) -> None:
    assert redact(comment, DE) == comment


def test_a_phone_number_after_a_model_number_word_still_goes() -> None:
    """A code in two parts stays after "Artikelnummer"; a phone number's length does not."""
    assert redact("Artikelnummer 0171-1234567", DE) == "Artikelnummer [Telefon]"


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        # 4096 characters of what the corpus audit's rules look for
        ("a:", False),
        ("1:", False),
        ("ab::", False),
        (" ::", False),
        ("2001:db8::1 ", True),
        ("a:b:c:d:e:f:0:1:", False),
        ("12:30:45 ", False),
        ("Hauptstraße 1/", True),
        ("Hauptstraße 12/3/14 ", True),
        ("3782 822463 ", True),
        ("756.1234.", False),
        ("AB12 CDE ", False),
        ("plate AB12 CDE ", True),
        ("mein name ist anna ", True),
        ("ich heiße ", False),
        ("1 Main St, ", True),
        ("(0)1 23 45 ", False),
    ],
)
def test_a_long_comment_of_what_the_corpus_audit_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    """(Speed is the benchmarks' to measure; a pattern that backtracks without end fails
    here by the test's timeout.)"""
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a name after "this is" with "writing", "hier ist die/der" and a common first name,
        # "call me:" and a known name
        (
            "this is Priya Patel writing about my order",
            "this is [Name] writing about my order",
        ),
        ("hier ist die Sandra von nebenan", "hier ist die [Name] von nebenan"),
        (
            "Hallo, hier ist der Kevin, die Lieferung fehlt",
            "Hallo, hier ist der [Name], die Lieferung fehlt",
        ),
        ("call me: Max Mustermann", "call me: [Name]"),
        ("Call me: Priya Patel", "Call me: [Name]"),
        # an initial in small letters after a closing
        ("mfg m.müller", "mfg [Name]"),
        ("Gruß, j. schmidt", "Gruß, [Name]"),
        ("Super Service!\nlg a.meier", "Super Service!\nlg [Name]"),
        ("Gruß, s. schmidt", "Gruß, [Name]"),
        # a Telegram account after "tg:" in small letters
        ("tg: max_m", "tg: [Handle]"),
        ("Bitte melden, tg: erika_m85", "Bitte melden, tg: [Handle]"),
        # a star that means born
        ("*12.03.1985", "*[Nummer]"),
        ("Tom, * 12.3.85 in Köln", "Tom, * [Nummer] in Köln"),
        ("Tom Becker (*12. März 1985)", "[Name] (*[Nummer])"),
        ("Geb. *12.03.1985, bitte melden", "Geb. *[Nummer], bitte melden"),  # (session 56)
        # a tenant's, a tax payer's, a student's number, and a short order code (session 56)
        ("Mieternummer 4711-0382", "Mieternummer [Nummer]"),
        ("Steuernummer 217/5123/4567", "Steuernummer [Nummer]"),
        ("Matrikelnummer 1234567 fehlt", "Matrikelnummer [Nummer] fehlt"),
        ("Mandantennummer 20481", "Mandantennummer [Nummer]"),
        ("Auftragsnummer U-24-7719 fehlt", "Auftragsnummer [Nummer] fehlt"),
        ("Die Steuer von 19 Prozent", "Die Steuer von 19 Prozent"),
        ("Die Mieter Nr. 3 und 4 sind laut", "Die Mieter Nr. 3 und 4 sind laut"),
        # a reference code in parts
        ("ref: ABC-123-XYZ", "ref: [Nummer]"),
        ("Ref. XK-4711-QZ bitte prüfen", "Ref. [Nummer] bitte prüfen"),
        # an Austrian number plate after its word or a car
        ("Kennzeichen W-12345A (Wien)", "Kennzeichen [Nummer] (Wien)"),
        ("Das Auto GU-123AB hat geparkt", "Das Auto [Nummer] hat geparkt"),
        # a street named after a day or a thing
        ("Straße des 17. Juni 135, Berlin", "[Adresse], Berlin"),
        ("wohne Platz der Republik 1, 11011 Berlin", "wohne [Adresse]"),
        # a name on the last line before a parenthesis that held personal data
        ("Jan Becker (geb. 03.04.1990)", "[Name] (geb. [Nummer])"),
        ("Kam nicht.\nJan Becker (Kd.-Nr. 123456)", "Kam nicht.\n[Name] (Kd.-Nr. [Nummer])"),
        # a MAC address
        ("MAC 00:1A:2B:3C:4D:5E gesperrt", "MAC [Nummer] gesperrt"),
        ("mein Router 00-1a-2b-3c-4d-5e", "mein Router [Nummer]"),
        # a British number read out, "double oh" for "00"
        (
            "ring me on oh seven seven double oh nine double oh one two three",
            "ring me on [Telefon]",
        ),
    ],
)
def test_what_the_second_corpus_audit_found_goes(comment: str, expected: str) -> None:
    """Each reached staff whole before the second corpus audit."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "comment",
    [
        # a saint's place after a number is no English street (was "Bus [Adresse] Pauli")
        "Bus 5 Richtung St. Pauli fährt nicht",
        "Linie 3 Richtung St. Georgen war voll",
        # look-alikes of the new rules
        "this is Apple Pay working again",
        "hier ist die Hölle los",
        "hier ist der Kaffee von gestern",
        "call me back please",
        "Call me: Anytime after 5",
        "Gruß, d. h. alles gut",
        "Mfg z.B. morgen",
        "Gruß, s. oben",
        "tg: also good",
        "Stuttgart: max_m",
        "am *12.03.2024* geliefert",
        "Lieferung *03.05.2024",
        "* 12.03.2024 geliefert",
        "ref: your email yesterday",
        "Ref: A4",
        "Code W-12345A",
        "Die Filiale an der Straße des 17. Juni war toll",
        "Stau auf der Straße des 17. Juni, 20 Minuten zu spät",
        "am Platz der Republik 2 Stunden gewartet",
        "Laufzeit 12:30:45 und 01:02:03",
        "Verhältnis 1:2:3:4:5:6",
        "double or nothing, seven of nine",
        # what feedback is made of
        "Lese gerade Anne Frank (Tagebuch)",
        "Top.\nTom Tailor (Jeans)",
        "Dr. Oetker Pizza war kalt",
        "Mein iPhone 15 Pro lädt nicht",
        "5/5 Sterne, 10 von 10",
        "Besuch am 12.03.2024 um 14:30 Uhr",
        "Preis 19,99 € war zu hoch",
        "App Version 3.2.1 stürzt ab",
    ],
)
def test_what_the_second_corpus_audit_keeps(comment: str) -> None:
    assert redact(comment, DE) == comment


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        # 4096 characters of what the second corpus audit's rules look for
        ("this is Priya Patel writing ", True),
        ("hier ist die ", False),
        ("call me: Max Mustermann ", True),
        ("call me: ", False),
        ("mfg m.müller lg a. ", True),
        ("lg a. ", False),
        ("tg: max_m ", True),
        ("tg: ", False),
        ("\n*12.03.1985 ", True),
        ("(* ", False),
        ("ref: ABC-123-", False),
        ("ref: ABC-123-XYZ ", True),
        ("Kennzeichen W-12345A ", True),
        ("W-1 ", False),
        ("Straße des 17. Juni ", False),
        ("Straße des 17. Juni 135, ", True),
        ("00:1A:", False),
        ("00:1A:2B:3C:4D:5E ", True),
        ("00-1a-", False),
        ("double ", False),
        ("oh seven double oh ", False),  # more digits than a phone number has
        ("oh seven seven double oh nine double oh one two three. ", True),
        ("5 Richtung St. Pauli ", False),
    ],
)
def test_a_long_comment_of_what_the_second_corpus_audit_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    """(Speed is the benchmarks' to measure; a pattern that backtracks without end fails
    here by the test's timeout.)"""
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # an Austrian number plate after "KZ:" or "Kz.", the short word for it
        ("KZ: W-4711B", "KZ: [Nummer]"),
        ("Kz. W-4711B hat mich zugeparkt", "Kz. [Nummer] hat mich zugeparkt"),
        ("KZ: hh-ab 1234 steht seit Tagen da", "KZ: [Nummer] steht seit Tagen da"),
        # a MAC address as Cisco writes it
        ("MAC 001A.2B3C.4D5E gesperrt", "MAC [Nummer] gesperrt"),
        ("mein router (001a.2b3c.4d5e) wird geblockt", "mein router ([Nummer]) wird geblockt"),
        # a name in small letters after "call me:"
        ("call me: jana kowalczyk", "call me: [Name]"),
        ("Call me: jana", "Call me: [Name]"),
        ("CALL ME: anna schmidt, thanks", "CALL ME: [Name], thanks"),
    ],
)
def test_what_the_third_corpus_audit_found_goes(comment: str, expected: str) -> None:
    """Each reached staff whole before the third corpus audit."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a closing and a word in small letters: a name still, where no word of the language
        ("Gruß, anna", "Gruß, [Name]"),
        ("lg xiaoling", "lg [Name]"),
        ("Gruß, gebhardt", "Gruß, [Name]"),
        ("lg, dos santos", "lg, [Name]"),
        ("Gruß, ter horst", "Gruß, [Name]"),
        ("Grüße, kevin-jan", "Grüße, [Name]"),
        # a name's particles before it, though some are words too (found by the third
        # corpus audit: these reached staff whole)
        ("lg, da silva", "lg, [Name]"),
        ("Gruß, de la cruz", "Gruß, [Name]"),
        ("Viele Grüße, van der berg", "Viele Grüße, [Name]"),
        ("mfg de souza", "mfg [Name]"),
        ("Gruß, von müller", "Gruß, [Name]"),
        ("Gruß, da silva\nTel 0171 1234567", "Gruß, [Name]\nTel [Telefon]"),
    ],
)
def test_a_name_in_small_letters_after_a_closing_still_goes(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "comment",
    [
        # words of the language after a closing (were "Gruß, [Name]")
        "Gruß, siehe oben",
        "Gruß, oben",
        "mfg siehe unten",
        "lg, ganz herzlich",
        "Gruß, bestellung",
        "best regards, see above",
        # "von" and "da" are words before they are a name's particles
        "lg von unterwegs",
        "Gruß von zuhause",
        "Grüße von daheim",
        "lg, von der arbeit",
        "Gruß, von hinten",
        "Gruß, da drüben",
        "Gruß, zu spät",
        # look-alikes of the new rules
        "Besuch im KZ Dachau, Block 12 war bewegend",
        "Baracke im KZ B-12A",
        "KZ: Dachau B-12A",
        "Code W-12345A",
        "Version 2024.0312.1",
        "Build 1234.5678.9012",
        "face.beef.cafe",
        "Firmware 12ab.34cd.56ef.78",
        "call me: anytime after 5",
        "call me: asap",
        "recall me: jana",
        "call me maybe",
    ],
)
def test_what_the_third_corpus_audit_keeps(comment: str) -> None:
    assert redact(comment, DE) == comment


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        # 4096 characters of what the third corpus audit's rules look for
        ("KZ: W-4711B ", True),
        ("KZ: KZ. Kz: W-", False),
        ("001A.2B3C.4D5E ", True),
        ("001A.2B3C.", False),
        ("1.1.1.1.a.", False),
        ("call me: jana kowalczyk ", True),
        ("call me: call me:", False),
        ("Gruß, siehe oben ", False),
        ("Gruß, Gruß, lg ", False),
    ],
)
def test_a_long_comment_of_what_the_third_corpus_audit_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    """(Speed is the benchmarks' to measure; a pattern that backtracks without end fails
    here by the test's timeout.)"""
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


# Found by a redaction walk-through (s44): what reached staff, each item with the
# near-misses its fix must leave alone.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a filler word between the self-introduction and the name
        (
            "Hallo, ich heiße übrigens Sandra Kowalski und warte seit 3 Wochen",
            "Hallo, ich heiße übrigens [Name] und warte seit 3 Wochen",
        ),
        ("Mein Name ist übrigens Anna Meyer.", "Mein Name ist übrigens [Name]."),
        ("Ich bin übrigens Anna Meyer.", "Ich bin übrigens [Name]."),
        ("Ich heiße eigentlich Anna Meyer.", "Ich heiße eigentlich [Name]."),
        ("Ich heiße übrigens Anna-Lena Meyer-Hoffmann", "Ich heiße übrigens [Name]"),
        ("Ich heiße ja Anna Meyer", "Ich heiße ja [Name]"),
        ("Ich bin übrigens auch Anna", "Ich bin übrigens auch [Name]"),
        ("ich heiße übrigens anna schmidt", "ich heiße übrigens [Name]"),
        ("my name is actually Sarah Johnson", "my name is actually [Name]"),
        ("my name is by the way Sarah Johnson", "my name is by the way [Name]"),
        ("I'm btw Sarah Johnson", "I'm btw [Name]"),
        ("I'm btw Sarah, order came late", "I'm btw [Name], order came late"),
        ("I am also Tom Becker", "I am also [Name]"),
    ],
)
def test_a_filler_word_before_a_self_introduced_name_keeps_no_name(
    comment: str, expected: str
) -> None:
    assert redact(comment, EN) == expected
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ich bin ja Stammkunde seit 2010",
        "Ich bin übrigens Berliner Stammkunde",
        "Ich bin eigentlich zufrieden",
        "Ich heiße übrigens Neukunden willkommen",
        "mein name ist übrigens egal",
        "Ich bin auch Fan von Tom Tailor",
        "Ich bin übrigens Victoria-Kunde",
        "Ich bin also der Meinung, dass es passt",
        "Ich bin ja Kunde bei Telekom",
        "I'm actually Really Happy with it",
        "I'm also Amazon Prime customer",
        "I'm actually Going Crazy here",
        "I'm also German",
    ],
)
def test_a_filler_word_before_no_name_stays(text: str) -> None:
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a password or PIN right after its word, with no ":" nor "ist"
        (
            "Mein Login ist erika78 und Passwort Sonne2024, bitte prüfen.",
            "Mein Login ist [Handle] und Passwort [Passwort], bitte prüfen.",
        ),
        ("Passwort Sonne2024", "Passwort [Passwort]"),
        ("Das Passwort Sonne2024 funktioniert nicht", "Das Passwort [Passwort] funktioniert nicht"),
        ("my password sunshine99 doesn't work", "my password [Passwort] doesn't work"),
        ("PIN 4821", "PIN [Passwort]"),
        ("PIN 4821.", "PIN [Passwort]."),
        ("Meine Geheimzahl ist 4821", "Meine Geheimzahl ist [Passwort]"),
        ("Passwort geheim#1 geht nicht", "Passwort [Passwort] geht nicht"),
        ("Mein PUK 12345678 wurde abgelehnt", "Mein PUK [Passwort] wurde abgelehnt"),
        ("Zugangsdaten: erika78 / Sonne2024", "Zugangsdaten: [Passwort]"),
        # what the word before a password's look-alikes says stays
        ("Das Passwort war zu lang", "Das Passwort war zu lang"),
        ("PIN vergessen", "PIN vergessen"),
        ("password reset", "password reset"),
        ("Passwort 8-stellig verlangt", "Passwort 8-stellig verlangt"),
        ("PIN 3x falsch eingegeben", "PIN 3x falsch eingegeben"),
        ("Passwort 12 Zeichen lang", "Passwort 12 Zeichen lang"),
        ("PIN 10 Minuten gesperrt", "PIN 10 Minuten gesperrt"),
        ("password 2FA does not work", "password 2FA does not work"),
        ("Passwort (das neue) wird nicht akzeptiert", "Passwort (das neue) wird nicht akzeptiert"),
        ("Passwort z.B. vergessen", "Passwort z.B. vergessen"),
        ("Pin 12 am Stecker", "Pin 12 am Stecker"),
        ("Passwort-Reset klappt nicht", "Passwort-Reset klappt nicht"),
        ("Zugangsdaten: funktionieren nicht", "Zugangsdaten: funktionieren nicht"),
    ],
)
def test_a_password_or_pin_right_after_its_word_is_redacted(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected
    assert redact(comment, EN) == expected.replace("[Passwort]", "[Password]")


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # an account named by a payment service, "bin ich" or "Benutzer:", "Account heißt"
        ("Paypal: erika.mustermann", "Paypal: [Handle]"),
        (
            "Die Überweisung an PayPal erika.mustermann kam nicht an.",
            "Die Überweisung an PayPal [Handle] kam nicht an.",
        ),
        ("Mein PayPal ist erika1980", "Mein PayPal ist [Handle]"),
        ("PayPal-Konto ist erika1980", "PayPal-Konto ist [Handle]"),
        ("my PayPal is erika.m85", "my PayPal is [Handle]"),
        ("auf Insta bin ich erika_mustermann", "auf Insta bin ich [Handle]"),
        ("on Insta I'm erika_m85", "on Insta I'm [Handle]"),
        ("Benutzer: erika78", "Benutzer: [Handle]"),
        ("Mein Account heißt erika78", "Mein Account heißt [Handle]"),
        ("my account is john_smith99", "my account is [Handle]"),
        # a service or those words before no account's name
        ("PayPal ist super", "PayPal ist super"),
        ("Zahlung per PayPal klappte", "Zahlung per PayPal klappte"),
        ("Zahlung über PayPal bzw. Klarna", "Zahlung über PayPal bzw. Klarna"),
        ("Bezahlt mit PayPal u.a. auch Kreditkarte", "Bezahlt mit PayPal u.a. auch Kreditkarte"),
        ("PayPal 2x versucht", "PayPal 2x versucht"),
        ("Als Nutzer iOS17 habe ich Probleme", "Als Nutzer iOS17 habe ich Probleme"),
        ("User experience2 is bad", "User experience2 is bad"),
        ("Mein Konto ist gesperrt", "Mein Konto ist gesperrt"),
        ("Mein Account ist seit 2 Tagen gesperrt", "Mein Account ist seit 2 Tagen gesperrt"),
        ("Benutzer ist admin", "Benutzer ist admin"),
    ],
)
def test_an_account_a_payment_service_or_its_word_names_goes(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a customer account's number in two groups, a "Perso" and a meter named by its word
        ("Kundenkonto: 4711-0815", "Kundenkonto: [Nummer]"),
        ("Kundenkonto: 4711 0815", "Kundenkonto: [Nummer]"),
        ("Kundenkonto-Nr. 4711-0815", "Kundenkonto-Nr. [Nummer]"),
        ("Kundenkonto 47110815", "Kundenkonto [Nummer]"),
        ("Perso-Nr. L01X00T47", "Perso-Nr. [Nummer]"),
        ("Perso L01X00T47 liegt vor", "Perso [Nummer] liegt vor"),
        ("Zählernummer 1ESY1160123456", "Zählernummer [Nummer]"),
        ("Stromzähler-Nr. 1ESY1160123456 bitte prüfen", "Stromzähler-Nr. [Nummer] bitte prüfen"),
        # the words with what is no one's number
        ("Zählerstand 12345 kWh", "Zählerstand 12345 kWh"),
        ("Zähler 3 war kaputt", "Zähler 3 war kaputt"),
        ("Zählernummer steht auf der Rechnung", "Zählernummer steht auf der Rechnung"),
        ("Perso abgelaufen", "Perso abgelaufen"),
        ("Perso 2024 verlängert", "Perso 2024 verlängert"),
        ("Kundenkonto seit 2015", "Kundenkonto seit 2015"),
        ("Kundenkonto 3 Tage gesperrt", "Kundenkonto 3 Tage gesperrt"),
    ],
)
def test_an_account_document_or_meter_number_its_word_names_goes(
    comment: str, expected: str
) -> None:
    assert redact(comment, DE) == expected
    assert redact(comment, EN) == expected.replace("[Nummer]", "[Number]")


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # an address with a space in its name, or spaced around its dots before "@"
        ("Meine Mail: erika mustermann@gmx.de", "Meine Mail: [E-Mail]"),
        ("meine Mail ist erika mustermann@gmx.de, danke", "meine Mail ist [E-Mail], danke"),
        ("E-Mail: Erika Mustermann erika@gmx.de", "E-Mail: [E-Mail]"),
        ("my email is john smith@gmail.com", "my email is [E-Mail]"),
        ("thomas . berger @ web . de", "[E-Mail]"),
        ("Hallo. thomas . berger @ web . de", "Hallo. [E-Mail]"),
        ("Mail: thomas . berger @ web . de", "Mail: [E-Mail]"),
        # words of the sentence before an address stay
        ("Meine Mail: bitte an anna@gmx.de", "Meine Mail: bitte an [E-Mail]"),
        ("E-Mail: schreiben Sie an info@firma.de", "E-Mail: schreiben Sie an [E-Mail]"),
        ("Mail ist anna@gmx.de", "Mail ist [E-Mail]"),
        ("Mail an support@firma.de blieb unbeantwortet", "Mail an [E-Mail] blieb unbeantwortet"),
        ("Das war gut . anna@gmx.de", "Das war gut . [E-Mail]"),
    ],
)
def test_an_address_with_a_space_or_spaced_dots_in_its_name_goes_whole(
    comment: str, expected: str
) -> None:
    assert redact(comment, DE) == expected
    assert redact(comment, EN) == expected.replace("[E-Mail]", "[Email]")


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a first name signed at the very end after an emoji, a thank-you's sentence, a
        # farewell or "Euer", and one in capitals after a closing
        ("Alles super 😊\nSandra", "Alles super 😊\n[Name]"),
        ("Danke 🙏 Sandra", "Danke 🙏 [Name]"),
        ("Danke für alles! Sandra", "Danke für alles! [Name]"),
        ("Danke 😊\nSandra K.", "Danke 😊\n[Name]"),
        ("Danke :)\nLisa", "Danke :)\n[Name]"),
        ("Danke und Gruß\nThomas", "Danke und Gruß\n[Name]"),
        ("Euer Kevin", "Euer [Name]"),
        ("Tolles Essen.\nDanke! Eure Anna", "Tolles Essen.\nDanke! Eure [Name]"),
        ("Servus, Sepp", "Servus, [Name]"),
        ("Moin Moin\nHauke", "Moin Moin\n[Name]"),
        ("VIELE GRÜSSE\nANNA MEYER", "VIELE GRÜSSE\n[Name]"),
        ("MFG ANNA", "MFG [Name]"),
        ("Thanks for everything! Sarah", "Thanks for everything! [Name]"),
        ("Cheers 🍻 Mike", "Cheers 🍻 [Name]"),
        # no name known as one, or not at the end
        ("Danke 👍 Top", "Danke 👍 Top"),
        ("Danke 🙏 Amazon", "Danke 🙏 Amazon"),
        ("Danke! Paula war super", "Danke! Paula war super"),
        ("Danke für die Pizza Margherita", "Danke für die Pizza Margherita"),
        ("Danke für alles! Toni's Pizzeria", "Danke für alles! Toni's Pizzeria"),
        ("Danke! Ben & Jerry's", "Danke! Ben & Jerry's"),
        ("Danke für alles!\nDas Team", "Danke für alles!\nDas Team"),
        ("Super 😊 Gerne wieder", "Super 😊 Gerne wieder"),
        ("Ich liebe Paris ❤️ Paris", "Ich liebe Paris ❤️ Paris"),
        ("Thanks 🙏 Will", "Thanks 🙏 Will"),
        ("Servus, Bayern", "Servus, Bayern"),
        ("Moin Moin", "Moin Moin"),
        ("Ihr Team", "Ihr Team"),
        ("VIELE GRÜSSE\nDAS TEAM", "VIELE GRÜSSE\nDAS TEAM"),
        ("LG OLED", "LG OLED"),
        ("Hallo, Anna!", "Hallo, Anna!"),
    ],
)
def test_a_first_name_signed_at_the_end_after_an_emoji_or_a_thank_you_goes(
    comment: str, expected: str
) -> None:
    assert redact(comment, DE) == expected
    assert redact(comment, EN) == expected


@pytest.mark.parametrize("unit", ["😊", "😊\u200d", "Danke 😊\nAnna ", "Danke! ", "Euer "])
def test_a_long_comment_of_emoji_and_thank_yous_runs_through(unit: str) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert redact(text, DE) == text


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # first names of the North, of Ukraine, the Balkans, Romania, India and West Africa
        ("Danke an Frauke und Gesa!", "Danke an [Name] und [Name]!"),
        ("Die Beraterin Imke war toll", "Die Beraterin [Name] war toll"),
        ("Ich bin Priya", "Ich bin [Name]"),
        ("sie hieß Olena", "sie hieß [Name]"),
        ("Kellnerin Dragana war nett", "Kellnerin [Name] war nett"),
        ("Danke an Jovana, Ioana und Darya", "Danke an [Name], [Name] und [Name]"),
        ("Der Fahrer Kofi kam pünktlich", "Der Fahrer [Name] kam pünktlich"),
        ("Our waiter Rahul was great", "Our waiter [Name] was great"),
        # a word or a brand after them, and what is no name, stay
        ("Das Hotel hieß Vesna Palace", "Das Hotel hieß Vesna Palace"),
        ("Die Pizza heißt Marko Speciale", "Die Pizza heißt Marko Speciale"),
        ("Ich bin Kofi-Fan", "Ich bin Kofi-Fan"),
        ("I'm Ravi fan", "I'm Ravi fan"),
        ("Danke an Ravioli", "Danke an Ravioli"),
    ],
)
def test_first_names_the_walk_through_found_missing_are_names(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a full name right before a customer number, a phone number or an address, or on
        # its own line above or below a line of nothing but one
        (
            "Sandra Kowalski, Kundennummer 556677 – bitte Rückruf!",
            "[Name], Kundennummer [Nummer] – bitte Rückruf!",
        ),
        (
            "Bitte Rückruf: Sandra Kowalski, 0151 23456789",
            "Bitte Rückruf: [Name], [Telefon]",
        ),
        ("Rückruf Sandra Kowalski, 0151 23456789", "Rückruf [Name], [Telefon]"),
        ("Meyer, Anna - Kundennummer 998877", "[Name] - Kundennummer [Nummer]"),
        ("Anna Meyer - Vertragsnummer 12345678", "[Name] - Vertragsnummer [Nummer]"),
        ("Xiaoling Wang, Tel. 0151 23456789", "[Name], Tel. [Telefon]"),
        ("Sandra Kowalski, sandra@gmx.de", "[Name], [E-Mail]"),
        ("Sarah Johnson, order no. 556677", "[Name], order no. [Nummer]"),
        (
            "Lieferung kam nicht.\nSandra Kowalski\n0151 23456789",
            "Lieferung kam nicht.\n[Name]\n[Telefon]",
        ),
        (
            "Lieferung kam nicht.\nTel. 0151 23456789\nSandra Kowalski\nDanke",
            "Lieferung kam nicht.\nTel. [Telefon]\n[Name]\nDanke",
        ),
        # no name known as one, a brand, or the number not right next to it
        ("Super Service, Kundennummer 556677", "Super Service, Kundennummer [Nummer]"),
        ("Tom Tailor, Bestellnummer 123456", "Tom Tailor, Bestellnummer [Nummer]"),
        (
            "Bestellung bei Thomas Philipps, Bestellnummer 123456",
            "Bestellung bei Thomas Philipps, Bestellnummer [Nummer]",
        ),
        ("Media Markt, Tel. 030 1234567", "Media Markt, Tel. [Telefon]"),
        ("Deutsche Bahn, Tel. 030 1234567", "Deutsche Bahn, Tel. [Telefon]"),
        ("Schnelle Lieferung, Bestellnummer 4711", "Schnelle Lieferung, Bestellnummer [Nummer]"),
        (
            "Lieferung kam nicht.\nTolle Beratung\n0151 23456789",
            "Lieferung kam nicht.\nTolle Beratung\n[Telefon]",
        ),
        (
            "Sandra Kowalski hat angerufen, 0151 23456789",
            "[Name] hat angerufen, [Telefon]",  # a common first and last name anywhere
        ),
        ("Müller, Anna - die Verkäuferin war nett", "Müller, Anna - die Verkäuferin war nett"),
    ],
)
def test_a_full_name_right_next_to_a_customer_number_or_phone_goes(
    comment: str, expected: str
) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        ("Anna Meyer, 0151 2345678 ", True),
        ("Anna Meyer\nTel. 0151 2345678\n", True),
        ("Super Service, Kundennummer 4711 ", True),
        ("Tolle Beratung\n", False),
        ("Meyer, Anna - ", False),
    ],
)
def test_a_long_comment_of_names_next_to_numbers_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Kundennr: 0047112233", "Kundennr: [Nummer]"),
        ("Kundennummer 0047112233", "Kundennummer [Nummer]"),
        ("Kunden-Nr. 0047112233 bitte prüfen", "Kunden-Nr. [Nummer] bitte prüfen"),
        ("Kunden-Nr.: 0151 2345678", "Kunden-Nr.: [Nummer]"),
        ("Kd-Nr. 0047112233", "Kd-Nr. [Nummer]"),
        ("Meine Kundennummer ist 0047112233", "Meine Kundennummer ist [Nummer]"),
        ("customer no. 0047112233", "customer no. [Nummer]"),
        ("my customer number is 0047112233", "my customer number is [Nummer]"),
        ("Kundennr. 0 0 4 7 1 1 2 2 3 3", "Kundennr. [Nummer]"),
        ("Kundennr: 0800123456", "Kundennr: [Nummer]"),  # not a hotline's, set aside
        (
            "Tel. 0151 2345678, Kundennr: 0047112233",
            "Tel. [Telefon], Kundennr: [Nummer]",
        ),
        # near misses: a phone number after other words stays a phone number
        ("Kundenservice: 030 1234567", "Kundenservice: [Telefon]"),
        ("Kundentelefon 030 1234567", "Kundentelefon [Telefon]"),
        ("customer service 0151 2345678", "customer service [Telefon]"),
        ("Kundennummer: +49 151 23456789", "Kundennummer: [Telefon]"),
        ("Kundenservice 0800 3301000", "Kundenservice 0800 3301000"),
        # an order's, a booking's, an invoice's, a case's (found by a review)
        ("Bestellnummer 0171234567", "Bestellnummer [Nummer]"),
        ("Buchungsnummer 0301234567", "Buchungsnummer [Nummer]"),
        ("Rechnung Nr 01512345678", "Rechnung Nr [Nummer]"),
        ("Rechnungsnummer 0151234567", "Rechnungsnummer [Nummer]"),
        ("Ticket 0301234567", "Ticket [Nummer]"),
        ("Vorgangsnummer 089 123 4567", "Vorgangsnummer [Nummer]"),
        ("order #0207946095", "order #[Nummer]"),
        ("PS: order number 07700900123", "PS: order number [Nummer]"),
        ("booking ref 0301234567", "booking ref [Nummer]"),
        ("invoice no. 0151234567", "invoice no. [Nummer]"),
        ("Ticket-Hotline 030 1234567", "Ticket-Hotline [Telefon]"),
        ("Ruf mich an: 0171 2345678", "Ruf mich an: [Telefon]"),
        # an opening parenthesis the number does not close stays (found by a review)
        ("Website (089 123456) stimmt nicht", "Website ([Telefon]) stimmt nicht"),
        ("Tel. (089) 123456", "Tel. [Telefon]"),
    ],
)
def test_a_customer_number_like_a_phone_number_is_a_number(comment: str, expected: str) -> None:
    """Found by a redaction walk-through: "Kundennr: 0047112233" read "[Telefon]", as if
    the customer asked for a call."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Ich bin übrigens die Erika", "Ich bin übrigens die [Name]"),
        ("Ich bin die Erika", "Ich bin die [Name]"),
        (
            "ich bin übrigens die Erika aus der Filiale",
            "ich bin übrigens die [Name] aus der Filiale",
        ),
        ("Ich bin eigentlich der Thomas", "Ich bin eigentlich der [Name]"),
        ("Ich bin ja die Sandra vom Empfang", "Ich bin ja die [Name] vom Empfang"),
        ("Ich bin's, die Erika", "Ich bin's, die [Name]"),
        ("Ich bin es, der Thomas", "Ich bin es, der [Name]"),
        ("Hier ist die Sandra vom Empfang", "Hier ist die [Name] vom Empfang"),
        ("Hier ist der Thomas", "Hier ist der [Name]"),
        ("Hier ist übrigens die Sandra", "Hier ist übrigens die [Name]"),
        ("Hallo hier ist nochmal der Thomas!", "Hallo hier ist nochmal der [Name]!"),
        # near misses: no first name after the article
        (
            "Ich bin übrigens die ganze Woche unterwegs",
            "Ich bin übrigens die ganze Woche unterwegs",
        ),
        (
            "Ich bin übrigens der Meinung, dass es kalt war",
            "Ich bin übrigens der Meinung, dass es kalt war",
        ),
        ("Ich bin es, der Kunde", "Ich bin es, der Kunde"),
        ("Hier ist nochmal die Hölle los", "Hier ist nochmal die Hölle los"),
        ("Hier ist auch der Kaffee kalt", "Hier ist auch der Kaffee kalt"),
        ("Hier ist wieder der Teufel los", "Hier ist wieder der Teufel los"),
    ],
)
def test_a_first_name_after_an_article_in_a_self_introduction_goes(
    comment: str, expected: str
) -> None:
    """Found by a redaction walk-through: "Ich bin die Erika" went, "Ich bin übrigens die
    Erika" stayed."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Danke für alles, Sandra", "Danke für alles, [Name]"),
        ("Vielen Dank für alles, Tom", "Vielen Dank für alles, [Name]"),
        ("Danke für die Hilfe, Anna!", "Danke für die Hilfe, [Name]!"),
        ("Danke für alles, liebe Sandra", "Danke für alles, liebe [Name]"),
        ("Danke für alles, Sandra K.", "Danke für alles, [Name]"),
        ("Danke für alles, Sandra Schmidt", "Danke für alles, [Name]"),
        ("Thanks for everything, Tom", "Thanks for everything, [Name]"),
        ("Thank you so much for your help, Priya", "Thank you so much for your help, [Name]"),
        ("Essen kalt. Danke trotzdem, Sandra 🙂", "Essen kalt. Danke trotzdem, [Name] 🙂"),
        # near misses: no first name, or not at the end
        ("Danke für alles, Team", "Danke für alles, Team"),
        ("Danke für alles, Amazon", "Danke für alles, Amazon"),
        ("Danke für alles, Berlin", "Danke für alles, Berlin"),
        (
            "Danke für die schnelle Hilfe, Super Service",
            "Danke für die schnelle Hilfe, Super Service",
        ),
        ("Danke, aber das Essen war kalt, leider", "Danke, aber das Essen war kalt, leider"),
        ("Thanks for everything, Awesome", "Thanks for everything, Awesome"),
    ],
)
def test_a_first_name_ending_a_thank_you_after_a_comma_goes(comment: str, expected: str) -> None:
    """Found by a redaction walk-through: "Danke 🙏 Sandra" went, "Danke für alles,
    Sandra" stayed."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Danke " + "für alles " * 500 + ", " * 500,
        ("Danke für alles, " * 300) + "x",
        "Ich bin " + "übrigens " * 800 + "die",
        "Hier ist " + "nochmal " * 800,
        "Schönen Tag noch, " * 250 + "die",
        "Grüße vom " * 400 + "Thomas x",
        "It's me, " * 400,
        "Tom here " * 400,
        "Thanks! -" * 400,
        "Gruß aus Zimmer 12, " * 200,
        "Grüße aus " * 400 + "Köln",
        "Ich bin's, " * 400,
    ],
)
@pytest.mark.timeout(120)
def test_long_thank_yous_and_introductions_run_through(text: str) -> None:
    """A pattern that backtracks on a phrase said again runs for minutes on these: the
    timeout fails it as a hang, not as slow (speed is the benchmarks' to measure); a
    pattern failing on them withholds the comment, which fails it too."""
    assert redact(text, DE) != DE.gettext(redaction.WITHHELD)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Gruß, die Erika", "Gruß, die [Name]"),
        ("Servus, der Sepp", "Servus, der [Name]"),
        ("Tschö, die Erika", "Tschö, die [Name]"),
        ("Grüße vom Thomas", "Grüße vom [Name]"),
        ("LG vom Thomas aus Berlin", "LG vom [Name] aus Berlin"),
        ("Liebe Grüße von der Erika", "Liebe Grüße von der [Name]"),
        ("Hier schreibt die Erika", "Hier schreibt die [Name]"),
        ("Alles Liebe, Sandra", "Alles Liebe, [Name]"),
        ("Schönen Tag noch, Tom", "Schönen Tag noch, [Name]"),
        (
            "Zimmer war sauber. Schönes Wochenende, Erika",
            "Zimmer war sauber. Schönes Wochenende, [Name]",
        ),
        ("Grüßle, Erika", "Grüßle, [Name]"),
        ("Hey it's Tom again", "Hey it's [Name] again"),
        ("It's me, Tom", "It's me, [Name]"),
        ("Tom here, room 12", "[Name] here, room 12"),
        ("Sandra here from reception", "[Name] here from reception"),
        ("Take care, Tom", "Take care, [Name]"),
        ("See you soon, Priya", "See you soon, [Name]"),
        ("Have a nice day, Priya", "Have a nice day, [Name]"),
        ("Warm wishes, Olena", "Warm wishes, [Name]"),
        ("Much appreciated, Tom", "Much appreciated, [Name]"),
        ("Thanks! -Tom", "Thanks! -[Name]"),
        # a hyphen right before the name, after more on its line (a staff walk-through:
        # "Great stay, thanks! -Tom" reached staff's summaries)
        ("Great stay, thanks! -Tom", "Great stay, thanks! -[Name]"),
        ("Super Aufenthalt, danke! -Anna", "Super Aufenthalt, danke! -[Name]"),
        ("Great, thank you! -Emma.", "Great, thank you! -[Name]."),
        ("Alles gut. --Anna", "Alles gut. --[Name]"),
        ("Super Aufenthalt!\n-Anna", "Super Aufenthalt!\n-[Name]"),  # (its review)
        ("Alles gut\n-Anna Schmidt", "Alles gut\n-[Name]"),
        ("Bestellt:\n-Pad Thai\n-Tom Yum", "Bestellt:\n-Pad Thai\n-Tom Yum"),
        ("Essen:\n-Pasta\n-Anna", "Essen:\n-Pasta\n-Anna"),
        ("Reiseziel:\n-Santiago", "Reiseziel:\n-Santiago"),
        ("Urlaub in\n-Georgia", "Urlaub in\n-Georgia"),
        ("Ecke\n-Konrad-Adenauer-Ring", "Ecke\n-Konrad-Adenauer-Ring"),
        ("Gekauft:\n-Marco Polo", "Gekauft:\n-Marco Polo"),
        # and what stays
        ("Bestellt: Pad Thai -Tom Yum", "Bestellt: Pad Thai -Tom Yum"),
        ("Jeans gekauft -Tom Tailor", "Jeans gekauft -Tom Tailor"),
        ("Zimmer war sauber -Anna war nett", "Zimmer war sauber -Anna war nett"),
        ("Alles top -Super Service", "Alles top -Super Service"),
        ("Check-In war schnell", "Check-In war schnell"),
        ("Hallo, ich bin's, Tom", "Hallo, ich bin's, [Name]"),
        ("Ich bin es, Tom", "Ich bin es, [Name]"),
        ("Liebe Grüße\nSandra aus Zimmer 12", "Liebe Grüße\n[Name] aus Zimmer 12"),
        ("Viele Grüße von der Sandra aus Zimmer 12", "Viele Grüße von der [Name] aus Zimmer 12"),
        ("Cheers, Mike from room 12", "Cheers, [Name] from room 12"),
        ("Grüße aus Zimmer 12, Tom", "Grüße aus Zimmer 12, [Name]"),
        ("Gruß aus Köln, die Erika", "Gruß aus Köln, die [Name]"),
        ("Best regards from room 12, Priya", "Best regards from room 12, [Name]"),
        ("Bis später, Tom", "Bis später, [Name]"),
        ("Gute Nacht, Tom", "Gute Nacht, [Name]"),
        ("Frohe Weihnachten, Erika", "Frohe Weihnachten, [Name]"),
        ("Merry Christmas, Olena", "Merry Christmas, [Name]"),
        ("Happy holidays, Priya", "Happy holidays, [Name]"),
        ("Viel Erfolg, Tom", "Viel Erfolg, [Name]"),
        ("Yours, Olena", "Yours, [Name]"),
        # already going before: kept so
        ("LG von Tom aus Köln", "LG von [Name] aus Köln"),
        ("Erika hier", "[Name] hier"),
        ("this is Priya from room 12", "this is [Name] from room 12"),
        ("Cheers, Olena", "Cheers, [Name]"),
        # found by a review of the above: after a thanks or a wish, "from"/"von" a name
        ("Cheers from Tom", "Cheers from [Name]"),
        ("Thanks from Tom", "Thanks from [Name]"),
        ("Danke von Erika", "Danke von [Name]"),
        ("Love from Sandra", "Love from [Name]"),
        ("Warm wishes from Olena", "Warm wishes from [Name]"),
        ("Thanks from Tom and Erika", "Thanks from [Name]"),
        ("Essen kalt. Danke von Erika", "Essen kalt. Danke von [Name]"),
        # more wishes one signs after
        ("Frohes neues Jahr, Erika", "Frohes neues Jahr, [Name]"),
        ("Guten Abend noch, Erika", "Guten Abend noch, [Name]"),
        ("Have a good one, Tom", "Have a good one, [Name]"),
        ("Enjoy your weekend, Tom", "Enjoy your weekend, [Name]"),
        ("With love, Tom", "With love, [Name]"),
        ("Kisses, Olena", "Kisses, [Name]"),
        ("Merci, Tom", "Merci, [Name]"),
        # a room or a place after a thank-you's or a wish's name
        ("Thanks, Tom from room 12", "Thanks, [Name] from room 12"),
        ("Danke, Erika aus Zimmer 12", "Danke, [Name] aus Zimmer 12"),
        ("Danke für alles, Erika aus Zimmer 12", "Danke für alles, [Name] aus Zimmer 12"),
        ("Schönen Tag noch, Erika aus Zimmer 12", "Schönen Tag noch, [Name] aus Zimmer 12"),
        ("Gruß, Erika, Zimmer 12", "Gruß, [Name], Zimmer 12"),
        # the words before the name stay, in small letters too
        ("liebe grüße von der erika", "liebe grüße von der [Name]"),
        # introductions (found by the same review)
        ("Es schreibt Ihnen die Erika", "Es schreibt Ihnen die [Name]"),
        ("Ich bin's nochmal, Tom", "Ich bin's nochmal, [Name]"),
        ("This is Tom, room 12", "This is [Name], room 12"),
        ("Food cold. Tom here", "Food cold. [Name] here"),
        ("Essen kalt. Erika hier", "Essen kalt. [Name] hier"),
        # a room after a comma, its number a placeholder already or not
        ("Cheers, Olena, Apt 4", "Cheers, [Name], Apt 4"),
        ("Viele Grüße, Anna Schmidt, Zimmer 214", "Viele Grüße, [Name], Zimmer [Nummer]"),
        # in small letters at the end, a word known as a first name alone
        ("thanks! -tom", "thanks! -[Name]"),
        ("schönen tag noch, tom", "schönen tag noch, [Name]"),
        ("Gruß, die erika", "Gruß, die [Name]"),
        ("alles super 😊 sandra", "alles super 😊 [Name]"),
        ("it's me, tom", "it's me, [Name]"),
        ("hier schreibt die erika, essen kalt", "hier schreibt die [Name], essen kalt"),
        ("sandra here from reception", "[Name] here from reception"),
        ("food cold. tom here", "food cold. [Name] here"),
    ],
)
def test_a_casual_self_introduction_or_sign_off_goes(comment: str, expected: str) -> None:
    """Found by a redaction walk-through of casual introductions and sign-offs."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "comment",
    [
        "Grüße von der Ostsee",
        "Liebe Grüße vom Bodensee",
        "Grüße von der ganzen Familie",
        "Grüße vom Team",
        "Hier schreibt der Kunde",
        "It's Awful, really",
        "It's me, again",
        "It's Monday.",
        "Here here!",
        "Schönen Tag noch, liebes Team",
        "Have a nice day, everyone",
        "Take care, Awesome Team",
        "Schönes Wochenende, Berlin!",
        "Danke! Der Kaffee",
        "Super 👍 der Service",
        "Thanks! -Amazon",
        "Bis dann, der Kaffee war kalt",
        "Gruß, der Verkäufer",
        "Ich bin es, Kunde seit 10 Jahren",
        "Ich bin es leid, Tom",
        "Frohe Weihnachten, Berlin",
        "Gute Nacht, Deutschland",
        "Bis morgen, Team",
        "Merry Christmas, everyone",
        "Gruß aus Köln, der Kunde",
        # ("Gruß, Jan in Kiel" was here: a later review found the name a leak, see below)
        "Gruß, Familie in Kiel",
        # (the review's near misses for the additions above)
        "Cheers from Berlin",
        "Love from the whole family",
        "Thanks from all of us",
        "Danke von Herzen",
        "Danke von uns allen",
        "Have a good one",
        "Merci beaucoup",
        "Danke für alles, Team aus Zimmer 12",
        "Frohe Weihnachten aus Berlin",
        "Cheers from Berlin and Hamburg",
        "Es schreibt Ihnen die Geschäftsführung",
        "Ich bin's nochmal",
        "This is Chaos, room 12",
        "This is the third time",
        "Food cold. Service here was slow",
        "Alles gut. Berlin hier",
        "Cheers, mate, room 4",
        "Gruß, Team, Zimmer 12",
        "danke für alles, super",
        "danke, lecker",
        "thanks a lot. great",
        "gute nacht, frank",
        "bis dann, max",
        "this is ridiculous.",
        "hier ist die hölle los",
        "it's awful, really",
        "service here was slow",
        "everyone here from the team",
        "max here",
        "hier ist der kaffee kalt",
    ],
)
def test_what_looks_like_a_casual_sign_off_but_names_no_one_stays(comment: str) -> None:
    assert redact(comment, DE) == comment


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a wish after "Gruß und" before the name, as "und bis bald" was
        ("Gruß und schönes Wochenende, Erika", "Gruß und schönes Wochenende, [Name]"),
        (
            "Viele Grüße und einen schönen Abend noch, Tom",
            "Viele Grüße und einen schönen Abend noch, [Name]",
        ),
        # a place after "in", a room's number alone or one that is a placeholder already
        ("Cheers, Mike in Leeds", "Cheers, [Name] in Leeds"),
        ("Gruß, Jan in Kiel", "Gruß, [Name] in Kiel"),
        ("Danke, Tom in Leeds", "Danke, [Name] in Leeds"),
        ("Gruß, Erika aus 214", "Gruß, [Name] aus 214"),
        ("Gruß, Erika aus Zimmer 214", "Gruß, [Name] aus Zimmer [Nummer]"),
        ("Danke, Erika aus Zimmer 214", "Danke, [Name] aus Zimmer [Nummer]"),
        # "von" before a name in small letters, and a second name after an article
        ("grüße vom thomas", "grüße vom [Name]"),
        ("danke von erika", "danke von [Name]"),
        ("Liebe Grüße von der Erika und dem Tom", "Liebe Grüße von der [Name]"),
        ("Grüße von der Erika und den Kindern", "Grüße von der [Name] und den Kindern"),
        ("cheers from tom", "cheers from [Name]"),
        ("love from sandra", "love from [Name]"),
        ("thanks from tom and erika", "thanks from [Name]"),
        ("liebe grüße von der erika und dem tom", "liebe grüße von der [Name]"),
        ("grüße von erika und den kindern", "grüße von [Name] und den kindern"),
        ("this is tom, room 12", "this is [Name], room 12"),
        # a greeting, "it's" and "here": a name not known as one too
        ("Hi, it's Dawn here", "Hi, it's [Name] here"),
        ("Hi, it's Dawn speaking", "Hi, it's [Name] speaking"),
        # a first name known as one alone at the end, after the comment's last sentence
        ("Essen kalt.\nErika", "Essen kalt.\n[Name]"),
        ("Essen kalt. Erika :)", "Essen kalt. [Name] :)"),
        ("Essen kalt. Die Erika", "Essen kalt. Die [Name]"),
        ("Zimmer war schmutzig!\n\nSandra", "Zimmer war schmutzig!\n\n[Name]"),
        ("Essen kalt.\nTom & Erika", "Essen kalt.\n[Name]"),
        ("Essen kalt. Die Erika aus Zimmer 12", "Essen kalt. Die [Name] aus Zimmer 12"),
        ("Essen kalt.\nErika, Zimmer 12", "Essen kalt.\n[Name], Zimmer 12"),
        # more wishes one signs after
        ("Frohes Fest, Erika", "Frohes Fest, [Name]"),
        ("Gute Besserung, Tom", "Gute Besserung, [Name]"),
        ("Bis nächste Woche, Erika", "Bis nächste Woche, [Name]"),
    ],
)
def test_what_a_review_of_casual_sign_offs_found_still_leaking_goes(
    comment: str, expected: str
) -> None:
    """Found by a review of the casual sign-offs and introductions above."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "comment",
    [
        "Gruß und schönes Wochenende",
        "Grüße, Urlaub in Spanien",
        "Danke, Team in Leeds",
        "grüße von zuhause",
        "grüße vom see",
        "grüße vom max",
        "danke von uns allen",
        "love from mum",
        "cheers from berlin",
        "thanks from all of us",
        "this is chaos, room 12",
        "Hi, it's Chaos here",
        "Hello, it's Christmas here",
        "Hi, it's Amazon here",
        "Hi, it's Service here",
        "Essen kalt.\nDanke",
        "Essen kalt.\nBerlin",
        "Essen kalt.\nTeam",
        "Essen kalt.\nLG",
        "Essen kalt.\nTop",
        "Essen kalt.\nSuper",
        "Essen kalt. Die Pizza",
        "Essen kalt. Max",
        "Toller Urlaub.\nJordan",
        "Essen kalt.\nMax aus Berlin",
        "Gute Besserung, Team",
        "Gruß an die Küche",
        "Danke für alles, super Team",
        "Cheers, mate",
        "LG aus Berlin",
        "Grüße von der Ostsee",
        "Frohe Weihnachten, Berlin",
        "Danke für alles, Team",
        "Thanks from all of us",
        "Love from the whole family",
        "Cheers from Berlin",
        "Danke von uns allen",
        "Have a good one",
        "Merci beaucoup",
        "This is the third time",
        "Food cold. Service here was slow",
        "Es schreibt Ihnen die Geschäftsführung",
        "Ich bin's nochmal",
    ],
)
def test_what_the_review_of_casual_sign_offs_leaves_alone_stays(comment: str) -> None:
    assert redact(comment, DE) == comment


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a closing after a wish and "und" / "and"
        (
            "Essen gut. Schönes Wochenende und Gruß, Erika",
            "Essen gut. Schönes Wochenende und Gruß, [Name]",
        ),
        (
            "Essen gut.\nSchönes Wochenende und viele Grüße, Erika",
            "Essen gut.\nSchönes Wochenende und viele Grüße, [Name]",
        ),
        ("Bis bald und liebe Grüße, Erika", "Bis bald und liebe Grüße, [Name]"),
        ("Danke und Gruß, Erika", "Danke und Gruß, [Name]"),
        (
            "Food good. Have a nice day and best regards, John",
            "Food good. Have a nice day and best regards, [Name]",
        ),
        ("Essen gut. Gruß und Kuss, Erika", "Essen gut. Gruß und Kuss, [Name]"),
        ("Gruß und Kuss\nErika", "Gruß und Kuss\n[Name]"),
        # roles of staff a name follows
        ("Das Zimmermädchen Olga hat super geputzt", "Das Zimmermädchen [Name] hat super geputzt"),
        ("Die Reinigungskraft Olga war super", "Die Reinigungskraft [Name] war super"),
        ("Our guide Pedro was great", "Our guide [Name] was great"),
        ("Trainer Marco war super", "Trainer [Name] war super"),
        ("Unser Betreuer Herr Schmidt", "Unser Betreuer [Name]"),
        # a name and the desk they work at
        ("Kevin von der Rezeption war unhöflich", "[Name] von der Rezeption war unhöflich"),
        ("Jana Schmidt an der Kasse war nett", "[Name] an der Kasse war nett"),
        ("Lob Jana an der Bar", "Lob [Name] an der Bar"),
        ("Frank vom Service", "[Name] vom Service"),
        ("Kevin at the front desk was rude", "[Name] at the front desk was rude"),
        ("Priya at reception was lovely", "[Name] at reception was lovely"),
        # more thanks to someone
        (
            "Danke an das ganze Team, besonders an Jana!",
            "Danke an das ganze Team, besonders an [Name]!",
        ),
        ("Shoutout to Priya!", "Shoutout to [Name]!"),
        ("Shout-out to Tom and Jana", "Shout-out to [Name] and [Name]"),
        ("Riesenlob an Jana", "Riesenlob an [Name]"),
        ("Thanks to all, especially to Priya", "Thanks to all, especially to [Name]"),
        # whom one spoke with, and the team they are in
        ("Ich habe mit Sandra telefoniert", "Ich habe mit [Name] telefoniert"),
        ("Hab mit einer Sandra telefoniert", "Hab mit einer [Name] telefoniert"),
        (
            "Ich habe mit Ihrer Sandra am Telefon gesprochen",
            "Ich habe mit Ihrer [Name] am Telefon gesprochen",
        ),
        ("I talked to Sarah on the phone", "I talked to [Name] on the phone"),
        ("talking to Anna Schmidt was nice", "talking to [Name] was nice"),
        ("Spoke with Amy from support", "Spoke with [Name] from support"),
        ("Amy from support was great", "[Name] from support was great"),
        ("Chatted with Tom from billing", "Chatted with [Name] from billing"),
    ],
)
def test_what_the_review_of_session_47_found_leaking_goes(comment: str, expected: str) -> None:
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    "comment",
    [
        "Ich sende Blumen und Grüße an alle",
        "Kaffee und Grüße, super",
        "Sonne und Grüße aus Berlin",
        "Gruß und Kuss",
        "The Guide Michelin",
        "Our guide book was wrong",
        "Der Trainer Adidas",
        "Der Cleaner Pro 3000 ist kaputt",
        "the valet parking was slow",
        "Die Putzfrau hat vergessen",
        "Kaffee an der Bar war kalt",
        "Service an der Rezeption war lahm",
        "Die Dame an der Rezeption",
        "Warten an der Kasse dauerte",
        "Alles in der Küche war sauber",
        "Tom Tailor an der Kasse",
        "besonders an Wochenenden voll",
        "besonders an der Rezeption",
        "Shoutout to Amazon",
        "mit Amazon telefoniert",
        "mit Freude gesprochen",
        "Ich habe mit der Hotline telefoniert",
        "I talked to support twice",
        "Spoke to Amazon",
        "I spoke to the manager",
    ],
)
def test_what_the_review_of_session_47_leaves_alone_stays(comment: str) -> None:
    assert redact(comment, DE) == comment


@pytest.mark.parametrize(
    "comment",
    [
        "Bitte melden Sie sich bei mir: Erika Mustermann, erika@example.org",
        "Rückruf bei mir: Sandra Kowalski, 0151 23456789",
    ],
)
def test_a_name_beside_contact_data_is_not_counted_as_words(comment: str) -> None:
    """Blanked at once, the contact data were no longer there for the name beside them to
    be found by, and "Erika", "Mustermann" went into the summaries' counts of words."""
    words = set(re.findall(r"\w+", strip_personal(comment)))
    assert not {"Erika", "Mustermann", "Sandra", "Kowalski", "erika", "example"} & words
    assert "melden" in words or "Rückruf" in words


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Tag minus 1: Erika sagt der Kaffee war lauwarm",
            "Tag minus 1: [Name] sagt der Kaffee war lauwarm",
        ),
        ("Erika sagte, das Zimmer sei fertig", "[Name] sagte, das Zimmer sei fertig"),
        ("Sandra hat gesagt, es dauert", "[Name] hat gesagt, es dauert"),
        ("Tom said it was fine", "[Name] said it was fine"),
        (
            "The manager said no, but Priya told us to wait",
            "The manager said no, but [Name] told us to wait",
        ),
        # left as they are: no person's first name, or a name of a place or a thing
        ("Google sagt das Hotel ist gut", "Google sagt das Hotel ist gut"),
        ("Die Karte sagt etwas anderes", "Die Karte sagt etwas anderes"),
        ("Paris sagt man ist schön", "Paris sagt man ist schön"),
        ("Marco Polo sagt", "Marco Polo sagt"),
    ],
)
def test_who_said_what_is_named_no_more(comment: str, expected: str) -> None:
    """Found by the operator walk-through of session 48: "Erika sagt …" reached the summary's
    latest comments, the export and the frequent words ("erika (3)")."""
    assert redact(comment, DE) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a hotel's compound roles, and a name after them
        ("Der Oberkellner Thomas war nett", "Der Oberkellner [Name] war nett"),
        ("Die Empfangsdame Sabine war freundlich", "Die Empfangsdame [Name] war freundlich"),
        ("Der Küchenchef Andreas Wolf kocht toll", "Der Küchenchef [Name] kocht toll"),
        ("Der Nachtportier Klaus war hilfsbereit", "Der Nachtportier [Name] war hilfsbereit"),
        ("The head waiter Marco was rude", "The head waiter [Name] was rude"),
        ("Die Angestellte Sabine Krause", "Die Angestellte [Name]"),
        # a common last name alone after a role
        ("Kellner Meier war unfreundlich", "Kellner [Name] war unfreundlich"),
        ("Küchenchef Meier war unfreundlich", "Küchenchef [Name] war unfreundlich"),
        (
            "Die Kundenberaterin Schneider hat super geholfen",
            "Die Kundenberaterin [Name] hat super geholfen",
        ),
        ("Der Hausmeister Becker, sehr freundlich", "Der Hausmeister [Name], sehr freundlich"),
        ("Mitarbeiter Weber: sehr gut", "Mitarbeiter [Name]: sehr gut"),
        ("Our waiter Smith was rude", "Our waiter [Name] was rude"),
        # a booking made in a name
        (
            "Der Tisch war reserviert auf Weber, aber keiner wusste davon",
            "Der Tisch war reserviert auf [Name], aber keiner wusste davon",
        ),
        ("Zimmer gebucht unter Müller", "Zimmer gebucht unter [Name]"),
        ("Table reserved under Smith for 8pm", "Table reserved under [Name] for 8pm"),
        # left as they are: no name after the role, a thing or a relative, no booking's name
        ("Wir haben dem Oberkellner Trinkgeld gegeben", None),
        ("Der Küchenchef war krank, das Essen trotzdem gut", None),
        ("Danke an Müller", None),
        ("Mutter Wolf", None),
        ("Meister Proper", None),
        ("der kellner meier", None),
        ("reserviert auf Terrasse", None),
        ("Wir hatten gebucht auf Rechnung", None),
        ("reserviert auf 19 Uhr", None),
        ("reserved under Expedia", None),
        ("Frau Direktorin Schmidt war super", "[Name] war super"),
    ],
)
def test_compound_roles_a_last_name_after_a_role_and_a_booking_name_go(
    comment: str, expected: str | None
) -> None:
    """Found by the staff walk-through of session 50: "Küchenchef Meier", "Der Oberkellner
    Thomas", "Kellner Meier" and "reserviert auf Weber" reached alerts, summaries and
    exports, where "Kellner Thomas" and "Herr Meier" went."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Gast aus der 417", "Gast aus der [Nummer]"),
        ("Die Gäste in der 312 waren laut", "Die Gäste in der [Nummer] waren laut"),
        ("Die Gäste aus 305 waren laut", "Die Gäste aus [Nummer] waren laut"),
        ("Die Nachbarn von 412 haben gefeiert", "Die Nachbarn von [Nummer] haben gefeiert"),
        ("Gäste aus 100 Ländern", None),
        ("Kinder in 300 m Entfernung", None),
        ("Wir waren in der 1204 und es war laut", "Wir waren in der [Nummer] und es war laut"),
        (
            "Gäste von der 214 haben bis 3 Uhr gefeiert",
            "Gäste von der [Nummer] haben bis 3 Uhr gefeiert",
        ),
        ("The guests in 417 were loud", "The guests in [Nummer] were loud"),
        ("The people from 1204 were lovely", "The people from [Nummer] were lovely"),
        # left as they are: a bus line, a year, what a number counts, an ordinal, a range
        ("mit der 417 zum Bahnhof", None),
        ("in der 2024 Saison", None),
        ("in der 100 Jahre alten Villa", None),
        ("in der 500 Meter entfernten Bäckerei", None),
        ("in der 312. Minute", None),
        ("aus der 101 bis 110", None),
        # nor after no one who stays there (found by the review of session 51: a size, a
        # year, a bus)
        ("Ich habe die Jeans in der 164 bestellt", None),
        ("Umsteigen von der 100 in die U2", None),
        ("I have stayed in 200 hotels", None),
        ("We stayed in 100 year old building", None),
        ("Wir wohnten in der 1830 erbauten Villa", None),
        ("Rooms 120 USD per night", None),
        ("WLAN in den Zimmern 100 Mbit", None),
        ("Room 412 and 400 channels on TV", "Room [Nummer] and 400 channels on TV"),
        ("We waited in 100 degree heat", None),
    ],
)
def test_a_rooms_number_with_no_word_for_it_goes_where_a_guest_is_in_it(
    comment: str, expected: str | None
) -> None:
    """Found by the staff walk-through of session 50: "Gast aus der 417" reached staff, where
    "Zimmer 417" went; a room's number and the day of the stay name the guest."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # rooms 110 and 112, no emergency numbers after a room's word
        ("Zimmer 112 war laut.", "Zimmer [Nummer] war laut."),
        ("Room 110 was noisy.", "Room [Nummer] was noisy."),
        ("Gast aus der 112", "Gast aus der [Nummer]"),
        # more rooms after one
        ("Zimmer 214 und 215 waren laut", "Zimmer [Nummer] und [Nummer] waren laut"),
        ("Zimmer 214, 215 und 216", "Zimmer [Nummer], [Nummer] und [Nummer]"),
        ("Zimmer 214/215 waren verbunden", "Zimmer [Nummer]/[Nummer] waren verbunden"),
        ("rooms 214 and 215 were noisy", "rooms [Nummer] and [Nummer] were noisy"),
        ("Zi-Nr 217", "Zi-Nr [Nummer]"),
        # children's names
        (
            "Unsere Kinder Mia und Paul hatten Spaß im Pool.",
            "Unsere Kinder [Name] und [Name] hatten Spaß im Pool.",
        ),
        ("My kids Olivia and Noah loved the pool.", "My kids [Name] and [Name] loved the pool."),
        ("Thanks to the barman Luca", "Thanks to the barman [Name]"),
        # a safe's or a door's PIN
        ("Der Safe-PIN 0000 war voreingestellt", "Der Safe-PIN [Passwort] war voreingestellt"),
        ("Safe-Code 4711 ging nicht", "Safe-Code [Passwort] ging nicht"),
        ("Die Zimmertür-PIN war 1234", "Die Zimmertür-PIN war [Passwort]"),
        # a booking's code in words, a member's number
        ("My booking reference is ABX7721K", "My booking reference is [Nummer]"),
        ("my confirmation code is ABX7721K", "my confirmation code is [Nummer]"),
        ("Mitglied Nr. 4471", "Mitglied Nr. [Nummer]"),
        # a plate spaced as printed right after a car, or a camper's
        ("Das Auto M AB 1234 hatte einen Kratzer.", "Das Auto [Nummer] hatte einen Kratzer."),
        ("Unser Wohnmobil HD-RT 440 stand draußen", "Unser Wohnmobil [Nummer] stand draußen"),
        # a wife's name goes, the word for her stays
        (
            "Meine Frau Claudia und ich hatten Hochzeitstag",
            "Meine Frau [Name] und ich hatten Hochzeitstag",
        ),
        # a birthday's date with its year of birth
        (
            "Ich habe am 12.05.1982 Geburtstag und wollte das Angebot nutzen.",
            "Ich habe am [Nummer] Geburtstag und wollte das Angebot nutzen.",
        ),
        (
            "Geburtstag meiner Frau am 14.02.1978 – leider keine Torte.",
            "Geburtstag meiner Frau am [Nummer] – leider keine Torte.",
        ),
        ("Ich habe am 12. März 1985 Geburtstag", "Ich habe am [Nummer] Geburtstag"),
        ("Wir feierten Geburtstag, Anreise 12.05.2026", None),
        ("Ich habe am 12.05. Geburtstag", None),
        # staff at a hotel's desks, and a first name before another that went
        ("Sarah from housekeeping was amazing.", "[Name] from housekeeping was amazing."),
        ("Sarah in housekeeping was great", "[Name] in housekeeping was great"),
        ("Sonja vom Frühstücksservice war super.", "[Name] vom Frühstücksservice war super."),
        ("We loved our waiter, Giovanni.", "We loved our waiter, [Name]."),
        (
            "Toller Service von Maria und Jan am Empfang!",
            "Toller Service von [Name] und [Name] am Empfang!",
        ),
        ("Salz und Pfeffer am Tisch", None),
        # a sign-off after a room with no word for it
        ("Grüße aus der 214, eure Lena", "Grüße aus der [Nummer], eure [Name]"),
        # found by the review of these changes: still names, or no rooms
        ("Ich habe es Frank gesagt", "Ich habe es [Name] gesagt"),
        ("herr london hat geholfen", "[Name] hat geholfen"),
        (
            "Kundennummer 12345678 und 300 weitere Punkte",
            "Kundennummer [Nummer] und 300 weitere Punkte",
        ),
        ("Zimmer 214 und 300 m²", "Zimmer [Nummer] und 300 m²"),
        ("Zimmer 214 oder 215", "Zimmer [Nummer] oder [Nummer]"),
        ("Room 412 and 300 feet from the elevator", "Room [Nummer] and 300 feet from the elevator"),
        ("Zimmer 214, 220 Grad Panorama", "Zimmer [Nummer], 220 Grad Panorama"),
        (
            "Bestellnummer 12345678 und 150 Teile fehlen.",
            "Bestellnummer [Nummer] und 150 Teile fehlen.",
        ),
        ("Zimmer 120/130 m²", None),
        ("Türcode: kam per SMS, super.", None),
        ("Der Türcode war 10 Minuten nach Ankunft noch nicht aktiv", None),
        ("Der Safe-Code ist 4-stellig, das ist zu kurz", None),
        ("Zum 50. Hotelgeburtstag (gegründet am 14.06.1974)", None),
        ("Pizza Regina im Restaurant war zu salzig.", None),
        (
            "Wir bestellten Bloody Mary und Tom Collins an der Bar.",
            "Wir bestellten Bloody Mary und [Name] an der Bar.",
        ),
        ("Buchungsreferenz ABX7721K stimmt nicht.", "Buchungsreferenz [Nummer] stimmt nicht."),
        ("Kellnerin Krause war super", "Kellnerin [Name] war super"),
        ("Der Kellner Bauer war super.", "Der Kellner [Name] war super."),
        ("The waiter Baker was rude", "The waiter [Name] was rude"),
        ("Der Kellner Bauernhof war", None),
        ("The night porter Davies was rude", "The night porter [Name] was rude"),
        ("guests in 300 rooms", None),
        ("Wir kommen aus der 5000 Einwohner Stadt", None),
        ("Buchung 1234/5678", None),
        # left as they are: a range, a price, a year, no plate, a hotel or city thanked,
        # "frankly", a safe without its code
        ("Zimmer 101 bis 110 werden renoviert", None),
        ("Zimmer 214, 1200 Euro pro Woche", "Zimmer [Nummer], 1200 Euro pro Woche"),
        ("Zimmer 214 und 2024 war super", "Zimmer [Nummer] und 2024 war super"),
        ("Rufen Sie 112 an", None),
        ("Kinder Schokolade im Zimmer", None),
        ("Die Kinder waren begeistert", None),
        ("Das Auto VW ID 3 lud nicht", None),
        ("Der Safe-Code funktionierte nicht", None),
        ("The booking reference was wrong", None),
        ("Danke Hotel Adler!", None),
        ("Thank you Hilton!", None),
        ("Danke Berlin!", None),
        ("Danke Anna!", "Danke [Name]!"),
        ("Die Minibar war leer. Frank gesagt: enttäuschend.", None),
        ("Frank hat gesagt, es dauert", "[Name] hat gesagt, es dauert"),
    ],
)
def test_what_the_staff_walk_through_of_session_51_found_goes_or_stays(
    comment: str, expected: str | None
) -> None:
    """Found by the staff walk-through of session 51: rooms 110 and 112 and a second room
    stayed, as did children's names, a safe's PIN, a booking's code said in words, a plate
    spaced as printed; "Danke Hotel Adler!" became "Danke [Name]!", "Frank gesagt" (frankly)
    a name, and "Meine Frau Claudia" "Meine [Name]"."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # staff of trades, practices, transport and shops, by their role
        ("Der Elektriker Dennis war super.", "Der Elektriker [Name] war super."),
        (
            "Die Sprechstundenhilfe Sandra war unfreundlich.",
            "Die Sprechstundenhilfe [Name] war unfreundlich.",
        ),
        (
            "Die Kontrolleurin Sandra war unfreundlich.",
            "Die Kontrolleurin [Name] war unfreundlich.",
        ),
        ("My physio Emma is brilliant.", "My physio [Name] is brilliant."),
        ("The sales assistant Gary was pushy.", "The sales assistant [Name] was pushy."),
        ("Electrician Dave fixed it.", "Electrician [Name] fixed it."),
        ("Maler Schmidt hat super gearbeitet", "Maler [Name] hat super gearbeitet"),
        ("Unser Makler Herr Klein", "Unser Makler [Name]"),
        # where they work, and the name before its role
        ("Kevin im Lager hat das Paket gefunden.", "[Name] im Lager hat das Paket gefunden."),
        ("Gary on the tills was brilliant.", "[Name] on the tills was brilliant."),
        ("Sabine an der Anmeldung war nett", "[Name] an der Anmeldung war nett"),
        ("Jan, der Techniker, war super.", "[Name], der Techniker, war super."),
        ("Steve the driver was rude.", "[Name] the driver was rude."),
        # a last name that is a word too, where a sentence begins
        ("Kassiererin Bauer war genervt.", "Kassiererin [Name] war genervt."),
        ("Alles gut. Techniker Fuchs kam zu spät.", "Alles gut. Techniker [Name] kam zu spät."),
        # addresses, passwords, a phone number said in pairs
        ("Please deliver to 14 Elm Grove, Leeds LS6 2AB.", "Please deliver to [Adresse]."),
        ("Deliver to 5 Maple Crescent please.", "Deliver to [Adresse] please."),
        ("WLAN-Passwort: Sommer2024!", "WLAN-Passwort: [Passwort]"),
        ("E-Mail-Passwort: geheim99", "E-Mail-Passwort: [Passwort]"),
        ("Meine Nummer ist 0171 23 45 67 8.", "Meine Nummer ist [Telefon]."),
        # an order's and an invoice's numbers are numbers, not phone numbers
        ("Bestellung 0012345678 fehlt", "Bestellung [Nummer] fehlt"),
        ("Rechnung RE-2024-004711 ist falsch.", "Rechnung [Nummer] ist falsch."),
        # kept: a product's, an error's, an update's, a version's, an issue's numbers
        ("Artikel 0123456 fehlt.", None),
        ("Item 0123456 was out of stock.", None),
        # (a bare product word keeps only what read as a phone number: "part 12345678" may
        # be anyone's number, found by the review of that change)
        ("SKU 55667788 was out of stock.", "SKU [Nummer] was out of stock."),
        ("Produktnummer 0812345 gibt es nicht mehr.", None),
        ("Teil 123456789 fehlt", "Teil [Nummer] fehlt"),
        (
            "Der Code AB12345678 für meine Buchung ging nicht.",
            "Der Code [Nummer] für meine Buchung ging nicht.",
        ),
        ("Issue 12345678", "Issue [Nummer]"),
        ("Mitgliedsnummer 12.34.56789", "Mitgliedsnummer 12.34.[Nummer]"),
        ("Rufen Sie mich an: 1-0171 2345678", "Rufen Sie mich an: 1-[Telefon]"),
        ("Die Werkstatt hat den Code P0300 ausgelesen.", None),
        ("Das Update KB5034441 schlägt fehl.", None),
        ("See CVE-2024-12345, please patch.", None),
        ("GitHub issue #1234 is still open.", None),
        ("Windows-Build 10.0.19045.3803 hat das Problem verursacht.", None),
        ("Version 2.3.10045 stürzt ab", None),
        # and what stays as it was
        ("Bob the Builder", None),
        ("Builder Pro ist gut", None),
        ("Die Einmal-PIN kam nicht", None),
        ("Code 4711 ging nicht", None),
        ("Kundennummer 1.234567", "Kundennummer [Nummer]"),  # groups joined by dots (s. 54)
        ("Tel 0171 2345678 3 Kinder", "Tel [Telefon] 3 Kinder"),
        ("Termin bei Frau Doktor Lehmann verschoben", "Termin bei [Name] verschoben"),
        # places named after someone, written without hyphens, stay; with a house number
        # they are an address
        ("Der Bus zum Willy Brandt Platz kam nicht.", None),
        ("Der Bus zur Karl Marx Straße fällt aus.", None),
        ("Die S-Bahn zum Flughafen Helmut Schmidt war voll.", None),
        ("Ich wohne in der Karl Marx Straße 12, Berlin", "Ich wohne in der [Adresse], Berlin"),
        ("Danke an Otto Müller vom Empfang", "Danke an [Name] vom Empfang"),
        # a person's names as often as a brand's stay a person's (the review)
        ("Paul Smith was rude to me at the counter.", "[Name] was rude to me at the counter."),
        # people named before a place's word stay people (the review)
        ("Ich habe mit Jens Weber Halle telefoniert", "Ich habe mit [Name] Halle telefoniert"),
        ("Ich heiße Anna Schmidt Krankenhaus", "Ich heiße [Name]"),
        ("Gymnasium Jens Weber hat mich angerufen.", "Gymnasium [Name] hat mich angerufen."),
        (
            "Behandelt hat mich Dr. Jens Weber Klinikum Nord.",
            "Behandelt hat mich [Name] Klinikum Nord.",
        ),
        ("Danke Rossmann für die Beratung", None),
        # found by the regression check of these changes: people named as places are
        # people, a hotel's own words no street, a map's pin no password
        ("Frau Damm an der Rezeption war sehr nett.", "[Name] an der Rezeption war sehr nett."),
        ("Kevin Ring at the front desk was rude.", "[Name] at the front desk was rude."),
        ("Danke an Maria Schule für alles.", "Danke an [Name] für alles."),
        ("Ins Stadion Fritz Walter kommt man gut mit der Tram.", None),
        ("Only a 5 Minute Walk from the station, great location.", None),
        ("Rated 5 Stars Close to the beach.", None),
        ("Address: 22 Park Close, Bristol BS1 4XX", "Address: [Adresse]"),
        ("The map-pin is 200 metres off.", None),
        ("Kd-Nr. 10.20.123456 bitte prüfen.", "Kd-Nr. 10.20.[Nummer] bitte prüfen."),
        ("Die Linie 030 12 34 56 7 Mal angerufen", "Die Linie [Telefon] 7 Mal angerufen"),
        ("Ersatzteil 00612345 fehlt", None),
        ("Joe the builder left a mess.", "[Name] the builder left a mess."),
        ("Gary, the engineer, was late.", "[Name], the engineer, was late."),
    ],
)
def test_what_the_precision_check_outside_hotels_of_session_52_found_goes_or_stays(
    comment: str, expected: str | None
) -> None:
    """Found by a precision check of comments to shops, trades, practices, garages,
    software and transport: staff named by roles of theirs stayed, while an article's
    number became a phone number, and error codes, updates, versions and issues numbers."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "contact"),
    [
        ("Artikel 0123456 fehlt.", False),
        ("Bestellung 0012345678 fehlt", False),
        ("Meine Nummer ist 0171 23 45 67 8.", True),
    ],
)
def test_a_product_or_order_number_is_no_contact_detail(comment: str, contact: bool) -> None:
    """The customer is told that staff cannot reach them through what they wrote only for
    contact details: an article's number had been one (found by the precision check)."""
    assert redaction.holds_contact_details(comment) is contact


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # an initial and a surname: after a title, where one works, after "Ich bin"
        ("Frau M. Weber hat mir geholfen", "[Name] hat mir geholfen"),
        ("Thanks to Mr J. Smith at the desk", "Thanks to [Name] at the desk"),
        ("Danke an Herrn K. Müller", "Danke an [Name]"),
        ("Mr J. R. Smith helped", "[Name] helped"),
        ("Herr M. war unfreundlich", "[Name] war unfreundlich"),
        ("Ich habe mit Frau S. gesprochen", "Ich habe mit [Name] gesprochen"),
        ("Mr. B. was rude", "[Name] was rude"),
        ("Frau Dr. A. Berger war gründlich", "[Name] war gründlich"),
        ("M. Weber vom Kundendienst war nett", "[Name] vom Kundendienst war nett"),
        ("Ich bin A. Schmidt aus Köln", "Ich bin [Name] aus Köln"),
        ("I'm J. Smith, order 123", "I'm [Name], order 123"),
        # an office, and "aus dem"
        ("Tom from IT fixed it quickly", "[Name] from IT fixed it quickly"),
        ("Sarah in accounts was rude", "[Name] in accounts was rude"),
        ("Tom from HR called", "[Name] from HR called"),
        ("Kevin aus dem Lager hat geholfen", "[Name] aus dem Lager hat geholfen"),
        # a UK National Insurance number; "Nr." before a house number
        ("Meine NI number is QQ 12 34 56 C", "Meine NI number is [Nummer]"),
        ("National Insurance number AB123456C", "National Insurance number [Nummer]"),
        ("Wir wohnen in der Hauptstraße Nr. 12", "Wir wohnen in der [Adresse]"),
        ("Wir wohnen in der Karl Marx Straße Nr. 12", "Wir wohnen in der [Adresse]"),
        ("Bahnhofstr. Nr.5, 10115 Berlin", "[Adresse]"),
        ("Tennisplatz Nr. 3 war nass", None),
        ("Am Marktplatz Nr. 3 ist ein Laden", None),
        # kept: the HR department, an abbreviation, a kind of customer
        ("HR called me back", None),
        ("the hr called me twice", None),
        ("z. B. Kaffee an der Bar war kalt", None),
        ("Ich bin A. Kunde seit Jahren", None),
        ("Mehr Personal in der Verwaltung wäre gut", None),
    ],
)
def test_what_the_left_items_of_session_52_go_or_stay(comment: str, expected: str | None) -> None:
    """Left by session 52: an initial and a surname ("Frau M. Weber"), or an initial alone
    after a title ("Herr M."), were kept whole, as
    were "Tom from IT" and "Kevin aus dem Lager"; "HR called me" became "[Name] me"."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # roles of gyms, courses, cinemas, landlords, utilities and insurers; neighbours
        ("coach Mike pushed me hard", "coach [Name] pushed me hard"),
        ("usher Kyle kicked us out", "usher [Name] kicked us out"),
        ("Platzanweiser Luca war nett", "Platzanweiser [Name] war nett"),
        ("maintenance guy Luis fixed the sink", "maintenance guy [Name] fixed the sink"),
        ("counter staff Gemma was lovely", "counter staff [Name] was lovely"),
        ("adjuster Brian Walsh was fair", "adjuster [Name] was fair"),
        (
            "Das Paket ging an meine Nachbarin Gerda Klein",
            "Das Paket ging an meine Nachbarin [Name]",
        ),
        ("the engineer Raj fitted the meter", "the engineer [Name] fitted the meter"),
        ("Der Ableser hieß Marek", "Der Ableser hieß [Name]"),
        ("Ey Kevin vom Tresen, dein Shake!", "Ey [Name] vom Tresen, dein Shake!"),
        ("Grüße an Ali am Grill", "Grüße an [Name] am Grill"),
        ("Trainerin heißt glaub ich Vanessa", "Trainerin heißt glaub ich [Name]"),
        # whom a course or a lesson was with
        (
            "Kurs Bodypump dienstags 18:30 mit Jenny ist voll",
            "Kurs Bodypump dienstags 18:30 mit [Name] ist voll",
        ),
        ("Nachhilfe bei Jonas war hilfreich", "Nachhilfe bei [Name] war hilfreich"),
        ("spin class with Rachel at 6:30am", "spin class with [Name] at 6:30am"),
        ("Ich war mit Anna dort", None),
        ("Tee mit Jasmin war lecker", None),
        # a first name in brackets
        (
            "Die Dame an der Kasse (Nicole) war genervt",
            "Die Dame an der Kasse ([Name]) war genervt",
        ),
        ("Mein Mann (Reinhard) und ich", "Mein Mann ([Name]) und ich"),
        ("der Kellner (ich glaube Lukas) war bemüht", "der Kellner (ich glaube [Name]) war bemüht"),
        ("Wir waren zu viert (Max 4 Personen)", None),
        # a thank-you or a greeting with more after it
        ("Thanks Maria! best birthday dinner ever", "Thanks [Name]! best birthday dinner ever"),
        ("Ging schnell, LG und danke Birgit", "Ging schnell, LG und danke [Name]"),
        ("Gruß Thorsten aus dem Allgäu", "Gruß [Name] aus dem Allgäu"),
        ("best night ever, love from Becky x", "best night ever, love from [Name] x"),
        ("Love from Palma Nova", None),
        ("Danke Berlin!", None),
        # a date of birth further on in its clause
        (
            "Geburtsdatum im System falsch (07.11.1991 statt 17.11.1991)",
            "Geburtsdatum im System falsch ([Nummer] statt [Nummer])",
        ),
        ("my date of birth (04/12/1979) was read out", "my date of birth ([Nummer]) was read out"),
        (
            "date of birth is wrong, should be 1985-07-23",
            "date of birth is wrong, should be [Nummer]",
        ),
        ("Geburtsdatum stimmt, aber Termin am 12.03.2024 war falsch", None),
        ("Geboren bin ich 1980, Vertrag seit 01.01.2001", None),
        # kept: meter readings, a version's first part, a device's model, words
        ("Zählerstand 45231 kWh gemeldet", None),
        # (near the reading's word only: "Vertragskonto 482913" after it is an id, a review)
        (
            "Zählerstand 18740 gemeldet, Vertragskonto 482913 falsch",
            "Zählerstand 18740 gemeldet, Vertragskonto [Nummer] falsch",
        ),
        (
            "Ich habe 3200 kWh verbraucht, PIN ist 482910",
            "Ich habe 3200 kWh verbraucht, PIN ist [Passwort]",
        ),
        ("Zählerstand falsch notiert: 23456 statt 23465", None),
        ("meter reading 12873 submitted on the 1st", None),
        # (not after "Stand" alone, a status: found by the last reading of the change)
        ("Stand der Bestellung 482913 unklar", "Stand der Bestellung [Nummer] unklar"),
        ("Zählerstand 23456, Kundennummer 1234567", "Zählerstand 23456, Kundennummer [Nummer]"),
        ("Speedport Smart 4, Firmware 010139.4.2", None),
        ("Netgear Nighthawk R7000 keeps dropping", None),
        ("my router R7000 is slow", None),
        ("Ernst gemeint: wie kann das sein?", None),
        ("Herr Hausmeister, bitte den Schnee räumen!", None),
        ("Herr Koch war nett", "[Name] war nett"),
        # found by the review of these rules: what stays
        ("Das Regal (Billy) kam ohne Schrauben", None),
        ("Wegen Sturm (Sabine) fiel der Zug aus", None),
        ("Thanks Ben & Jerry's for the free scoop", None),
        ("Danke Hans im Glück, bester Burger", None),
        ("Sending love from Jordan, amazing hotel.", None),
        ("Yogastunde mit Max. 8 Personen wäre besser", None),
        ("Beratungstermin bei Ernst & Young war gut", None),
        ("Data science workshop with Julia and Python", None),
        ("Der Kochkurs mit Jasmin-Reis und Curry war lecker", None),
        ("Geburtsdatum stimmt, aber die Police vom 01.07.2003 ist falsch", None),
        ("Date of birth was correct, the invoice dated 12/05/2008 was not.", None),
        ("Ersatzteil KM123456A fehlt", None),
        ("Die Waschstraße Nr. 2 war kaputt", None),
        ("The movie had Tom Hanks in it", None),
        ("Eine Bloody Mary am Tresen kostet 12 Euro", None),
        ("Z. B. Kaffee an der Bar war kalt", None),
        ("Ich bin M. Sc. Absolvent", None),
        ("We watched Coach Carter", None),
        ("Laptop Seriennummer SN12345 getauscht", "Laptop Seriennummer [Nummer] getauscht"),
        ("Meine Nummer für die App 01761234567.", "Meine Nummer für die App [Telefon]."),
        ("hr müller hat mir was anderes gesagt", "[Name] hat mir was anderes gesagt"),
        # and what goes
        ("Thanks again Jenna, you are a star", "Thanks again [Name], you are a star"),
        ("Gruß an Marek!", "Gruß an [Name]!"),
        ("Kurs mit Jenny und Marco war toll", "Kurs mit [Name] und [Name] war toll"),
        ("Geburtsdatum meiner Tochter ist 12.03.2012", "Geburtsdatum meiner Tochter ist [Nummer]"),
        ("ni number ab 12 34 56 c", "ni number [Nummer]"),
        ("Frank von der Hausverwaltung reagiert nie", "[Name] von der Hausverwaltung reagiert nie"),
        ("Paket beim Nachbarn Schulz abgegeben", "Paket beim Nachbarn [Name] abgegeben"),
        # left by the precision check
        ("Meine Kundennr ist K12-883-201", "Meine Kundennr ist [Nummer]"),
        ("Reservierung auf H. Schulze für den 3.8.", "Reservierung auf [Name] für den 3.8."),
        ("Reservierung auf Terrasse war nicht möglich", None),
        ("Bestellung auf Rechnung ging nicht", None),
    ],
)
def test_what_the_precision_check_of_session_53_found_goes_or_stays(
    comment: str, expected: str | None
) -> None:
    """Found by a precision check of comments from restaurants, providers, offices, gyms,
    landlords, schools, insurers, utilities, parcel services and cinemas: staff named by
    roles not known, in brackets, after "mit" in a course or after a thank-you with more
    after it stayed, as did dates of birth further on in their clause; meter readings, a
    firmware's version, a router's model, "Ernst gemeint" and "Herr Hausmeister" went."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # ids: grouped before a comma, joined by dots, after any word for a number
        ("Depotnummer 4412 887 01, Ordergebühr falsch", "Depotnummer [Nummer], Ordergebühr falsch"),
        ("Buchungsnummer 4411.887.223 bitte prüfen", "Buchungsnummer [Nummer] bitte prüfen"),
        ("Vertragsnummer 88 123 456 7, bitte", "Vertragsnummer [Nummer], bitte"),
        ("Gepäckermittlungsnummer FRALH12345", "Gepäckermittlungsnummer [Nummer]"),
        ("Matrikelnr. AB1234567, bitte", "Matrikelnr. [Nummer], bitte"),
        ("Benutzerkennung st123456 gesperrt", "Benutzerkennung [Handle] gesperrt"),
        ("Frank Vogel, Buchhaltung, Durchwahl 214", "[Name], Buchhaltung, Durchwahl [Telefon]"),
        # titles that are callings, and in small letters
        ("Doktor Lehmann war nett", "[Name] war nett"),
        ("frau doktor lehmann hat nicht zugehört", "[Name] hat nicht zugehört"),
        ("die ärztin dr. lehmann sagt", "die ärztin [Name] sagt"),
        ("Pfarrer Müller hat schön gepredigt", "[Name] hat schön gepredigt"),
        # first names: after new roles and cues, set off by commas, opening a sentence
        ("Die Tierarzthelferin Jana war einfühlsam", "Die Tierarzthelferin [Name] war einfühlsam"),
        ("Die MFA Sandra war unfreundlich", "Die MFA [Name] war unfreundlich"),
        ("LG Renate aus Zimmer 12", "LG [Name] aus Zimmer 12"),
        (
            "Der Mann an Kasse 2, Tim glaub ich, war nett",
            "Der Mann an Kasse 2, [Name] glaub ich, war nett",
        ),
        ("Sandra ist die beste Friseurin", "[Name] ist die beste Friseurin"),
        ("Toller Schnitt. Paula hat alles erklärt.", "Toller Schnitt. [Name] hat alles erklärt."),
        ("Sandra, danke für den Schnitt!", "[Name], danke für den Schnitt!"),
        # signatures with who they are after them, or an initial
        (
            "Farbe wie Rost. Yvonne Schädlich, Kundin seit 2015",
            "Farbe wie Rost. [Name], Kundin seit 2015",
        ),
        ("Fotos habe ich. K. Schröder", "Fotos habe ich. [Name]"),
        ("Kratzer an der Tür\nK. Kowalczyk", "Kratzer an der Tür\n[Name]"),
        # what stays
        ("Artikelnummer AB12345 ist falsch", None),
        ("Modellnummer KDL55X8505 geht nicht", None),
        ("Fehlercode E1234 kommt", None),
        ("Das kostet 1 234 567,89 Euro", None),
        ("1 000 000, das ist viel", None),
        ("Ich hatte beim Doktor Termine verschoben", None),
        ("Doktor Termin war zu spät", None),
        ("Captain Morgan mit Cola war zu teuer", None),
        ("Kapitän Iglo Fischstäbchen waren kalt", None),
        ("Max ist ein toller Hund", None),
        ("Jasmin-Reis war pappig", None),
        ("Wir brauchen Vitamin D. Super", None),
        ("Schnelle Lieferung. Typ C. Stecker", None),
        ("Fensterplatz 23A gebucht, Fenster gab es nicht", None),
        ("Tropfen abgelaufen seit 08/2023", None),
        ("Apparat 12 mal abgestürzt", None),
        ("die App. 12 mal abgestürzt", None),
        ("ich war beim dr. und dann", None),
        # found by the review of these rules: things, shows and pets with first names, a
        # verb after "dr.", a part's number, a list of rooms, a book after a writer
        ("war beim dr. wegen rücken", None),
        ("dr. oetker pizza war kalt", None),
        ("Emma ist viel zu weich, die Matratze geht zurück", None),
        ("Carmen war großartig, die Sängerin hatte eine tolle Stimme", None),
        ("Anna war super", None),
        ("Buch gekauft. Thomas Mann, Zauberberg", None),
        ("Apparat 3000 ist kaputt", None),
        ("Die Sachnummer 1K0615301AA passt nicht zu meinem Golf", None),
        ("Die ISBN-Nummer 386680192X ist falsch im Katalog", None),
        ("Die Zimmer 101 102 103, alle dreckig", None),
        ("Die MFA Microsoft Authenticator geht nicht", None),
        ("Der Tierarzt mit meinem Hund, Luna, war sehr geduldig", None),
        ("Doktor Martens Stiefel sind kaputt", None),
        ("Meine Kennung ist st123456", "Meine Kennung ist [Handle]"),
    ],
)
def test_what_the_precision_check_of_session_54_found_goes_or_stays_in_german(
    comment: str, expected: str | None
) -> None:
    """Found by a precision check of practices, pharmacies, banks, travel, salons,
    garages, universities, utilities and helpdesks: ids after words no list had, callings
    as titles, first names with no role before them, signatures with more after them."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("lost luggage claim LHRBA45123, 3 weeks", "lost luggage claim [Number], 3 weeks"),
        ("smart meter serial 20L1234567 offline", "smart meter serial [Number] offline"),
        ("My NHS number is 943 476 5919.", "My NHS number is [Number]."),
        ("Professor Whitfield hasn't replied", "[Name] hasn't replied"),
        ("Captain Roberts kept us informed", "[Name] kept us informed"),
        # "Miss" as a title (session 56), not in a song, a show or a brand
        ("Miss Smith was very rude to us.", "[Name] was very rude to us."),
        ("Thank you Miss Smith for your patience!", "Thank you [Name] for your patience!"),
        ("Miss Dior was sold out at the counter.", None),
        ("Dont Miss Taylor Swift night", None),
        ("Miss Smith at reception was lovely", "[Name] at reception was lovely"),
        ("I Miss You is my favourite song", None),
        ("We saw Miss Saigon, great show", None),
        ("Miss Marple was on TV in the lounge", None),
        ("Little Miss Sunshine was shown", None),
        ("Dont Miss Out on the brunch", None),
        ("nail tech Kim was on her phone", "nail tech [Name] was on her phone"),
        ("librarian Fiona helped me", "librarian [Name] helped me"),
        (
            "the lady at the counter, Janet, was lovely",
            "the lady at the counter, [Name], was lovely",
        ),
        (
            "advisor on the phone, Jason, promised a call",
            "advisor on the phone, [Name], promised a call",
        ),
        # what stays
        ("Douglas had a great range of perfumes.", None),
        ("Room with 2 Sea View balconies", None),
        ("Professor Layton game", None),
        ("The captain said we would be late", None),
        ("Model WH1000XM4 is great", None),
        ("Captain Crunch was stale", None),
        ("the watch reference 116610LN was sold as new", None),
        ("my hair extension 200 strands came loose", None),
        ("Matilda was brilliant, the kids loved it", None),
        ("Jenny was so friendly and helpful", "[Name] was so friendly and helpful"),
    ],
)
def test_what_the_precision_check_of_session_54_found_goes_or_stays_in_english(
    comment: str, expected: str | None
) -> None:
    assert redact(comment, EN) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # roles of ski schools, funerals, offices, weddings, care and cinemas (found by a
        # precision check of such comments: each name stayed)
        ("Skilehrer Hannes war super", "Skilehrer [Name] war super"),
        ("Skilehrerin Vreni war geduldig", "Skilehrerin [Name] war geduldig"),
        ("Trauerbegleiterin Anja hat geholfen", "Trauerbegleiterin [Name] hat geholfen"),
        ("Buchhalterin Kerstin antwortet schnell", "Buchhalterin [Name] antwortet schnell"),
        ("Vorarbeiter Sascha war top", "Vorarbeiter [Name] war top"),
        ("Saalordner Goran war grob", "Saalordner [Name] war grob"),
        (
            "Kundenservice-Mitarbeiterin Janine war nett",
            "Kundenservice-Mitarbeiterin [Name] war nett",
        ),
        ("Funeral director Siobhan sat with us", "Funeral director [Name] sat with us"),
        ("My accountant James Thornton was late", "My accountant [Name] was late"),
        ("Our planner Francesca was perfect", "Our planner [Name] was perfect"),
        ("Box office assistant Eleanor helped", "Box office assistant [Name] helped"),
        ("danke an jenny und tobi von der deko", "danke an [Name] und [Name] von der deko"),
        # a role that is a thing too keeps what follows unless it is a first name
        ("Der Ordner Dokumente ist leer", None),
        ("The Planner Pro app crashed", None),
    ],
)
def test_names_after_the_roles_of_session_55_go(comment: str, expected: str | None) -> None:
    for language in (DE, EN):  # (the placeholder is "[Name]" in both)
        assert redact(comment, language) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a number in groups or with letters after the word of a person's matter
        ("policennummer 4471-229-01 bitte prüfen", "policennummer [Nummer] bitte prüfen"),
        (
            "Vertragskonto 5500-1234-77. Bitte korrigieren.",
            "Vertragskonto [Nummer]. Bitte korrigieren.",
        ),
        ("Kundenkarte 4400 1987 – Punkte fehlen", "Kundenkarte [Nummer] – Punkte fehlen"),
        ("Objektnummer 445-22-81 wurde storniert", "Objektnummer [Nummer] wurde storniert"),
        ("Kassenzeichen 4471-229-01", "Kassenzeichen [Nummer]"),
        (
            "Schadennummer 2024/SN/55812 – Gutachter kam nie",
            "Schadennummer [Nummer] – Gutachter kam nie",
        ),
        # a street and then a time or a way along it is no address
        (
            "Wir sind an der Bushaltestelle Goethestraße 40 Minuten im Regen gestanden",
            None,
        ),
        ("Stadtwerke haben die ganze Gartenstraße 3 Tage ohne Warmwasser gelassen", None),
        ("Ab Bahnhofstraße 2 Stationen mit der U3", None),
        (
            "Ich wohne Hauptstraße 12 und warte seit Tagen",
            "Ich wohne [Adresse] und warte seit Tagen",
        ),
        # a role as German declines it, and first names no list had
        ("Frag doch mal Kollegen Stefan", "Frag doch mal Kollegen [Name]"),
        ("Taufe unseres Sohnes Ben am 14.7.", "Taufe unseres Sohnes [Name] am 14.7."),
        ("Die Helferin Maike hat Luna versorgt", "Die Helferin [Name] hat Luna versorgt"),
        ("dank Azubi Marvin 🥰", "dank Azubi [Name] 🥰"),
        ("Die Fahrer kamen pünktlich", None),
        ("Des Chefs Laune war mies", None),
        # found by the review of those rules: declined roles before things, counts after
        # the new words, and an address said as one before a time
        ("Auf Empfehlung des Kellners Aperol Spritz bestellt", None),
        ("Der Empfang des Senders Sky Sport war schlecht", None),
        ("Beim Kochen Jamie Oliver Rezepte nachgemacht", None),
        ("den Kindern Max und Moritz vorgelesen", None),
        ("Kundenkarte 5000 Punkte gesammelt aber kein Rabatt", None),
        ("Die Kundenkarte 2024 ist abgelaufen", None),
        ("Vertragskonto 1200 Euro im Minus?!", None),
        ("Mieternummer U-24-7719 steht im Schreiben", "Mieternummer [Nummer] steht im Schreiben"),
        (
            "Meine Adresse ist Bahnhofstraße 14 Stunden später kam der Techniker",
            "Meine Adresse ist [Adresse] Stunden später kam der Techniker",
        ),
        (
            "Ich wohne in der Goethestraße 12 mal wieder kein Internet!",
            "Ich wohne in der [Adresse] mal wieder kein Internet!",
        ),
    ],
)
def test_what_the_precision_check_of_session_56_found_goes_or_stays_in_german(
    comment: str, expected: str | None
) -> None:
    """Found by a precision check of banks, insurers, utilities, transport, offices and
    vets: numbers in groups after words no list had, and streets before a time."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Frequent flyer no. 88 233 491 - miles never credited",
            "Frequent flyer no. [Number] - miles never credited",
        ),
        ("My wristband ID 0004-8812-77 didn't load", "My wristband ID [Number] didn't load"),
        ("Client number 4471-229-01 please check", "Client number [Number] please check"),
    ],
)
def test_what_the_precision_check_of_session_56_found_goes_in_english(
    comment: str, expected: str
) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a full name right before a phone number or a mail address, a space between
        (
            "Rückruf: Claudia Eberhardt 06221 558834",
            "Rückruf: [Name] [Telefon]",
        ),
        ("Bitte an Anna Schmidt anna@example.org schreiben", "Bitte an [Name] [E-Mail] schreiben"),
        ("Tom Tailor 0800 1234567 ist die Hotline", None),
        ("Der Laden Media Markt 0800 123 4567 war zu", None),
        # "geb" without its dot
        ("Helmut Krämer, geb 11.09.1994, Zimmer 12", "[Name], geb [Nummer], Zimmer 12"),
        ("Das Geb 3 war zu", None),
        # roles and first names no list had
        ("Nachtwache Oksana war lieb", "Nachtwache [Name] war lieb"),
        ("Hundefriseurin Jasmin war toll", "Hundefriseurin [Name] war toll"),
        ("Oma Käthe freut sich", "Oma [Name] freut sich"),
        ("Olli vom Service war super", "[Name] vom Service war super"),
        ("Die Nachtwache war nett", None),
        ("Der Hundefriseur Pfötchen Paradies war teuer", None),
        # first names in brackets after someone: with an age, several, after a clause of
        # who they are, in small letters where the comment is
        ("mein kind (Ella, 4) hat sich geschnitten", "mein kind ([Name], 4) hat sich geschnitten"),
        (
            "Wir waren mit den Enkeln (Paul, Emma und Sophie) im Zoo",
            "Wir waren mit den Enkeln ([Name], [Name] und [Name]) im Zoo",
        ),
        (
            "Der Pfleger, der am Wochenende kommt (Piotr), ist so geduldig",
            "Der Pfleger, der am Wochenende kommt ([Name]), ist so geduldig",
        ),
        (
            "der vermieter (heiko) hat sich nicht gemeldet",
            "der vermieter ([Name]) hat sich nicht gemeldet",
        ),
        ("Der Laden (Rewe, Edeka und Aldi) war voll", None),
        ("Unsere Freunde (Anna und Kaffee) kamen", None),
        ("Das Regal (Billy) ist wackelig", None),
        ("wir haben die sorten (anna, berta) probiert", None),
        ("Die Verkäuferin (ca. 50) war nett", None),
        # a court is no street
        ("Tennisplatz 3 hat Risse, die Halle ist gut", None),
        ("Ich wohne Am Sportplatz 3", "Ich wohne Am [Adresse]"),
    ],
)
def test_what_the_precision_check_of_session_57_found_goes_or_stays_in_german(
    comment: str, expected: str | None
) -> None:
    """Found by a precision check of care services, sports clubs, dog salons, couriers
    and other trades."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Installer Gavin was great", "Installer [Name] was great"),
        ("the installer Ubuntu Pro crashed", "the installer Ubuntu Pro crashed"),
        ("Recruiter Hayley never called back", "Recruiter [Name] never called back"),
        ("Delivery driver Wojtek was late", "Delivery driver [Name] was late"),
        ("my son Jayden loved it", "my son [Name] loved it"),
        ("Call Sarah Miller 0151 2345678 please", "Call [Name] [Phone] please"),
        ("Call Sarah Miller mobile 0151 2345678", "Call [Name] mobile [Phone]"),
    ],
)
def test_what_the_precision_check_of_session_57_found_goes_in_english(
    comment: str, expected: str
) -> None:
    assert redact(comment, EN) == expected


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("unit", "has_personal_data"),
    [
        # 4096 characters of what the rules of session 57 look for (each is measured for
        # speed by `python -m benchmarks input`, which takes its units from here)
        ("Rückruf: Claudia Eberhardt 0151 2345678 ", True),
        ("Claudia Eberhardt ", False),
        ("mein kind (Ella, 4) ", True),
        ("mit den Enkeln (Paul, Emma und Sophie) ", True),
        ("der vermieter (heiko) ", True),
        ("(heiko) ", False),
        ("Der Pfleger, der kommt (Piotr), ", True),
        ("geb 11.09.1994 ", True),
        ("Tennisplatz 3 ", False),
    ],
)
def test_a_long_comment_of_what_the_session_57_rules_look_for_runs_through(
    unit: str, has_personal_data: bool
) -> None:
    text = (unit * (4096 // len(unit) + 1))[:4096]
    assert (redact(text, DE) != text) is has_personal_data


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # a name said again, with nothing about it that the rules know
        (
            "Der Kellner Tobias war unhöflich. Später hat Tobias uns ignoriert.",
            "Der Kellner [Name] war unhöflich. Später hat [Name] uns ignoriert.",
        ),
        (
            "Frau Kowalczyk war nett. Ich habe Kowalczyk dann angerufen.",
            "[Name] war nett. Ich habe [Name] dann angerufen.",
        ),
        (
            "der hausmeister (heiko) ist nett, heiko hilft immer",
            "der hausmeister ([Name]) ist nett, [Name] hilft immer",
        ),
        # roles of kitchens, movers, tax offices, kindergartens and flights
        ("Die Küchenfrau Roswitha kann nix dafür.", "Die Küchenfrau [Name] kann nix dafür."),
        ("Möbelpacker Dragan und Sascha waren top", "Möbelpacker [Name] und [Name] waren top"),
        ("Danke an die Steuerfachangestellte Melanie", "Danke an die Steuerfachangestellte [Name]"),
        ("Die Gruppenleitung Tanja weiß es", "Die Gruppenleitung [Name] weiß es"),
        ("Passagierin Claudia Fenske, Sitz 14C", "Passagierin [Name], Sitz 14C"),
        # first names in brackets after someone
        ("Die Trainerin (Lisa) war super", "Die Trainerin ([Name]) war super"),
        (
            "Meine Mutter (Waltraud Engel, 91) hat Pflegegrad 3",
            "Meine Mutter ([Name], 91) hat Pflegegrad 3",
        ),
        (
            "Mein Mann (Rüdiger Voss, geb. 02.11.1956) ist verstorben",
            "Mein Mann ([Name], geb. [Nummer]) ist verstorben",
        ),
        (
            "Wir (Kathrin & Dominik Schulz) haben angezahlt",
            "Wir ([Name] & [Name] [Name]) haben angezahlt",
        ),
        ("Die Kinder (Paul und Emma) hatten Spaß", "Die Kinder ([Name] und [Name]) hatten Spaß"),
        (
            "Das Kind, das neben uns saß (Mia), war laut",
            "Das Kind, das neben uns saß ([Name]), war laut",
        ),
        (
            "Unsere Tochter (Ella, 4 Jahre alt) hat geweint",
            "Unsere Tochter ([Name], 4 Jahre alt) hat geweint",
        ),
        ("Unser Kleiner (Matteo, 2) bekommt Milch", "Unser Kleiner ([Name], 2) bekommt Milch"),
        # a name before "Tel.", a first name alone before it, a maiden name
        ("Rückruf an Claudia Eberhardt Tel. 0621 123456", "Rückruf an [Name] Tel. [Telefon]"),
        ("Bitte Rückruf: Claudia Tel 0621 123456", "Bitte Rückruf: [Name] Tel [Telefon]"),
        (
            "Meine Mutter (Waltraud, geb. Engel) lebt im Heim",
            "Meine Mutter ([Name], geb. [Name]) lebt im Heim",
        ),
        # numbers under words not known before
        ("Wohnungsnummer 12-0334 ist falsch", "Wohnungsnummer [Nummer] ist falsch"),
        ("Schülernummer 2023-0419.", "Schülernummer [Nummer]."),
        ("PIR-Nummer PMIEW12345, bitte melden", "PIR-Nummer [Nummer], bitte melden"),
        ("Stammkundenkarte Nr. 4477 voll", "Stammkundenkarte Nr. [Nummer] voll"),
        ("Reservierung 8842 1107.", "Reservierung [Nummer]."),
        # a key safe's code
        (
            "Zugangscode für den Schlüsselkasten 4471.",
            "Zugangscode für den Schlüsselkasten [Passwort].",
        ),
        # a name at a door
        ("Adresse: 2. OG, Klingel Haberkorn", "Adresse: 2. OG, Klingel [Name]"),
        ("Bitte nicht klingeln bei Wagner, danke", "Bitte nicht klingeln bei [Name], danke"),
        ("Türschild: Nowak / Brandt, 2. OG", "Türschild: [Name], 2. OG"),
        # after a wife, as before; after a grandmother with an age
        ("Meine Frau (Petra Haberland) war dabei", "Meine Frau ([Name]) war dabei"),
        ("Meine Oma (Ingrid, geb. Schulte) feiert", "Meine Oma ([Name], geb. [Name]) feiert"),
        (
            "Der Fahrer hat es bei Krause im EG abgelegt.",
            "Der Fahrer hat es bei [Name] im EG abgelegt.",
        ),
        # left as they are: a word said again that is a thing there, a number's word,
        # when to ring, a neighbour, a shop, a booking in parts, a thing's name, an
        # airline thanked, times
        ("Herr Koch war nett. Der Koch war schlecht.", "[Name] war nett. Der Koch war schlecht."),
        (
            "Kellner Max war da. Max. 5 Minuten Wartezeit.",
            "Kellner [Name] war da. Max. 5 Minuten Wartezeit.",
        ),
        (
            "Die Kellnerin Jasmin war nett, der Jasmin-Reis kalt.",
            "Die Kellnerin [Name] war nett, der Jasmin-Reis kalt.",
        ),
        ("Klingel Nr. 14 geht nicht", None),
        ("Bitte klingeln bei Ankunft", None),
        ("bei Rewe im EG gibt es Brot", None),
        ("Buchung 1234/5678", None),
        ("Mutter Erde (Gaia) ist toll", None),
        ("Das Regal (Billy) wackelt", None),
        # (the review of those rules: each lost what staff need)
        (
            "Herr Bäcker war nett. Beim Bäcker war es voll.",
            "[Name] war nett. Beim Bäcker war es voll.",
        ),
        (
            "Der Kellner Luca war super. Wir hatten die Pizza Luca.",
            "Der Kellner [Name] war super. Wir hatten die Pizza Luca.",
        ),
        (
            "Kellner Ben war toll, dazu Ben & Jerry's.",
            "Kellner [Name] war toll, dazu Ben & Jerry's.",
        ),
        (
            "Fahrer Christian war nett, er roch nach Christian Dior.",
            "Fahrer [Name] war nett, er roch nach Christian Dior.",
        ),
        ("Briefkasten Voll.", None),
        ("Briefkasten Hofseite.", None),
        ("Bitte klingeln bei Schmerzen.", None),
        ("Abus Schlüsselbox 797 ist gut", None),
        ("Schlüsselsafe 2023 eingebaut", None),
        ("Pension Anna Tel. 0621 123456", "Pension Anna Tel. [Telefon]"),
        (
            "Herr Keller war da. Waschküche und Keller sind nass.",
            "[Name] war da. Waschküche und Keller sind nass.",
        ),
        (
            "Erzieher Moritz las mit den Kindern Max und Moritz.",
            "Erzieher [Name] las mit den Kindern Max und Moritz.",
        ),
        ("Klingel Geht nicht", None),
        ("bei Zara im EG", None),
        ("Meine Oma (Maria Trost) wird gut versorgt.", None),
        ("Wir (Anna & Tom Vegetarier) essen kein Fleisch", None),
        ("Der Schlüsselkasten war 1200 Euro teuer", None),
        ("Schlüsselkasten 120 cm breit", None),
        ("Alarm Code 404 Fehlermeldung", None),
        ("Reservierung 1800 2000 Uhr war nicht möglich", None),
        ("Buchung 2023 2024", None),
        ("Die Alarmanlage ging um 2300 los", None),
        ("Der Schlüsselkasten war 10 Minuten offen", None),
    ],
)
def test_what_the_precision_check_of_session_58_found_goes_or_stays(
    comment: str, expected: str | None
) -> None:
    """Found by a precision check of 300 comments to landlords, kindergartens, banks,
    airlines, offices, vets, undertakers, driving schools, movers, cleaners and parcel
    services: each name, number or code stayed, or (below) what must stay."""
    assert redact(comment, DE) == (comment if expected is None else expected)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Crew member Leanne was rude to my mum", "Crew member [Name] was rude to my mum"),
        ("Our cleaner, Marisol, is wonderful.", "Our cleaner, [Name], is wonderful."),
        ("I think her name was Bernadette, so kind", "I think her name was [Name], so kind"),
        ("Keysafe code is 2580, please stop", "Keysafe code is [Password], please stop"),
        ("Please ring at Flat 3", None),
        ("Call Sarah Phone 0161 496 0000", "Call [Name] Phone [Phone]"),
        (
            "The crew lead Bridget was calm. Bridget said so.",
            "The crew lead [Name] was calm. [Name] said so.",
        ),
    ],
)
def test_what_the_precision_check_of_session_58_found_in_english(
    comment: str, expected: str | None
) -> None:
    assert redact(comment, EN) == (comment if expected is None else expected)

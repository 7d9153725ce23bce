"""States and territories: for addresses abroad (``address_abroad``) and for a state (``country``).

ISO 3166-1 alpha-2 codes with their short names in German and English, as the FIM data field
group "Anschrift Ausland" asks for the state ("Staat"). Germany (``DE``) is not among them:
addresses in Germany use the field type ``address`` (FIM "Anschrift Inland"). ``XK`` (Kosovo) is
the user-assigned code the EU and the German authorities use until ISO assigns one.

The names are the short forms people look for in a list ("Russland", "Südkorea", "Bolivia"),
not the formal ones ("Russische Föderation", "Korea, Republik", "Bolivia, Plurinational State
of"); ISO's formal names would sort a state where nobody looks for it.

The field type ``country`` (a state of birth, a nationality) offers Germany too, first, and for a
nationality the two statuses of ICAO Doc 9303 part 3 that are not states: ``XXA`` (stateless)
and ``XXX`` (nationality not determined).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import TypeGuard

from django.utils.translation import get_language

#: Addresses in this country use the field type ``address``.
HOME_COUNTRY = "DE"

#: The home state's names, for the field type ``country``.
HOME_NAMES = ("Deutschland", "Germany")

#: Nationalities that are no state (ICAO Doc 9303 part 3, the codes of machine-readable
#: passports), offered by a ``country`` field with ``nationality = true``.
NATIONALITY_STATUSES: dict[str, tuple[str, str]] = {
    "XXA": ("staatenlos", "stateless"),
    "XXX": ("ungeklärt", "not determined"),
}

#: Code → (German name, English name).
COUNTRIES: dict[str, tuple[str, str]] = {
    "AD": ("Andorra", "Andorra"),
    "AE": ("Vereinigte Arabische Emirate", "United Arab Emirates"),
    "AF": ("Afghanistan", "Afghanistan"),
    "AG": ("Antigua und Barbuda", "Antigua and Barbuda"),
    "AI": ("Anguilla", "Anguilla"),
    "AL": ("Albanien", "Albania"),
    "AM": ("Armenien", "Armenia"),
    "AO": ("Angola", "Angola"),
    "AQ": ("Antarktis", "Antarctica"),
    "AR": ("Argentinien", "Argentina"),
    "AS": ("Amerikanisch-Samoa", "American Samoa"),
    "AT": ("Österreich", "Austria"),
    "AU": ("Australien", "Australia"),
    "AW": ("Aruba", "Aruba"),
    "AX": ("Ålandinseln", "Åland Islands"),
    "AZ": ("Aserbaidschan", "Azerbaijan"),
    "BA": ("Bosnien und Herzegowina", "Bosnia and Herzegovina"),
    "BB": ("Barbados", "Barbados"),
    "BD": ("Bangladesch", "Bangladesh"),
    "BE": ("Belgien", "Belgium"),
    "BF": ("Burkina Faso", "Burkina Faso"),
    "BG": ("Bulgarien", "Bulgaria"),
    "BH": ("Bahrain", "Bahrain"),
    "BI": ("Burundi", "Burundi"),
    "BJ": ("Benin", "Benin"),
    "BL": ("Saint-Barthélemy", "Saint Barthélemy"),
    "BM": ("Bermuda", "Bermuda"),
    "BN": ("Brunei", "Brunei"),
    "BO": ("Bolivien", "Bolivia"),
    "BQ": ("Bonaire, Sint Eustatius und Saba", "Bonaire, Sint Eustatius and Saba"),
    "BR": ("Brasilien", "Brazil"),
    "BS": ("Bahamas", "Bahamas"),
    "BT": ("Bhutan", "Bhutan"),
    "BV": ("Bouvet-Insel", "Bouvet Island"),
    "BW": ("Botsuana", "Botswana"),
    "BY": ("Belarus", "Belarus"),
    "BZ": ("Belize", "Belize"),
    "CA": ("Kanada", "Canada"),
    "CC": ("Kokosinseln", "Cocos (Keeling) Islands"),
    "CD": ("Kongo, Demokratische Republik", "Congo, Democratic Republic of the"),
    "CF": ("Zentralafrikanische Republik", "Central African Republic"),
    "CG": ("Kongo, Republik", "Congo, Republic of the"),
    "CH": ("Schweiz", "Switzerland"),
    "CI": ("Côte d'Ivoire", "Côte d'Ivoire"),
    "CK": ("Cookinseln", "Cook Islands"),
    "CL": ("Chile", "Chile"),
    "CM": ("Kamerun", "Cameroon"),
    "CN": ("China", "China"),
    "CO": ("Kolumbien", "Colombia"),
    "CR": ("Costa Rica", "Costa Rica"),
    "CU": ("Kuba", "Cuba"),
    "CV": ("Cabo Verde", "Cabo Verde"),
    "CW": ("Curaçao", "Curaçao"),
    "CX": ("Weihnachtsinsel", "Christmas Island"),
    "CY": ("Zypern", "Cyprus"),
    "CZ": ("Tschechien", "Czechia"),
    "DJ": ("Dschibuti", "Djibouti"),
    "DK": ("Dänemark", "Denmark"),
    "DM": ("Dominica", "Dominica"),
    "DO": ("Dominikanische Republik", "Dominican Republic"),
    "DZ": ("Algerien", "Algeria"),
    "EC": ("Ecuador", "Ecuador"),
    "EE": ("Estland", "Estonia"),
    "EG": ("Ägypten", "Egypt"),
    "EH": ("Westsahara", "Western Sahara"),
    "ER": ("Eritrea", "Eritrea"),
    "ES": ("Spanien", "Spain"),
    "ET": ("Äthiopien", "Ethiopia"),
    "FI": ("Finnland", "Finland"),
    "FJ": ("Fidschi", "Fiji"),
    "FK": ("Falklandinseln", "Falkland Islands"),
    "FM": ("Mikronesien", "Micronesia"),
    "FO": ("Färöer", "Faroe Islands"),
    "FR": ("Frankreich", "France"),
    "GA": ("Gabun", "Gabon"),
    "GB": ("Vereinigtes Königreich", "United Kingdom"),
    "GD": ("Grenada", "Grenada"),
    "GE": ("Georgien", "Georgia"),
    "GF": ("Französisch-Guyana", "French Guiana"),
    "GG": ("Guernsey", "Guernsey"),
    "GH": ("Ghana", "Ghana"),
    "GI": ("Gibraltar", "Gibraltar"),
    "GL": ("Grönland", "Greenland"),
    "GM": ("Gambia", "Gambia"),
    "GN": ("Guinea", "Guinea"),
    "GP": ("Guadeloupe", "Guadeloupe"),
    "GQ": ("Äquatorialguinea", "Equatorial Guinea"),
    "GR": ("Griechenland", "Greece"),
    "GS": (
        "Südgeorgien und die Südlichen Sandwichinseln",
        "South Georgia and the South Sandwich Islands",
    ),
    "GT": ("Guatemala", "Guatemala"),
    "GU": ("Guam", "Guam"),
    "GW": ("Guinea-Bissau", "Guinea-Bissau"),
    "GY": ("Guyana", "Guyana"),
    "HK": ("Hongkong", "Hong Kong"),
    "HM": ("Heard und McDonaldinseln", "Heard Island and McDonald Islands"),
    "HN": ("Honduras", "Honduras"),
    "HR": ("Kroatien", "Croatia"),
    "HT": ("Haiti", "Haiti"),
    "HU": ("Ungarn", "Hungary"),
    "ID": ("Indonesien", "Indonesia"),
    "IE": ("Irland", "Ireland"),
    "IL": ("Israel", "Israel"),
    "IM": ("Insel Man", "Isle of Man"),
    "IN": ("Indien", "India"),
    "IO": ("Britisches Territorium im Indischen Ozean", "British Indian Ocean Territory"),
    "IQ": ("Irak", "Iraq"),
    "IR": ("Iran", "Iran"),
    "IS": ("Island", "Iceland"),
    "IT": ("Italien", "Italy"),
    "JE": ("Jersey", "Jersey"),
    "JM": ("Jamaika", "Jamaica"),
    "JO": ("Jordanien", "Jordan"),
    "JP": ("Japan", "Japan"),
    "KE": ("Kenia", "Kenya"),
    "KG": ("Kirgisistan", "Kyrgyzstan"),
    "KH": ("Kambodscha", "Cambodia"),
    "KI": ("Kiribati", "Kiribati"),
    "KM": ("Komoren", "Comoros"),
    "KN": ("St. Kitts und Nevis", "Saint Kitts and Nevis"),
    "KP": ("Nordkorea", "North Korea"),
    "KR": ("Südkorea", "South Korea"),
    "KW": ("Kuwait", "Kuwait"),
    "KY": ("Kaimaninseln", "Cayman Islands"),
    "KZ": ("Kasachstan", "Kazakhstan"),
    "LA": ("Laos", "Laos"),
    "LB": ("Libanon", "Lebanon"),
    "LC": ("St. Lucia", "Saint Lucia"),
    "LI": ("Liechtenstein", "Liechtenstein"),
    "LK": ("Sri Lanka", "Sri Lanka"),
    "LR": ("Liberia", "Liberia"),
    "LS": ("Lesotho", "Lesotho"),
    "LT": ("Litauen", "Lithuania"),
    "LU": ("Luxemburg", "Luxembourg"),
    "LV": ("Lettland", "Latvia"),
    "LY": ("Libyen", "Libya"),
    "MA": ("Marokko", "Morocco"),
    "MC": ("Monaco", "Monaco"),
    "MD": ("Moldau", "Moldova"),
    "ME": ("Montenegro", "Montenegro"),
    "MF": ("Saint-Martin (französischer Teil)", "Saint Martin (French part)"),
    "MG": ("Madagaskar", "Madagascar"),
    "MH": ("Marshallinseln", "Marshall Islands"),
    "MK": ("Nordmazedonien", "North Macedonia"),
    "ML": ("Mali", "Mali"),
    "MM": ("Myanmar", "Myanmar"),
    "MN": ("Mongolei", "Mongolia"),
    "MO": ("Macau", "Macao"),
    "MP": ("Nördliche Marianen", "Northern Mariana Islands"),
    "MQ": ("Martinique", "Martinique"),
    "MR": ("Mauretanien", "Mauritania"),
    "MS": ("Montserrat", "Montserrat"),
    "MT": ("Malta", "Malta"),
    "MU": ("Mauritius", "Mauritius"),
    "MV": ("Malediven", "Maldives"),
    "MW": ("Malawi", "Malawi"),
    "MX": ("Mexiko", "Mexico"),
    "MY": ("Malaysia", "Malaysia"),
    "MZ": ("Mosambik", "Mozambique"),
    "NA": ("Namibia", "Namibia"),
    "NC": ("Neukaledonien", "New Caledonia"),
    "NE": ("Niger", "Niger"),
    "NF": ("Norfolkinsel", "Norfolk Island"),
    "NG": ("Nigeria", "Nigeria"),
    "NI": ("Nicaragua", "Nicaragua"),
    "NL": ("Niederlande", "Netherlands"),
    "NO": ("Norwegen", "Norway"),
    "NP": ("Nepal", "Nepal"),
    "NR": ("Nauru", "Nauru"),
    "NU": ("Niue", "Niue"),
    "NZ": ("Neuseeland", "New Zealand"),
    "OM": ("Oman", "Oman"),
    "PA": ("Panama", "Panama"),
    "PE": ("Peru", "Peru"),
    "PF": ("Französisch-Polynesien", "French Polynesia"),
    "PG": ("Papua-Neuguinea", "Papua New Guinea"),
    "PH": ("Philippinen", "Philippines"),
    "PK": ("Pakistan", "Pakistan"),
    "PL": ("Polen", "Poland"),
    "PM": ("St. Pierre und Miquelon", "Saint Pierre and Miquelon"),
    "PN": ("Pitcairninseln", "Pitcairn Islands"),
    "PR": ("Puerto Rico", "Puerto Rico"),
    "PS": ("Palästinensische Gebiete", "Palestinian Territories"),
    "PT": ("Portugal", "Portugal"),
    "PW": ("Palau", "Palau"),
    "PY": ("Paraguay", "Paraguay"),
    "QA": ("Katar", "Qatar"),
    "RE": ("Réunion", "Réunion"),
    "RO": ("Rumänien", "Romania"),
    "RS": ("Serbien", "Serbia"),
    "RU": ("Russland", "Russia"),
    "RW": ("Ruanda", "Rwanda"),
    "SA": ("Saudi-Arabien", "Saudi Arabia"),
    "SB": ("Salomoninseln", "Solomon Islands"),
    "SC": ("Seychellen", "Seychelles"),
    "SD": ("Sudan", "Sudan"),
    "SE": ("Schweden", "Sweden"),
    "SG": ("Singapur", "Singapore"),
    "SH": (
        "St. Helena, Ascension und Tristan da Cunha",
        "Saint Helena, Ascension and Tristan da Cunha",
    ),
    "SI": ("Slowenien", "Slovenia"),
    "SJ": ("Svalbard und Jan Mayen", "Svalbard and Jan Mayen"),
    "SK": ("Slowakei", "Slovakia"),
    "SL": ("Sierra Leone", "Sierra Leone"),
    "SM": ("San Marino", "San Marino"),
    "SN": ("Senegal", "Senegal"),
    "SO": ("Somalia", "Somalia"),
    "SR": ("Suriname", "Suriname"),
    "SS": ("Südsudan", "South Sudan"),
    "ST": ("São Tomé und Príncipe", "Sao Tome and Principe"),
    "SV": ("El Salvador", "El Salvador"),
    "SX": ("Sint Maarten (niederländischer Teil)", "Sint Maarten (Dutch part)"),
    "SY": ("Syrien", "Syria"),
    "SZ": ("Eswatini", "Eswatini"),
    "TC": ("Turks- und Caicosinseln", "Turks and Caicos Islands"),
    "TD": ("Tschad", "Chad"),
    "TF": ("Französische Süd- und Antarktisgebiete", "French Southern Territories"),
    "TG": ("Togo", "Togo"),
    "TH": ("Thailand", "Thailand"),
    "TJ": ("Tadschikistan", "Tajikistan"),
    "TK": ("Tokelau", "Tokelau"),
    "TL": ("Timor-Leste", "Timor-Leste"),
    "TM": ("Turkmenistan", "Turkmenistan"),
    "TN": ("Tunesien", "Tunisia"),
    "TO": ("Tonga", "Tonga"),
    "TR": ("Türkei", "Türkiye"),
    "TT": ("Trinidad und Tobago", "Trinidad and Tobago"),
    "TV": ("Tuvalu", "Tuvalu"),
    "TW": ("Taiwan", "Taiwan"),
    "TZ": ("Tansania", "Tanzania"),
    "UA": ("Ukraine", "Ukraine"),
    "UG": ("Uganda", "Uganda"),
    "UM": ("Kleinere Amerikanische Überseeinseln", "United States Minor Outlying Islands"),
    "US": ("Vereinigte Staaten", "United States"),
    "UY": ("Uruguay", "Uruguay"),
    "UZ": ("Usbekistan", "Uzbekistan"),
    "VA": ("Vatikanstadt", "Vatican City"),
    "VC": ("St. Vincent und die Grenadinen", "Saint Vincent and the Grenadines"),
    "VE": ("Venezuela", "Venezuela"),
    "VG": ("Britische Jungferninseln", "British Virgin Islands"),
    "VI": ("Amerikanische Jungferninseln", "United States Virgin Islands"),
    "VN": ("Vietnam", "Viet Nam"),
    "VU": ("Vanuatu", "Vanuatu"),
    "WF": ("Wallis und Futuna", "Wallis and Futuna"),
    "WS": ("Samoa", "Samoa"),
    "XK": ("Kosovo", "Kosovo"),
    "YE": ("Jemen", "Yemen"),
    "YT": ("Mayotte", "Mayotte"),
    "ZA": ("Südafrika", "South Africa"),
    "ZM": ("Sambia", "Zambia"),
    "ZW": ("Simbabwe", "Zimbabwe"),
}


def is_country(code: object) -> TypeGuard[str]:
    """``code`` is one of :data:`COUNTRIES` (Germany is not)."""
    return isinstance(code, str) and code in COUNTRIES


def country_name(code: object) -> str:
    """The name of the state ``code`` in the active language; an unknown code as it is (answers
    saved under an older list may hold anything)."""
    if not is_country(code):
        return "" if code is None else str(code)
    german, english = COUNTRIES[code]
    return english if _english() else german


def country_choices(codes: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(code, name)`` of ``codes`` (all states when empty), sorted by name in the active
    language as a dictionary sorts (DIN 5007-1: "Ägypten" under A, "Österreich" under O)."""
    return list(_choices(tuple(codes), _english()))


def state_names(*, nationality: bool = False) -> dict[str, tuple[str, str]]:
    """Code → (German name, English name) of everything a ``country`` field can offer: Germany,
    the states and, for a nationality, the statuses that are no state."""
    names = {HOME_COUNTRY: HOME_NAMES, **COUNTRIES}
    if nationality:
        names.update(NATIONALITY_STATUSES)
    return names


def in_display_order(choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(code, name)`` pairs as a ``country`` field lists them: Germany first (most answers),
    then the states by name as a dictionary sorts, the statuses that are no state last."""

    statuses = list(NATIONALITY_STATUSES)

    def rank(item: tuple[str, str]) -> tuple[int, str]:
        code, name = item
        if code == HOME_COUNTRY:
            return 0, ""
        if code in NATIONALITY_STATUSES:
            return 2, str(statuses.index(code))
        return 1, _sort_key(name)

    return sorted(choices, key=rank)


@cache
def _choices(codes: tuple[str, ...], english: bool) -> tuple[tuple[str, str], ...]:
    chosen = codes or tuple(COUNTRIES)
    named = [(code, COUNTRIES[code][1 if english else 0]) for code in chosen if code in COUNTRIES]
    return tuple(sorted(named, key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _english() -> bool:
    return (get_language() or "de").lower().startswith("en")

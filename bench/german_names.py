# ruff: noqa: RUF001 -- Turkish and Polish letters in the names are meant
"""A deterministic generator of German names for the benchmark data sets (no external data).

The frequencies follow the shape of the real ones, not their exact values: a few very common
family names (the most common about 1 % of people), a long tail of compound names built from
German name parts (Brandmeier, Lindenberg, Kirchhoff …), some double names, and names of
people whose families came from Turkey, Poland, the Balkans, Italy, Greece, Russia or Vietnam,
as in any German city. Given names depend on the decade of birth.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect
from dataclasses import dataclass

COMMON_FAMILY_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Schubert",
    "Vogel",
    "Friedrich",
    "Keller",
    "Günther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Albrecht",
    "Schuster",
    "Simon",
    "Ludwig",
    "Böhm",
    "Winter",
    "Kraus",
    "Martin",
    "Schumacher",
    "Krämer",
    "Vogt",
    "Stein",
    "Jäger",
    "Otto",
    "Sommer",
    "Groß",
    "Seidel",
    "Heinrich",
    "Brandt",
    "Haas",
    "Schreiber",
    "Graf",
    "Schulte",
    "Dietrich",
    "Ziegler",
    "Kuhn",
    "Kühn",
    "Pohl",
    "Engel",
    "Horn",
    "Busch",
    "Bergmann",
    "Thomas",
    "Voigt",
    "Sauer",
    "Arnold",
    "Wolff",
    "Pfeiffer",
]

FOREIGN_FAMILY_NAMES = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Öztürk",
    "Aydın",
    "Arslan",
    "Doğan",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Popović",
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Hodžić",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Romano",
    "Papadopoulos",
    "Georgiou",
    "Nikolaidis",
    "Iwanow",
    "Smirnow",
    "Petrow",
    "Nguyen",
    "Tran",
    "Pham",
    "Haddad",
    "Khalil",
    "Ahmadi",
    "Hosseini",
    "Mohammadi",
    "Popescu",
    "Ionescu",
]

_FIRST_PARTS = [
    "Brand",
    "Linden",
    "Kirch",
    "Hohen",
    "Stein",
    "Wald",
    "Berg",
    "Feld",
    "Roth",
    "Schön",
    "Hollen",
    "Alten",
    "Neu",
    "Ober",
    "Nieder",
    "Mühl",
    "Hasel",
    "Eichen",
    "Buchen",
    "Tann",
    "Rosen",
    "Wester",
    "Oster",
    "Sonnen",
    "Hage",
    "Kolben",
    "Stroh",
    "Wiesen",
    "Bach",
    "Fried",
    "Gott",
    "Hein",
    "Diet",
    "Harten",
    "Brück",
    "Kreuz",
    "Terhor",
    "Kamp",
    "Rein",
    "Lütke",
    "Schmed",
    "Wessel",
    "Holt",
    "Esch",
    "Asch",
    "Lind",
    "Gers",
    "Ahl",
]
_LAST_PARTS = [
    "meier",
    "mann",
    "berg",
    "hoff",
    "haus",
    "feld",
    "bach",
    "rath",
    "kamp",
    "horst",
    "brink",
    "mann",
    "hagen",
    "thal",
    "bauer",
    "schmidt",
    "müller",
    "wald",
    "dorf",
    "stedt",
    "kötter",
    "beck",
    "busch",
    "hövel",
    "winkel",
    "siek",
    "loh",
    "hues",
    "born",
]

_DOUBLE_NAME_SHARE = 0.04
_FOREIGN_SHARE = 0.17
_COMMON_SHARE = 0.36

# Given names by the decade people were born in (most popular first).
GIVEN_NAMES: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1940: (
        (
            "Ursula",
            "Renate",
            "Helga",
            "Gisela",
            "Ingrid",
            "Karin",
            "Christa",
            "Brigitte",
            "Gerda",
            "Ilse",
            "Erika",
            "Hannelore",
            "Elke",
            "Margret",
            "Edith",
        ),
        (
            "Hans",
            "Klaus",
            "Peter",
            "Wolfgang",
            "Jürgen",
            "Dieter",
            "Horst",
            "Manfred",
            "Günter",
            "Werner",
            "Gerhard",
            "Heinz",
            "Karl",
            "Rolf",
            "Helmut",
        ),
    ),
    1950: (
        (
            "Sabine",
            "Monika",
            "Petra",
            "Gabriele",
            "Renate",
            "Ursula",
            "Karin",
            "Birgit",
            "Heike",
            "Angelika",
            "Barbara",
            "Christine",
            "Elke",
            "Marion",
            "Doris",
        ),
        (
            "Peter",
            "Michael",
            "Thomas",
            "Wolfgang",
            "Klaus",
            "Jürgen",
            "Uwe",
            "Bernd",
            "Rainer",
            "Hans",
            "Joachim",
            "Frank",
            "Dieter",
            "Norbert",
            "Ulrich",
        ),
    ),
    1960: (
        (
            "Sabine",
            "Andrea",
            "Claudia",
            "Susanne",
            "Petra",
            "Birgit",
            "Martina",
            "Stefanie",
            "Anja",
            "Kerstin",
            "Nicole",
            "Silke",
            "Heike",
            "Tanja",
            "Katrin",
        ),
        (
            "Thomas",
            "Michael",
            "Andreas",
            "Frank",
            "Stefan",
            "Ralf",
            "Jörg",
            "Markus",
            "Oliver",
            "Matthias",
            "Bernd",
            "Torsten",
            "Uwe",
            "Dirk",
            "Christian",
        ),
    ),
    1970: (
        (
            "Stefanie",
            "Nicole",
            "Katrin",
            "Julia",
            "Anja",
            "Sandra",
            "Tanja",
            "Melanie",
            "Christina",
            "Daniela",
            "Nadine",
            "Sabrina",
            "Simone",
            "Katharina",
            "Yvonne",
        ),
        (
            "Christian",
            "Michael",
            "Stefan",
            "Markus",
            "Daniel",
            "Tobias",
            "Sebastian",
            "Alexander",
            "Jan",
            "Sven",
            "Patrick",
            "Dennis",
            "Marco",
            "Florian",
            "Oliver",
        ),
    ),
    1980: (
        (
            "Julia",
            "Katharina",
            "Sarah",
            "Anna",
            "Lisa",
            "Laura",
            "Christina",
            "Jennifer",
            "Vanessa",
            "Jessica",
            "Nina",
            "Sandra",
            "Melanie",
            "Stefanie",
            "Johanna",
        ),
        (
            "Daniel",
            "Tobias",
            "Christian",
            "Sebastian",
            "Jan",
            "Alexander",
            "Florian",
            "Dennis",
            "Philipp",
            "Kevin",
            "Marcel",
            "Michael",
            "David",
            "Patrick",
            "Benjamin",
        ),
    ),
    1990: (
        (
            "Lisa",
            "Laura",
            "Julia",
            "Sarah",
            "Lena",
            "Anna",
            "Leonie",
            "Hannah",
            "Lea",
            "Jana",
            "Vanessa",
            "Katharina",
            "Michelle",
            "Sophie",
            "Marie",
        ),
        (
            "Lukas",
            "Jan",
            "Tim",
            "Niklas",
            "Maximilian",
            "Jonas",
            "Leon",
            "Philipp",
            "Felix",
            "Kevin",
            "Dominik",
            "Marcel",
            "Luca",
            "Paul",
            "Fabian",
        ),
    ),
    2000: (
        (
            "Lea",
            "Hannah",
            "Anna",
            "Lena",
            "Leonie",
            "Lara",
            "Laura",
            "Emily",
            "Sophie",
            "Marie",
            "Mia",
            "Emma",
            "Johanna",
            "Amelie",
            "Nele",
        ),
        (
            "Lukas",
            "Leon",
            "Jonas",
            "Finn",
            "Luca",
            "Ben",
            "Paul",
            "Niklas",
            "Tim",
            "Elias",
            "Noah",
            "Felix",
            "Moritz",
            "Julian",
            "Maximilian",
        ),
    ),
}
FOREIGN_GIVEN_NAMES = (
    (
        "Ayşe",
        "Fatma",
        "Elif",
        "Zeynep",
        "Emine",
        "Katarzyna",
        "Agnieszka",
        "Ana",
        "Jelena",
        "Maria",
        "Giulia",
        "Eleni",
        "Olga",
        "Lan",
        "Leyla",
        "Mariam",
    ),
    (
        "Mehmet",
        "Mustafa",
        "Ahmet",
        "Ali",
        "Emre",
        "Piotr",
        "Tomasz",
        "Marko",
        "Nikola",
        "Luca",
        "Giorgos",
        "Dmitri",
        "Minh",
        "Omar",
        "Ahmad",
        "Ion",
    ),
)


def _zipf_cumulative(count: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


@dataclass(frozen=True)
class Person:
    given_names: str
    family_name: str
    birth_year: int
    female: bool


class NameGenerator:
    """``NameGenerator(rng).person(birth_year)`` gives a plausible resident of a German city."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.compounds = sorted(
            {first + last for first in _FIRST_PARTS for last in _LAST_PARTS}
            - set(COMMON_FAMILY_NAMES)
        )
        rng.shuffle(self.compounds)
        self._common_cum = _zipf_cumulative(len(COMMON_FAMILY_NAMES), 0.9)
        self._compound_cum = _zipf_cumulative(len(self.compounds), 0.6)
        self._foreign_cum = _zipf_cumulative(len(FOREIGN_FAMILY_NAMES), 0.8)
        self._given_cum = _zipf_cumulative(15, 0.8)
        self._foreign_given_cum = _zipf_cumulative(len(FOREIGN_GIVEN_NAMES[0]), 0.5)

    @staticmethod
    def _pick(rng: random.Random, names: tuple[str, ...] | list[str], cum: list[float]) -> str:
        return names[bisect(cum, rng.random() * cum[-1])]

    def family_name(self, *, foreign: bool = False) -> str:
        rng = self.rng
        if foreign:
            return self._pick(rng, FOREIGN_FAMILY_NAMES, self._foreign_cum)
        if rng.random() < _COMMON_SHARE / (1 - _FOREIGN_SHARE):
            name = self._pick(rng, COMMON_FAMILY_NAMES, self._common_cum)
        else:
            name = self._pick(rng, self.compounds, self._compound_cum)
        if rng.random() < _DOUBLE_NAME_SHARE:
            second = self._pick(rng, COMMON_FAMILY_NAMES, self._common_cum)
            if second != name:
                name = f"{name}-{second}"
        return name

    def person(self, birth_year: int) -> Person:
        rng = self.rng
        female = rng.random() < 0.51
        foreign = rng.random() < _FOREIGN_SHARE
        if foreign:
            names = FOREIGN_GIVEN_NAMES[0 if female else 1]
            given = self._pick(rng, names, self._foreign_given_cum)
        else:
            decade = min(max(birth_year // 10 * 10, 1940), 2000)
            names = GIVEN_NAMES[decade][0 if female else 1]
            given = self._pick(rng, names, self._given_cum)
            if rng.random() < 0.08:  # a second given name ("Anna Lena", "Klaus Peter")
                second = self._pick(rng, names, self._given_cum)
                if second != given:
                    given = f"{given} {second}"
        return Person(given, self.family_name(foreign=foreign), birth_year, female)


_ASCII = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "ı": "i",
        "ş": "s",
        "ç": "c",
        "ğ": "g",
        "ś": "s",
        "ń": "n",
        "ó": "o",
        "ł": "l",
        "ć": "c",
        "ž": "z",
        "đ": "d",
        "Ş": "s",
        "Ç": "c",
        "Ö": "oe",
        "Ü": "ue",
        "Ä": "ae",
        " ": ".",
        "İ": "i",
    }
)


def mail_local_part(person: Person) -> str:
    """``erika.mustermann`` (ASCII, lower case) for an e-mail address."""
    return f"{person.given_names}.{person.family_name}".lower().translate(_ASCII)

"""Dates and times in English as a German authority writes them (``FORMAT_MODULE_PATH``).

Django's English formats are American: "03/27/1985" and "2:05 p.m." beside the German
"27.03.1985" of letters, notices and the other language. English pages write numeric dates day
first and times on the 24-hour clock; names not set here (``DATE_FORMAT``: "March 27, 1985",
numbers) stay Django's English ones. Syntax: https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date
"""

SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "N j, Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday (DIN 1355)

# The first format is how a date input is filled: ISO, as <input type="date"> needs it. The US
# order (03/04/2026) is not read: beside day-first dates it would be ambiguous.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 1985-03-27 (ISO 8601, <input type="date">)
    "%d.%m.%Y",  # 27.03.1985
    "%d.%m.%y",  # 27.03.85
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # 1985-03-27 14:30:59
    "%Y-%m-%d %H:%M:%S.%f",  # 1985-03-27 14:30:59.000200
    "%Y-%m-%d %H:%M",  # 1985-03-27 14:30
    "%d.%m.%Y %H:%M:%S",  # 27.03.1985 14:30:59
    "%d.%m.%Y %H:%M:%S.%f",  # 27.03.1985 14:30:59.000200
    "%d.%m.%Y %H:%M",  # 27.03.1985 14:30
]

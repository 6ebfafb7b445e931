# "20 de julio de 2026".
DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"l j \d\e F \d\e Y \a \l\a\s G:i"
YEAR_MONTH_FORMAT = r"F \d\e Y"
MONTH_DAY_FORMAT = r"j \d\e F"
SHORT_DATE_FORMAT = "d/m/Y"

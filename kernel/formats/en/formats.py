# Dates as the utility's letters write them: "July 20, 2026" (Django's own English uses "Jan.").
DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = r"l, F j, Y \a\t g:i A"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "F j"
SHORT_DATE_FORMAT = "m/d/Y"

# Django's Brazilian formats, plus the project's own.
SESSION_FORMAT = "D d/m H:i"
SESSION_DAY_FORMAT = "D j M"
DAY_MONTH_FORMAT = "d/m"
WEEKDAY_DAY_FORMAT = "l, d/m"

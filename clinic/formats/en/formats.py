# English as staff read it on a clinic's desk: Django's dates, with times as
# "9:00 AM" (Django's "9 a.m." ends a sentence as "9 a.m..").
DATE_FORMAT = "N j, Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "N j, Y, g:i A"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"

# Month by name where no year follows: "Dec 3" cannot be misread as 3 December
# or 12 March.
SESSION_FORMAT = "D M j, g:i A"
SESSION_DAY_FORMAT = "D M j"
DAY_MONTH_FORMAT = "M j"
WEEKDAY_DAY_FORMAT = "l, M j"

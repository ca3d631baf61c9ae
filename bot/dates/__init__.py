"""Dates, times and durations as people in the UK type them, shared by every feature.

* :mod:`.when` — when a meeting (or a poll's close) is: "tomorrow 7pm", "every
  Saturday 10:00", and a meeting's reminders and length;
* :mod:`.days` — the days and hours of disputes, ballots, strikes and pickets:
  "12/3", "Thu", "06:00-10:00";
* :mod:`.durations` — the one grammar of spans of time ("2h", "1h30m", "3 days"),
  and how a span is said back;
* :mod:`.schedule` — a first start and an RRULE, expanded in local wall time.

Parsing is dateparser's (days) and dateutil's (repeats); what is read here by
hand is only what they misread, each case said in its module.
"""

/* Corrections of FullCalendar's own locales (locales-all.global.min.js), for
   the UI's languages, merged over them by static/js/calendar.js
   (`window.clinicCalendarLocale(code)` gives the options to add).

   - en: FullCalendar's English buttons are lower case ("today", "day",
     "week"); a button says "Today", "Day", "Week".
   - pt-br: its hints glue "Próximo" to any unit ("Próximo Semana") and
     capitalise "Anterior" ("Semana Anterior"); the gender follows the unit:
     "Próxima semana", "Próximo dia", "Semana anterior".
   - es: its previous-unit hint is "$0 antes" ("Semana antes"): "Semana anterior".
   - de: FullCalendar's German is right.

   Day views carry the weekday in their title ("quarta-feira, 2 de dezembro
   de 2026"): a receptionist reads the day first. Times are in the
   language's own clock, minutes always shown ("09:00", "9:00 AM"), as the
   toasts and questions say them (Django's TIME_FORMAT, clinic/formats): one
   clock on the whole page, not FullCalendar's "9am". */
(function () {
  "use strict";

  // On a phone the long title would take four lines: short names there.
  const DAY_TITLE = window.innerWidth < 768
    ? { weekday: "short", day: "numeric", month: "short", year: "numeric" }
    : { weekday: "long", day: "numeric", month: "long", year: "numeric" };
  const CLOCK = { hour: "2-digit", minute: "2-digit" }; // "09:00", as Django's "H:i"
  const ENGLISH_CLOCK = { hour: "numeric", minute: "2-digit" }; // "9:00 AM", as clinic/formats/en "g:i A"

  function byUnit(words, fallback) {
    // FullCalendar calls a hint with (the unit's button text, the unit).
    return function (buttonText, unit) {
      return words[unit] || fallback.replace("$0", buttonText);
    };
  }

  const FIXES = {
    en: {
      eventTimeFormat: ENGLISH_CLOCK,
      slotLabelFormat: ENGLISH_CLOCK,
      buttonText: { today: "Today", day: "Day", week: "Week", month: "Month", year: "Year", list: "List" },
      buttonHints: {
        prev: byUnit({ day: "Previous day", week: "Previous week", month: "Previous month", year: "Previous year" }, "Previous $0"),
        next: byUnit({ day: "Next day", week: "Next week", month: "Next month", year: "Next year" }, "Next $0"),
        today: byUnit({ day: "Today", week: "This week", month: "This month", year: "This year" }, "This $0"),
      },
      viewHint: "$0 view",
    },
    "pt-br": {
      buttonHints: {
        prev: byUnit({ day: "Dia anterior", week: "Semana anterior", month: "Mês anterior", year: "Ano anterior" }, "$0 anterior"),
        next: byUnit({ day: "Próximo dia", week: "Próxima semana", month: "Próximo mês", year: "Próximo ano" }, "Próximo $0"),
        today: byUnit({ day: "Hoje", week: "Esta semana", month: "Este mês", year: "Este ano" }, "$0 atual"),
      },
    },
    es: {
      buttonHints: {
        prev: byUnit({ day: "Día anterior", week: "Semana anterior", month: "Mes anterior", year: "Año anterior" }, "$0 anterior"),
        next: byUnit({ day: "Día siguiente", week: "Semana siguiente", month: "Mes siguiente", year: "Año siguiente" }, "$0 siguiente"),
        today: byUnit({ day: "Hoy", week: "Esta semana", month: "Este mes", year: "Este año" }, "$0 actual"),
      },
    },
    de: {},
  };

  window.clinicCalendarLocale = function (code) {
    const fixes = FIXES[code] || {};
    return Object.assign({ eventTimeFormat: CLOCK, slotLabelFormat: CLOCK }, fixes, {
      views: {
        timeGridDay: { titleFormat: DAY_TITLE },
        resourceTimeGridDay: { titleFormat: DAY_TITLE },
      },
    });
  };
})();

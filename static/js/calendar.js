/* The calendar page: FullCalendar Scheduler fed by /calendar/feed/ (the
   appointments) and /calendar/resources/ (the columns of the day view by
   professional), the booking and edit modal loaded with htmx, drag-and-drop
   moves with their Undo, toasts.

   Views: a clinic of several professionals opens, on a wide screen, on the
   day with a column per professional (resourceTimeGridDay), the week one
   click away; a clinic of one opens on the week; a phone shows one day in one
   column, the professional filter choosing whose.

   Time zone: the calendar runs in the clinic's zone (`timeZone`, a named
   zone through FullCalendar's Luxon plugin), whatever the browser's: events
   and the now line are at the clinic's wall-clock time. The feed sends
   clinic times with their offset; what goes back (slot clicks, moves) is
   clinic wall-clock time without an offset, read in the clinic's zone. */
(function () {
  "use strict";

  const element = document.getElementById("calendar");
  const configElement = document.getElementById("calendar-config");
  if (!element || !configElement || typeof FullCalendar === "undefined") return;
  const config = JSON.parse(configElement.textContent);
  const modalElement = document.getElementById("appointment-modal");
  const modal = bootstrap.Modal.getOrCreateInstance(modalElement);
  const content = document.getElementById("appointment-modal-content");
  const professional = document.getElementById("filter-professional");
  const room = document.getElementById("filter-room");
  const NARROW = 768;
  // FullCalendar Scheduler (the resource time grid) is used under its GPL
  // licence: this project is free software (AGPL-3.0-or-later, package.json),
  // for which FullCalendar publishes this key (fullcalendar.io/license).
  const SCHEDULER_LICENSE_KEY = "GPL-My-Project-Is-Open-Source";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function wallClock(date, calendar) {
    // "2026-12-01T09:00:00-03:00" -> "2026-12-01T09:00:00": clinic time.
    return calendar.formatIso(date).slice(0, 19);
  }

  function layout() {
    // Which views the toolbar offers and which one opens, for this width.
    if (window.innerWidth < NARROW) return { initial: "timeGridDay", buttons: "timeGridDay,timeGridWeek" };
    if (config.byProfessional) return { initial: "resourceTimeGridDay", buttons: "resourceTimeGridDay,timeGridWeek" };
    return { initial: "timeGridWeek", buttons: "timeGridDay,timeGridWeek" };
  }

  function toolbar(buttons) {
    return { left: "prev,next today", center: "title", right: buttons };
  }

  function toast(message, level, action) {
    const container = document.getElementById("calendar-toasts");
    if (!container || !message) return;
    const item = document.createElement("div");
    const colour = { success: "text-bg-success", warning: "text-bg-warning", danger: "text-bg-danger" }[level] || "text-bg-secondary";
    item.className = "toast align-items-center border-0 " + colour;
    item.setAttribute("role", level === "danger" ? "alert" : "status");
    item.setAttribute("aria-live", level === "danger" ? "assertive" : "polite");
    item.dataset.testid = "toast";
    item.dataset.level = level || "info";
    const row = document.createElement("div");
    row.className = "d-flex";
    const body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    let instance = null;
    if (action && action.url) {
      // "Register payment": a session booked without a package owes its price.
      const link = document.createElement("a");
      link.href = action.url;
      link.className = "ms-2 fw-semibold link-light";
      link.dataset.testid = "toast-action";
      link.textContent = action.label;
      body.append(" ", link);
    } else if (action && action.onClick) {
      // "Undo" after a move: one click, then the toast goes.
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-light ms-2 py-0 fw-semibold";
      button.dataset.testid = "toast-action";
      button.textContent = action.label;
      button.addEventListener("click", function () {
        button.disabled = true;
        if (instance) instance.hide();
        action.onClick();
      });
      body.append(" — ", button);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close me-2 m-auto" + (level === "warning" ? "" : " btn-close-white");
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", config.messages.close || "×");
    row.append(body, close);
    item.append(row);
    container.append(item);
    instance = bootstrap.Toast.getOrCreateInstance(item, { delay: level === "danger" || level === "warning" || action ? 8000 : 4000 });
    item.addEventListener("hidden.bs.toast", function () { item.remove(); });
    instance.show();
  }

  function openModal(url) {
    content.innerHTML = '<div class="modal-body text-center py-5"><div class="spinner-border text-secondary" role="status"></div></div>';
    modal.show();
    htmx.ajax("GET", url, { target: "#appointment-modal-content", swap: "innerHTML" });
  }

  function filters() {
    const params = {};
    if (professional && professional.value) params.professional = professional.value;
    if (room && room.value) params.room = room.value;
    return params;
  }

  // Opened from a patient's file (/calendar/?patient=N): book for that patient.
  const forPatient = new URLSearchParams(window.location.search).get("patient");

  function bookUrl(start, end, resource) {
    const params = new URLSearchParams(filters());
    if (forPatient) params.set("patient", forPatient);
    if (start) params.set("start", start);
    if (end) params.set("end", end);
    // A slot clicked in a professional's column is booked with them.
    if (resource && resource.id !== config.noProfessional) params.set("professional", resource.id);
    else if (resource) params.delete("professional");
    return config.bookUrl + "?" + params.toString();
  }

  function idUrl(template, id) {
    return template.replace(/\/0\//, "/" + encodeURIComponent(id) + "/");
  }

  function postMove(id, body) {
    return fetch(idUrl(config.moveUrl, id), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function refetch(calendar) {
    calendar.refetchResources();
    calendar.refetchEvents();
  }

  function undoMove(id, undo, calendar) {
    // Back through the same endpoint and its checks: refused (the slot was
    // taken meanwhile), the event stays where it is and the toast says why.
    const body = new URLSearchParams({ start: undo.start, end: undo.end, professional: undo.professional, undo: "1" });
    postMove(id, body)
      .then(function (result) {
        if (!result.ok) {
          toast(result.data.detail || config.messages.moveFailed, "danger");
          return;
        }
        toast(result.data.message, "success");
        (result.data.warnings || []).forEach(function (warning) { toast(warning, "warning"); });
        refetch(calendar);
      })
      .catch(function () { toast(config.messages.moveFailed, "danger"); });
  }

  function move(info) {
    const calendar = info.view.calendar;
    const id = info.event.id;
    const body = new URLSearchParams();
    body.set("start", wallClock(info.event.start, calendar));
    if (info.event.end) body.set("end", wallClock(info.event.end, calendar));
    // Dropped in another professional's column: the session goes to them.
    if (info.newResource) body.set("professional", info.newResource.id === config.noProfessional ? "" : info.newResource.id);
    postMove(id, body)
      .then(function (result) {
        if (!result.ok) {
          info.revert();
          toast(result.data.detail || config.messages.moveFailed, "danger");
          return;
        }
        const undo = result.data.undo;
        toast(result.data.message, "success", undo ? {
          label: config.messages.undo,
          onClick: function () { undoMove(id, undo, calendar); },
        } : null);
        (result.data.warnings || []).forEach(function (warning) { toast(warning, "warning"); });
        refetch(calendar);
      })
      .catch(function () {
        info.revert();
        toast(config.messages.moveFailed, "danger");
      });
  }

  function resources(info, success, failure) {
    const params = new URLSearchParams({ start: info.startStr, end: info.endStr });
    if (professional && professional.value) params.set("professional", professional.value);
    fetch(config.resourcesUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.statusText);
        return response.json();
      })
      .then(function (rows) {
        // The server's order (by name, "No professional" last).
        rows.forEach(function (row, index) { row.order = index; });
        success(rows);
      })
      .catch(function (error) {
        failure(error);
        toast(config.messages.loadFailed, "danger");
      });
  }

  // FullCalendar's locale with our corrections (static/js/calendar_locales.js).
  const localeOptions = window.clinicCalendarLocale ? window.clinicCalendarLocale(config.locale) : {};
  const localeViews = localeOptions.views || {};
  let current = layout();
  const calendar = new FullCalendar.Calendar(element, Object.assign({
    schedulerLicenseKey: SCHEDULER_LICENSE_KEY,
    initialView: current.initial,
    initialDate: config.initialDate || undefined,
    headerToolbar: toolbar(current.buttons),
    locale: config.locale,
    timeZone: config.timeZone,
    slotMinTime: "07:00:00",
    slotMaxTime: "21:00:00",
    scrollTime: "08:00:00",
    slotDuration: "00:30:00",
    allDaySlot: false,
    nowIndicator: true,
    height: "auto",
    expandRows: true,
    stickyHeaderDates: true,
    selectable: Boolean(config.canBook),
    selectMirror: true,
    editable: Boolean(config.canBook),
    eventStartEditable: Boolean(config.canBook),
    eventDurationEditable: Boolean(config.canBook),
    eventResourceEditable: Boolean(config.canBook),
    resources: resources,
    refetchResourcesOnNavigate: true,
    resourceOrder: "order",
    resourceLabelDidMount: function (info) {
      info.el.dataset.testid = "calendar-resource";
      info.el.dataset.resource = info.resource.id;
      if (info.resource.extendedProps.active === false) info.el.classList.add("is-inactive");
    },
    events: {
      url: config.feedUrl,
      extraParams: filters,
      failure: function () { toast(config.messages.loadFailed, "danger"); },
    },
    eventDidMount: function (info) {
      const props = info.event.extendedProps;
      const details = [props.statusName, props.professional, props.room, props.package,
        props.online ? config.messages.bookedOnline : ""].filter(Boolean).join(" · ");
      info.el.title = info.event.title + (details ? "\n" + details : "");
      info.el.dataset.testid = "calendar-event";
      info.el.dataset.appointment = info.event.id;
      info.el.dataset.status = props.status;
      if (props.online) {
        info.el.dataset.online = "true";
        const title = info.el.querySelector(".fc-event-title");
        if (title) title.insertAdjacentHTML("afterbegin", '<i class="bi bi-globe2 me-1" aria-hidden="true"></i>');
      }
    },
    select: function (info) {
      info.view.calendar.unselect();
      if (!config.bookUrl) return;
      const cal = info.view.calendar;
      openModal(bookUrl(wallClock(info.start, cal), wallClock(info.end, cal), info.resource));
    },
    eventClick: function (info) {
      info.jsEvent.preventDefault();
      if (!config.canBook) return;
      openModal(idUrl(config.editUrl, info.event.id));
    },
    eventDrop: move,
    eventResize: move,
    // While events or columns load (after a save, a move, a filter), the
    // calendar is busy: assistive technology waits, and so do the tests.
    loading: function (isLoading) {
      element.setAttribute("aria-busy", isLoading ? "true" : "false");
    },
    windowResize: function (arg) {
      // Crossing the phone breakpoint changes what the toolbar offers.
      const wanted = layout();
      if (wanted.buttons === current.buttons) return;
      current = wanted;
      arg.view.calendar.setOption("headerToolbar", toolbar(wanted.buttons));
      arg.view.calendar.changeView(wanted.initial);
    },
  }, localeOptions, {
    views: {
      timeGridDay: Object.assign({}, localeViews.timeGridDay),
      // Many professionals: the columns keep a readable width and scroll sideways.
      resourceTimeGridDay: Object.assign({ dayMinWidth: 150 }, localeViews.resourceTimeGridDay),
    },
  }));
  calendar.render();
  window.clinicCalendar = calendar;

  [professional, room].forEach(function (select) {
    if (select) select.addEventListener("change", function () { refetch(calendar); });
  });

  const newButton = document.querySelector("[data-calendar-new]");
  if (newButton) newButton.addEventListener("click", function () { openModal(bookUrl()); });

  // The server answers a successful save with HX-Trigger events.
  document.body.addEventListener("appointmentSaved", function (event) {
    const detail = event.detail || {};
    if (detail.close !== false) modal.hide();
    refetch(calendar);
    toast(detail.message, "success", detail.action);
    (detail.warnings || []).forEach(function (warning) { toast(warning, "warning"); });
  });
  document.body.addEventListener("calendarChanged", function () { refetch(calendar); });
  document.body.addEventListener("appointmentError", function (event) {
    toast((event.detail || {}).message, "danger");
  });

  // A service chosen in a line fills in its price (the user may change it).
  content.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches && target.matches('select[name^="lines-"][name$="-service"]')) {
      const option = target.selectedOptions[0];
      const row = target.closest("[data-formset-row]");
      const price = row && row.querySelector('input[name$="-price"]');
      if (price && option && option.dataset.price) price.value = option.dataset.price;
    }
    // Changing the booking after its series preview asks for a new preview.
    const preview = content.querySelector(".series-preview");
    if (preview && !target.closest("#booking-packages")) preview.remove();
  });
})();

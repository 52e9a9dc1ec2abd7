/* The calendar page: FullCalendar (day / week) fed by /calendar/feed/, the
   booking and edit modal loaded with htmx, drag-and-drop moves, toasts.

   The calendar runs in the clinic's time zone without a time-zone plugin
   (FullCalendar's "UTC coercion"): the feed sends clinic wall-clock times with
   their offset, and what we send back (slot clicks, moves) is clinic time
   without an offset, which the server reads in the clinic's zone. */
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

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function wallClock(date, calendar) {
    // "2026-12-01T09:00:00-03:00" -> "2026-12-01T09:00:00": clinic time.
    return calendar.formatIso(date).slice(0, 19);
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
    if (action && action.url) {
      // "Register payment": a session booked without a package owes its price.
      const link = document.createElement("a");
      link.href = action.url;
      link.className = "ms-2 fw-semibold link-light";
      link.dataset.testid = "toast-action";
      link.textContent = action.label;
      body.append(" ", link);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close me-2 m-auto" + (level === "warning" ? "" : " btn-close-white");
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "×");
    row.append(body, close);
    item.append(row);
    container.append(item);
    const instance = bootstrap.Toast.getOrCreateInstance(item, { delay: level === "danger" || level === "warning" || action ? 8000 : 4000 });
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

  function bookUrl(start, end) {
    const params = new URLSearchParams(filters());
    if (forPatient) params.set("patient", forPatient);
    if (start) params.set("start", start);
    if (end) params.set("end", end);
    return config.bookUrl + "?" + params.toString();
  }

  function idUrl(template, id) {
    return template.replace(/\/0\//, "/" + encodeURIComponent(id) + "/");
  }

  function move(info) {
    const calendar = info.view.calendar;
    const body = new URLSearchParams();
    body.set("start", wallClock(info.event.start, calendar));
    if (info.event.end) body.set("end", wallClock(info.event.end, calendar));
    fetch(idUrl(config.moveUrl, info.event.id), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (!result.ok) {
          info.revert();
          toast(result.data.detail || config.messages.moveFailed, "danger");
          return;
        }
        (result.data.warnings || []).forEach(function (warning) { toast(warning, "warning"); });
        calendar.refetchEvents();
      })
      .catch(function () {
        info.revert();
        toast(config.messages.moveFailed, "danger");
      });
  }

  const narrow = window.innerWidth < NARROW;
  const calendar = new FullCalendar.Calendar(element, {
    initialView: narrow ? "timeGridDay" : "timeGridWeek",
    initialDate: config.initialDate || undefined,
    headerToolbar: { left: "prev,next today", center: "title", right: "timeGridDay,timeGridWeek" },
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
      openModal(bookUrl(wallClock(info.start, info.view.calendar), wallClock(info.end, info.view.calendar)));
    },
    eventClick: function (info) {
      info.jsEvent.preventDefault();
      if (!config.canBook) return;
      openModal(idUrl(config.editUrl, info.event.id));
    },
    eventDrop: move,
    eventResize: move,
    windowResize: function (arg) {
      const wanted = window.innerWidth < NARROW ? "timeGridDay" : "timeGridWeek";
      if (arg.view.type !== wanted) arg.view.calendar.changeView(wanted);
    },
  });
  calendar.render();
  window.clinicCalendar = calendar;

  [professional, room].forEach(function (select) {
    if (select) select.addEventListener("change", function () { calendar.refetchEvents(); });
  });

  const newButton = document.querySelector("[data-calendar-new]");
  if (newButton) newButton.addEventListener("click", function () { openModal(bookUrl()); });

  // The server answers a successful save with HX-Trigger events.
  document.body.addEventListener("appointmentSaved", function (event) {
    const detail = event.detail || {};
    if (detail.close !== false) modal.hide();
    calendar.refetchEvents();
    toast(detail.message, "success", detail.action);
    (detail.warnings || []).forEach(function (warning) { toast(warning, "warning"); });
  });
  document.body.addEventListener("calendarChanged", function () { calendar.refetchEvents(); });
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

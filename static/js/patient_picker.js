/* The booking modal's patient picker (templates/scheduling/_patient_picker.html).

   Typing in the search box asks scheduling:patient-search through htmx; its
   matches are buttons. Choosing one fills the form's hidden `patient` input
   and fires `change` on it, which is what the modal listens to (the package
   block refreshes). Keys: ↓ from the box goes to the matches, ↑/↓ move
   between them, Enter in the box takes the only match (or goes to the first),
   Escape goes back to the box.

   "New patient" loads a small form under the box (scheduling:patient-new);
   registered, the server answers `patientCreated` ({id, name}) and the
   patient is chosen as if found. Its inputs sit inside the booking form:
   their typing is kept from the form's listeners, and Enter registers
   instead of booking. */
(function () {
  "use strict";

  function parts(element) {
    const picker = element.closest("[data-patient-picker]");
    if (!picker) return null;
    return {
      picker: picker,
      input: picker.querySelector('input[type="hidden"][name="patient"]'),
      chosen: picker.querySelector("[data-patient-chosen]"),
      chosenName: picker.querySelector("[data-patient-chosen-name]"),
      searchbox: picker.querySelector("[data-patient-searchbox]"),
      search: picker.querySelector("[data-patient-search]"),
      results: picker.querySelector("[data-patient-results]"),
      newPatient: picker.querySelector("[data-patient-new]"),
    };
  }

  function options(picker) {
    return Array.from(picker.results.querySelectorAll("[data-patient-option]"));
  }

  function setPatient(picker, id, name) {
    picker.input.value = id;
    picker.chosenName.textContent = name;
    picker.chosen.classList.toggle("d-none", !id);
    picker.searchbox.classList.toggle("d-none", Boolean(id));
    picker.results.replaceChildren();
    if (!id && picker.newPatient) picker.newPatient.replaceChildren();
    picker.search.value = "";
    const feedback = picker.picker.querySelector(".invalid-feedback");
    if (feedback && id) feedback.remove();
    picker.search.classList.remove("is-invalid");
    // What the booking form reacts to (package offer and budget bars).
    picker.input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function choose(option) {
    const picker = parts(option);
    if (!picker || !picker.input) return;
    setPatient(picker, option.dataset.patientId, option.dataset.patientName);
    const change = picker.picker.querySelector("[data-patient-change]");
    if (change) change.focus();
  }

  function onClick(event) {
    const cancel = event.target.closest("[data-patient-new-cancel]");
    if (cancel) {
      const picker = parts(cancel);
      if (picker && picker.newPatient) picker.newPatient.replaceChildren();
      if (picker && picker.search) picker.search.focus();
      return;
    }
    if (event.target.closest("[data-patient-new-open]")) {
      const picker = parts(event.target);
      if (picker && picker.results) picker.results.replaceChildren();
      return;
    }
    const option = event.target.closest("[data-patient-option]");
    if (option) {
      choose(option);
      return;
    }
    const change = event.target.closest("[data-patient-change]");
    const picker = change && parts(change);
    if (picker && picker.input) {
      setPatient(picker, "", "");
      picker.search.focus();
    }
  }

  function onKeydown(event) {
    const target = event.target;
    const picker = parts(target);
    if (!picker || !picker.results) return;
    const newForm = target.closest("[data-patient-new-form]");
    if (newForm) {
      if (event.key === "Enter" && target.tagName !== "BUTTON") {
        event.preventDefault(); // registers the patient, never submits the booking
        const save = newForm.querySelector("[data-patient-new-save]");
        if (save) save.click();
      } else if (event.key === "Escape") {
        event.stopPropagation(); // closes the small form; the modal stays open
        picker.newPatient.replaceChildren();
        picker.search.focus();
      }
      return;
    }
    const found = options(picker);
    if (target.matches("[data-patient-search]")) {
      if (event.key === "ArrowDown" && found.length) {
        event.preventDefault();
        found[0].focus();
      } else if (event.key === "Enter") {
        event.preventDefault(); // never submits the booking from the search box
        if (found.length === 1) choose(found[0]);
        else if (found.length) found[0].focus();
      } else if (event.key === "Escape" && picker.results.childElementCount) {
        event.stopPropagation(); // clears the matches; the modal stays open
        picker.results.replaceChildren();
      }
      return;
    }
    const index = found.indexOf(target.closest("[data-patient-option]"));
    if (index < 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = index + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) picker.search.focus();
      else if (next < found.length) found[next].focus();
    } else if (event.key === "Escape") {
      event.stopPropagation();
      picker.search.focus();
    }
  }

  function stop(event) {
    event.stopPropagation();
  }

  // The modal's content is swapped in by htmx: wire each picker as it arrives.
  // Listeners sit on the picker (not the document) so that Escape can be kept
  // from the modal, and typing in the search box from the form's listeners
  // (the package block refreshes on any input of the form; a search is not a
  // change of the booking).
  document.addEventListener("htmx:load", function (event) {
    const root = event.target;
    const pickers = root.matches("[data-patient-picker]") ? [root] : root.querySelectorAll("[data-patient-picker]");
    pickers.forEach(function (element) {
      element.addEventListener("click", onClick);
      element.addEventListener("keydown", onKeydown);
      const search = element.querySelector("[data-patient-search]");
      if (search) {
        search.addEventListener("input", stop);
        search.addEventListener("change", stop);
      }
      const newPatient = element.querySelector("[data-patient-new]");
      if (newPatient) {
        newPatient.addEventListener("input", stop);
        newPatient.addEventListener("change", stop);
      }
    });
    const first = root.querySelector && root.querySelector("[data-patient-new-first]");
    if (first) first.focus();
  });

  // Registered from "New patient": chosen for the booking.
  document.addEventListener("patientCreated", function (event) {
    const detail = event.detail || {};
    const element = document.querySelector("[data-patient-picker]");
    const picker = element && parts(element);
    if (!picker || !picker.input || !detail.id) return;
    setPatient(picker, String(detail.id), detail.name || "");
  });
})();

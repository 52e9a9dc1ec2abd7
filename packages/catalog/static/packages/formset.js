/* Add and remove rows of a Django formset ("items", "limits") without a page load.
   A removed row stays in the form, hidden, with its DELETE box ticked, so that
   an existing row is deleted and a new one is ignored by the server. */
(function () {
  "use strict";

  function changed(element) {
    const form = element.closest("form");
    if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function addRow(button) {
    const prefix = button.dataset.formsetAdd;
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    const template = document.getElementById(prefix + "-empty-row");
    const body = document.getElementById(prefix + "-rows");
    if (!total || !template || !body) return;
    const index = parseInt(total.value, 10);
    body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const row = body.lastElementChild;
    const first = row && row.querySelector("select, input:not([type=hidden]):not([type=checkbox])");
    if (first) first.focus();
    const empty = document.getElementById(prefix + "-empty");
    if (empty) empty.hidden = true;
    changed(body);
  }

  function removeRow(button) {
    const row = button.closest("[data-formset-row]");
    if (!row) return;
    const box = row.querySelector('input[type="checkbox"][name$="-DELETE"]');
    if (box) box.checked = true;
    row.hidden = true;
    changed(row);
  }

  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-formset-add]");
    if (add) {
      event.preventDefault();
      addRow(add);
      return;
    }
    const remove = event.target.closest("[data-formset-remove]");
    if (remove) {
      event.preventDefault();
      removeRow(remove);
    }
  });
})();

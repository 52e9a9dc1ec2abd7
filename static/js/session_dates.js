// K2: pick a package's session dates on the link form. Rows are a Django
// formset (prefix "dates"); filling the first row's time, professional or
// status fills the rows that still hold the first row's previous value.
(function () {
  const table = document.getElementById("date-rows");
  if (!table) return;
  const body = table.querySelector("tbody");
  const total = document.getElementById("id_dates-TOTAL_FORMS");
  const template = document.getElementById("date-row-template");
  const picker = document.getElementById("date-picker");
  const fields = ["time", "professional", "status"];

  function rows() { return Array.from(body.querySelectorAll("tr.date-row")); }

  function renumber() {
    rows().forEach((row, index) => {
      row.querySelector(".row-number").textContent = index + 1;
      row.querySelectorAll("input, select").forEach((input) => {
        input.name = input.name.replace(/dates-(\d+|__prefix__)-/, `dates-${index}-`);
        input.id = input.id.replace(/dates-(\d+|__prefix__)-/, `dates-${index}-`);
      });
    });
    total.value = rows().length;
  }

  function field(row, name) { return row.querySelector(`[name$="-${name}"]`); }

  function addRow(date) {
    const first = rows()[0];
    const fragment = template.content.cloneNode(true);
    const row = fragment.querySelector("tr");
    field(row, "date").value = date || "";
    if (first) fields.forEach((name) => { field(row, name).value = field(first, name).value; });
    body.appendChild(row);
    renumber();
  }

  function sessions() { return parseInt((document.getElementById("id_sessions") || {}).value, 10) || 0; }

  document.getElementById("add-date").addEventListener("click", () => {
    if (picker.value) addRow(picker.value);
  });
  document.getElementById("fill-weekly").addEventListener("click", () => {
    const first = rows()[0];
    const start = first ? field(first, "date").value : picker.value;
    if (!start) return;
    if (!first) addRow(start);
    const day = new Date(`${start}T12:00:00`);
    while (rows().length < Math.max(sessions(), 1)) {
      day.setDate(day.getDate() + 7);
      addRow(day.toISOString().slice(0, 10));
    }
  });
  body.addEventListener("click", (event) => {
    const button = event.target.closest(".remove-date");
    if (!button) return;
    button.closest("tr").remove();
    renumber();
  });
  // Filling the first row fills the others (where they still match it).
  let previous = {};
  body.addEventListener("focusin", (event) => {
    const first = rows()[0];
    if (first && first.contains(event.target)) fields.forEach((name) => { previous[name] = field(first, name).value; });
  });
  body.addEventListener("change", (event) => {
    const first = rows()[0];
    if (!first || !first.contains(event.target)) return;
    fields.forEach((name) => {
      const value = field(first, name).value;
      rows().slice(1).forEach((row) => {
        const input = field(row, name);
        if (!input.value || input.value === previous[name]) input.value = value;
      });
      previous[name] = value;
    });
  });
})();

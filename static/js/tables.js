// Lists on a phone (`table.table-stack`, see app.css): each cell shows its
// column's name, taken from the table's header, unless the template gave
// one (`data-label`). Runs on load and after every htmx swap.
(function () {
  "use strict";
  function label(root) {
    root.querySelectorAll("table.table-stack").forEach(function (table) {
      const names = Array.from(table.querySelectorAll("thead th")).map(function (th) {
        return th.querySelector(".visually-hidden") ? "" : th.textContent.trim();
      });
      table.querySelectorAll("tbody > tr, tfoot > tr").forEach(function (row) {
        let column = 0;
        Array.from(row.children).forEach(function (cell) {
          const name = names[column];
          if (name && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { label(document); });
  // A swap may replace a table's rows or the whole table: label the page
  // again (cells already labelled are left as they are).
  document.addEventListener("htmx:afterSwap", function () { label(document); });
})();

// A form with `data-confirm` asks its question before it is sent; "Cancel"
// sends nothing. Listens in the capture phase, so it runs before any other
// submit handler (htmx's included).
(function () {
  "use strict";
  document.addEventListener(
    "submit",
    function (event) {
      var question = event.target.dataset && event.target.dataset.confirm;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );
})();

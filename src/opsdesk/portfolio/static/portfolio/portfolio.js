// Portfolio page behaviour. A static file: the CSP allows no inline script.
(function () {
  "use strict";
  // Print buttons on the service sheet.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });
})();

// The rule editor: picking another condition redraws the form with that condition's settings.
// A static file: the CSP allows no inline script. Without JavaScript the "Show the settings"
// button does the same.
(function () {
  "use strict";
  function setUp() {
    var form = document.getElementById("rule-form");
    if (!form) return;
    var refresh = form.querySelector("[data-refresh-button]");
    if (!refresh) return;
    refresh.classList.add("d-none");
    form.addEventListener("change", function (event) {
      if (!event.target.matches("[data-condition-select]")) return;
      if (form.requestSubmit) form.requestSubmit(refresh);
      else refresh.click();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

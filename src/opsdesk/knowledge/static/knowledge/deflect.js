// Deflection: as the requester types a title, ask the knowledge base for matching public
// articles and show them above the rest of the form. Fragments come from our own server.
(function () {
  "use strict";
  var box = document.getElementById("kb-suggest");
  if (!box) { return; }
  var input = document.getElementById(box.dataset.source || "id_title");
  if (!input) { return; }
  var timer = null;
  var last = null;
  var controller = null;

  function load() {
    var query = input.value.trim();
    if (query === last) { return; }
    last = query;
    if (query.length < 3) { box.innerHTML = ""; return; }
    if (controller) { controller.abort(); }
    controller = new AbortController();
    fetch(box.dataset.url + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: controller.signal,
    })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* a newer query replaced this one, or the network hiccuped */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  if (input.value) { load(); }
})();

// The ticket page's knowledge panel: suggested articles and similar resolved tickets come from
// the full-text search, so they load after the page (which never waits for them). Fragments come
// from our own server.
(function () {
  "use strict";
  var box = document.getElementById("kb-panel-suggestions");
  if (!box || box.dataset.loaded) { return; }
  box.dataset.loaded = "1";
  fetch(box.dataset.url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    })
    .then(function (html) { box.innerHTML = html; })
    .catch(function () {
      box.innerHTML = '<p class="text-body-secondary mb-0">Suggestions could not be loaded. <a href="' +
        box.dataset.url + '">Open them</a>.</p>';
    });
})();

// The chat queue page: a WebSocket that nudges the list to refresh (through htmx) whenever a
// chat of the agent's teams arrives, is accepted or leaves the queue.
(function () {
  "use strict";

  function start(badge) {
    var retry = 0;
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + window.location.host + badge.getAttribute("data-ws-path");

    function connect() {
      var socket = new WebSocket(url);
      socket.addEventListener("open", function () {
        if (retry > 0) document.body.dispatchEvent(new CustomEvent("chat-queue-changed"));
        retry = 0;
        badge.textContent = "Live";
        badge.className = "badge text-bg-success chat-live";
      });
      socket.addEventListener("message", function (event) {
        var frame;
        try {
          frame = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        if (frame.type === "queue") document.body.dispatchEvent(new CustomEvent("chat-queue-changed"));
      });
      socket.addEventListener("close", function (event) {
        badge.className = "badge text-bg-warning chat-live";
        if (event.code === 4401 || event.code === 4403) {
          badge.textContent = "Not connected: sign in again";
          return;
        }
        retry += 1;
        badge.textContent = "Reconnecting…";
        window.setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
      });
    }
    connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var badge = document.querySelector("[data-queue-live]");
    if (badge) start(badge);
  });
})();

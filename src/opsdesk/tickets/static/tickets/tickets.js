// Service desk keyboard shortcuts and small behaviours. A static file: the CSP allows no inline script.
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // --- queue: j/k move, o/Enter open, x select ---------------------------------------------
  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  }

  function highlight(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("is-current"); row.removeAttribute("aria-current"); });
    var row = all[index];
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector(".queue-link");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    current = index;
  }

  function openCurrent() {
    var row = rows()[current];
    if (row) window.location.href = row.getAttribute("data-href");
  }

  // --- ticket: r reply, n note, a assign ----------------------------------------------------
  function replyMode(note) {
    var radio = document.querySelector(note ? "[data-shortcut-note]" : "[data-shortcut-reply]");
    if (!radio) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    var box = document.getElementById("id_body");
    if (box) box.focus();
    return true;
  }

  function showHelp() {
    var element = document.getElementById("shortcuts-help");
    if (element && window.bootstrap) window.bootstrap.Modal.getOrCreateInstance(element).show();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var handled = true;
    switch (event.key) {
      case "j": highlight(current + 1); break;
      case "k": highlight(current - 1); break;
      case "o": if (current >= 0) openCurrent(); else handled = false; break;
      case "Enter":
        if (current >= 0 && rows()[current] && event.target.closest && event.target.closest("[data-queue-row]")) {
          openCurrent();
        } else {
          handled = false;
        }
        break;
      case "x": {
        var row = rows()[current];
        var box = row && row.querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked; else handled = false;
        break;
      }
      case "r": handled = replyMode(false); break;
      case "n": handled = replyMode(true); break;
      case "a": {
        var team = document.querySelector("[data-shortcut-assign]");
        if (team) { team.scrollIntoView({ block: "center" }); team.focus(); } else handled = false;
        break;
      }
      case "?": showHelp(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // The reply box says whether it sends a reply or keeps an internal note.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-shortcut-reply], [data-shortcut-note]")) {
      var box = target.closest(".reply-box");
      var note = target.hasAttribute("data-shortcut-note");
      if (box) box.classList.toggle("is-note", note);
      var label = document.querySelector("[data-reply-submit] span");
      if (label) label.textContent = note ? "Add internal note" : "Send reply";
    }
    // Canned responses: the chosen one's text goes into the reply box.
    if (target.matches && target.matches("[data-canned-target]") && target.value) {
      var template = document.getElementById(target.value);
      var field = document.querySelector(target.getAttribute("data-canned-target"));
      if (template && field) {
        var text = template.content ? template.content.textContent : template.textContent;
        field.value = field.value ? field.value.replace(/\s*$/, "\n\n") + text : text;
        field.focus();
      }
      target.value = "";
    }
    // "Select all" in a queue.
    if (target.matches && target.matches("[data-select-all]")) {
      document.querySelectorAll("[data-queue-row] input[type=checkbox]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches && target.matches("[data-bulk-action]")) showBulkFields(target.value);
  });

  // Bulk actions show only the fields of the chosen action (all of them without JavaScript).
  function showBulkFields(action) {
    document.querySelectorAll("[data-bulk-for]").forEach(function (group) {
      var on = group.getAttribute("data-bulk-for") === action;
      group.classList.toggle("d-none", !on);
      group.querySelectorAll("select, input").forEach(function (field) { field.disabled = !on; });
    });
  }

  function init() {
    var action = document.querySelector("[data-bulk-action]");
    if (action) showBulkFields(action.value);
    var checked = document.querySelector("[data-shortcut-reply]:checked, [data-shortcut-note]:checked");
    if (checked) checked.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("DOMContentLoaded", init);
  // The queue's results are swapped in place when filters change.
  document.addEventListener("htmx:afterSwap", function () { current = -1; init(); });
})();

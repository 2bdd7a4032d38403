// The OpsDesk chat launcher: a "Chat with IT" button that opens the chat widget in a frame.
// The portal includes it, and other sites embed it with one tag:
//   <script src="https://help.example.com/static/chat/embed.js" defer></script>
// It sets no inline styles or scripts of its own markup (CSP-friendly): styles go through the
// DOM's style properties, and the chat itself runs inside the frame, on the OpsDesk origin.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) return;
  var base = new URL(script.src, window.location.href);
  var widget = new URL(script.getAttribute("data-opsdesk-chat") || "/chat/widget/", base.origin);
  if (base.origin !== window.location.origin) widget.searchParams.set("origin", window.location.origin);
  var label = script.getAttribute("data-label") || "Chat with IT";

  function css(element, styles) {
    Object.keys(styles).forEach(function (name) {
      element.style[name] = styles[name];
    });
  }

  var panel = null;
  var launcher = null;

  function open() {
    if (!panel) {
      panel = document.createElement("div");
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-label", label);
      panel.setAttribute("data-opsdesk-chat-panel", "");
      css(panel, {
        position: "fixed", right: "1rem", bottom: "4.5rem", width: "min(380px, calc(100vw - 2rem))",
        height: "min(560px, calc(100vh - 6rem))", zIndex: "2147483000", background: "#fff",
        border: "1px solid rgba(0,0,0,.15)", borderRadius: ".75rem",
        boxShadow: "0 .5rem 1.5rem rgba(0,0,0,.2)", overflow: "hidden",
      });
      var frame = document.createElement("iframe");
      frame.src = widget.toString();
      frame.title = label;
      frame.setAttribute("data-opsdesk-chat-frame", "");
      css(frame, { width: "100%", height: "100%", border: "0" });
      panel.appendChild(frame);
      document.body.appendChild(panel);
    } else {
      panel.hidden = false;
    }
    launcher.setAttribute("aria-expanded", "true");
  }

  function toggle() {
    if (panel && !panel.hidden) {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
    } else {
      open();
    }
  }

  function start() {
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.textContent = label;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("data-opsdesk-chat-launcher", "");
    css(launcher, {
      position: "fixed", right: "1rem", bottom: "1rem", zIndex: "2147483000", padding: ".6rem 1rem",
      border: "0", borderRadius: "2rem", background: "#206bc4", color: "#fff", font: "600 1rem system-ui, sans-serif",
      boxShadow: "0 .25rem .75rem rgba(0,0,0,.25)", cursor: "pointer",
    });
    launcher.addEventListener("click", toggle);
    document.body.appendChild(launcher);
    document.querySelectorAll("[data-opsdesk-chat-open]").forEach(function (button) {
      button.addEventListener("click", open);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// The live conversation of one chat over its WebSocket: history on (re)connect, messages and
// typing as they happen, the chat's state. Text is always shown as text (never as HTML).
(function () {
  "use strict";

  var FINAL = ["ended", "abandoned", "converted"];
  var TYPING_SEND_INTERVAL = 1500;
  var TYPING_IDLE = 3000;
  var TYPING_SHOWN = 6000;

  function socketUrl(path) {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + path;
  }

  function timeOf(iso) {
    var date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function Chat(root) {
    this.root = root;
    this.path = root.getAttribute("data-ws-path");
    this.status = root.getAttribute("data-status");
    this.log = root.querySelector("[data-chat-log]");
    this.typingLine = root.querySelector("[data-chat-typing]");
    this.statusLine = root.querySelector("[data-chat-status]");
    this.connection = root.querySelector("[data-chat-connection]");
    this.form = root.querySelector("[data-chat-compose]");
    this.errorLine = root.querySelector("[data-chat-error-line]");
    this.input = this.form ? this.form.querySelector("textarea") : null;
    this.seen = {};
    this.userId = null;
    this.retry = 0;
    this.lastTypingSent = 0;
    this.typingTimer = null;
    this.shownTypingTimer = null;
    this.closedForGood = false;
    this.bind();
    this.connect();
  }

  Chat.prototype.bind = function () {
    var chat = this;
    if (!this.form) return;
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      chat.send();
    });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        chat.send();
      }
    });
    this.input.addEventListener("input", function () {
      chat.typing();
    });
  };

  Chat.prototype.connect = function () {
    var chat = this;
    this.socket = new WebSocket(socketUrl(this.path));
    this.socket.addEventListener("open", function () {
      chat.retry = 0;
      chat.showConnection("");
    });
    this.socket.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      chat.handle(frame);
    });
    this.socket.addEventListener("close", function (event) {
      if (event.code === 4401) {
        chat.showConnection("You are signed out. Sign in again and reload this page.");
        return;
      }
      if (event.code === 4403) {
        chat.showConnection("This chat is not yours to join.");
        return;
      }
      if (chat.closedForGood) return;
      chat.retry += 1;
      var delay = Math.min(10000, 500 * Math.pow(2, chat.retry));
      chat.showConnection("Connection lost; reconnecting…");
      window.setTimeout(function () {
        chat.connect();
      }, delay);
    });
  };

  Chat.prototype.showConnection = function (text) {
    this.connection.textContent = text;
    this.connection.hidden = !text;
  };

  Chat.prototype.handle = function (frame) {
    if (frame.type === "hello") {
      this.userId = frame.user_id;
      this.log.textContent = "";
      this.seen = {};
      frame.messages.forEach(this.append, this);
      this.state(frame.session);
    } else if (frame.type === "message") {
      this.append(frame.message);
      this.showTyping("");
    } else if (frame.type === "typing") {
      this.showTyping(frame.typing ? frame.user + " is typing…" : "");
    } else if (frame.type === "status") {
      this.state(frame.session);
    } else if (frame.type === "error") {
      if (this.errorLine) this.errorLine.textContent = frame.message;
    }
  };

  Chat.prototype.append = function (message) {
    if (this.seen[message.id]) return;
    this.seen[message.id] = true;
    var item = document.createElement("li");
    item.className = "chat-message" + (message.author_id === this.userId ? " chat-mine" : "") +
      (message.from_agent ? " chat-from-agent" : "");
    item.setAttribute("data-message-id", message.id);
    var meta = document.createElement("span");
    meta.className = "chat-meta";
    meta.textContent = message.author + " · " + timeOf(message.created_at);
    var body = document.createElement("span");
    body.className = "chat-body";
    body.textContent = message.body;
    item.appendChild(meta);
    item.appendChild(body);
    this.log.appendChild(item);
    this.log.scrollTop = this.log.scrollHeight;
  };

  var leaving = false;
  // A form of the page (accept, convert, end) is on its way: its answer decides what comes next,
  // and a reload for the state change it caused would cancel that navigation.
  document.addEventListener("submit", function (event) {
    if (!event.target.hasAttribute("data-chat-compose")) leaving = true;
  });

  Chat.prototype.state = function (session) {
    if (leaving) return;
    if (session.status !== this.status) {
      // The page shows the controls of the new state (accept, convert, leave a ticket): reload it.
      this.closedForGood = true;
      this.socket.close();
      window.location.reload();
      return;
    }
    if (FINAL.indexOf(session.status) !== -1) {
      this.closedForGood = true;
      if (this.form) this.form.hidden = true;
    }
  };

  Chat.prototype.showTyping = function (text) {
    var chat = this;
    this.typingLine.textContent = text;
    window.clearTimeout(this.shownTypingTimer);
    if (text) {
      this.shownTypingTimer = window.setTimeout(function () {
        chat.typingLine.textContent = "";
      }, TYPING_SHOWN);
    }
  };

  Chat.prototype.frame = function (data) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(data));
    return true;
  };

  Chat.prototype.typing = function () {
    var chat = this;
    var now = Date.now();
    if (now - this.lastTypingSent > TYPING_SEND_INTERVAL) {
      this.lastTypingSent = now;
      this.frame({ type: "typing", typing: true });
    }
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(function () {
      chat.lastTypingSent = 0;
      chat.frame({ type: "typing", typing: false });
    }, TYPING_IDLE);
  };

  Chat.prototype.send = function () {
    var body = this.input.value.trim();
    if (!body) return;
    if (this.frame({ type: "message", body: body })) {
      this.input.value = "";
      if (this.errorLine) this.errorLine.textContent = "";
      window.clearTimeout(this.typingTimer);
      this.lastTypingSent = 0;
    } else if (this.errorLine) {
      this.errorLine.textContent = "Not connected; your message is still here. Try again in a moment.";
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chat]").forEach(function (root) {
      new Chat(root);
    });
  });
})();

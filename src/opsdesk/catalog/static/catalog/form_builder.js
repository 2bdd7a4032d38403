// The catalogue's staff screens. A static file: the CSP allows no inline script.
//
// 1. The form builder: a table of an item's order-form fields (add, remove, move, type, key,
//    label, required, choices, show_if…) that edits the JSON in the item form's textarea, with a
//    live preview. Progressive enhancement: without JavaScript the JSON textarea is edited
//    directly; either way the server checks the definition and names the faulty field.
// 2. The fulfilment queue's extra keys: s starts, c completes (j/k/Enter come from the ticket
//    queue's tickets.js, which the queue page loads too).
(function () {
  "use strict";

  // --- 1. the form builder ------------------------------------------------------------------
  var TYPE_PROPERTIES = {
    text: ["max_length"],
    long_text: ["max_length"],
    number: ["min", "max", "integer"],
    choice: ["choices"],
    multi_choice: ["choices"]
  };
  var COMMON_PROPERTIES = ["key", "label", "type", "required", "help", "placeholder", "show_if"];
  // Conditions compare plain answers: dates, people, services and files are not conditions.
  var CONDITION_TYPES = ["text", "long_text", "number", "choice", "multi_choice"];
  var CHOICE_TYPES = ["choice", "multi_choice"];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name === "checked" || name === "selected" || name === "disabled") node[name] = !!value;
      else if (name === "value") node.value = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function lines(text) {
    return String(text || "").split("\n").map(function (line) { return line.trim(); })
      .filter(function (line) { return line.length > 0; });
  }

  function suggestKey(label, taken) {
    var base = String(label || "").toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_")
      .replace(/^[^a-z]+/, "").replace(/_+$/, "").slice(0, 40) || "field";
    var key = base, n = 2;
    while (taken.indexOf(key) >= 0) { key = base + "_" + n; n += 1; }
    return key;
  }

  function Builder(host) {
    this.host = host;
    this.textarea = document.getElementById(host.getAttribute("data-target"));
    this.details = this.textarea.closest("[data-form-json-details]");
    var typesNode = document.getElementById("catalog-field-types");
    this.types = typesNode ? JSON.parse(typesNode.textContent) : [];
    this.fields = [];
  }

  Builder.prototype.start = function () {
    var self = this;
    if (!this.load()) {
      // The JSON does not parse (a hand edit): leave the textarea open, say why.
      this.host.hidden = false;
      this.host.appendChild(el("p", { "class": "alert alert-warning small", text:
        "The form's JSON has a syntax error, so the builder cannot show it. Fix the JSON below; the builder follows." }));
      this.listenToJson();
      return;
    }
    this.host.hidden = false;
    if (this.details) this.details.open = false;
    // The JSON stays as sent until someone edits: the server's errors refer to it.
    this.render(true);
    this.listenToJson();
    this.host.addEventListener("input", function (event) { self.onEdit(event, false); });
    this.host.addEventListener("change", function (event) { self.onEdit(event, true); });
    this.host.addEventListener("click", function (event) { self.onClick(event); });
  };

  Builder.prototype.load = function () {
    var raw = this.textarea.value.trim();
    try {
      var parsed = raw ? JSON.parse(raw) : [];
      if (!Array.isArray(parsed)) return false;
      this.fields = parsed.map(function (field) {
        return field && typeof field === "object" && !Array.isArray(field) ? field : {};
      });
      return true;
    } catch (error) {
      return false;
    }
  };

  Builder.prototype.listenToJson = function () {
    var self = this;
    this.textarea.addEventListener("input", function () {
      var note = self.host.querySelector("[data-json-note]");
      if (self.load()) {
        if (note) note.remove();
        self.render(true);
      } else if (!note) {
        self.host.insertBefore(el("p", { "class": "small text-warning-emphasis", "data-json-note": true,
          text: "The JSON below has a syntax error: the builder shows the last form that parsed." }), self.host.firstChild);
      }
    });
  };

  Builder.prototype.save = function () {
    this.textarea.value = JSON.stringify(this.fields.map(clean), null, 2);
    this.renderPreview();
  };

  // A field as the server wants it: no empty optional values, no properties of another type.
  function clean(field) {
    var out = {};
    var allowed = COMMON_PROPERTIES.concat(TYPE_PROPERTIES[field.type] || []);
    Object.keys(field).forEach(function (name) {
      // The builder's own bookkeeping (_autoKey) stays out of the JSON.
      if (name.charAt(0) === "_") return;
      var known = COMMON_PROPERTIES.indexOf(name) >= 0 || Object.keys(TYPE_PROPERTIES).some(function (type) {
        return TYPE_PROPERTIES[type].indexOf(name) >= 0;
      });
      // Unknown properties stay, so the server names them; another type's are dropped.
      if (known && allowed.indexOf(name) < 0) return;
      var value = field[name];
      if ((name === "help" || name === "placeholder") && !value) return;
      if (name === "required" && !value) return;
      if ((name === "min" || name === "max" || name === "max_length") && (value === "" || value === null)) return;
      if (name === "show_if" && (!value || !value.field)) return;
      out[name] = value;
    });
    return out;
  }

  Builder.prototype.keys = function (before) {
    return this.fields.slice(0, before === undefined ? this.fields.length : before)
      .map(function (field) { return field.key; }).filter(Boolean);
  };

  Builder.prototype.render = function (keepJson) {
    var active = document.activeElement;
    var focus = active && this.host.contains(active)
      ? { row: active.getAttribute("data-row"), prop: active.getAttribute("data-prop") } : null;
    this.host.textContent = "";
    var self = this;
    var table = el("table", { "class": "table table-sm align-top catalog-form-builder mb-2" }, [
      el("caption", { "class": "visually-hidden", text: "Fields of the order form" }),
      el("thead", {}, [el("tr", {}, ["Order", "Label and key", "Type", "Required", "Options", "Shown when", ""]
        .map(function (title) { return el("th", { scope: "col", text: title }); }))])
    ]);
    var body = el("tbody");
    if (!this.fields.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "7", "class": "text-body-secondary",
        text: "No field yet: the order needs no answers. Add a field to ask something." })]));
    }
    this.fields.forEach(function (field, index) { body.appendChild(self.row(field, index)); });
    table.appendChild(body);
    this.host.appendChild(el("div", { "class": "table-responsive" }, [table]));
    this.host.appendChild(el("button", { type: "button", "class": "btn btn-sm btn-outline-primary", "data-action": "add" },
      [el("i", { "class": "bi bi-plus-lg", "aria-hidden": "true" }), document.createTextNode(" Add a field")]));
    this.preview = el("div", { "class": "catalog-form-preview card card-body mt-3", "aria-live": "polite" });
    this.host.appendChild(el("h3", { "class": "h6 mt-3", text: "Preview" }));
    this.host.appendChild(this.preview);
    if (!keepJson) this.save(); else this.renderPreview();
    if (focus && focus.row !== null) {
      var target = this.host.querySelector('[data-row="' + focus.row + '"][data-prop="' + focus.prop + '"]');
      if (target) target.focus();
    }
  };

  Builder.prototype.row = function (field, index) {
    var self = this;
    var n = index + 1;
    var name = field.label || field.key || "field " + n;
    function input(prop, attrs) {
      return el("input", Object.assign({ "class": "form-control form-control-sm", "data-row": index, "data-prop": prop }, attrs));
    }
    var typeSelect = el("select", { "class": "form-select form-select-sm", "data-row": index, "data-prop": "type",
      "aria-label": "Type of " + name }, this.types.map(function (pair) {
      return el("option", { value: pair[0], text: pair[1], selected: pair[0] === field.type });
    }));
    var cells = [
      el("td", { "class": "text-nowrap" }, [
        el("button", { type: "button", "class": "btn btn-sm btn-outline-secondary", "data-action": "up", "data-row": index,
          "aria-label": "Move " + name + " up", disabled: index === 0 }, [el("i", { "class": "bi bi-arrow-up", "aria-hidden": "true" })]),
        el("button", { type: "button", "class": "btn btn-sm btn-outline-secondary ms-1", "data-action": "down", "data-row": index,
          "aria-label": "Move " + name + " down", disabled: index === this.fields.length - 1 },
          [el("i", { "class": "bi bi-arrow-down", "aria-hidden": "true" })])
      ]),
      el("td", {}, [
        input("label", { value: field.label || "", "aria-label": "Label of field " + n, placeholder: "Label" }),
        input("key", { value: field.key || "", "aria-label": "Key of field " + n, placeholder: "key",
          "class": "form-control form-control-sm font-monospace mt-1", pattern: "[a-z][a-z0-9_]*" }),
        input("help", { value: field.help || "", "aria-label": "Help text of field " + n, placeholder: "Help (optional)",
          "class": "form-control form-control-sm mt-1" })
      ]),
      el("td", {}, [typeSelect]),
      el("td", { "class": "text-center" }, [el("input", { type: "checkbox", "class": "form-check-input", "data-row": index,
        "data-prop": "required", checked: !!field.required, "aria-label": name + " is required" })]),
      el("td", {}, this.options(field, index, name)),
      el("td", {}, this.condition(field, index, name)),
      el("td", {}, [el("button", { type: "button", "class": "btn btn-sm btn-outline-danger", "data-action": "remove",
        "data-row": index, "aria-label": "Remove " + name }, [el("i", { "class": "bi bi-trash", "aria-hidden": "true" })])])
    ];
    return el("tr", { "data-field-row": index }, cells);
  };

  Builder.prototype.options = function (field, index, name) {
    function input(prop, attrs) {
      return el("input", Object.assign({ "class": "form-control form-control-sm", "data-row": index, "data-prop": prop }, attrs));
    }
    if (CHOICE_TYPES.indexOf(field.type) >= 0) {
      return [el("textarea", { "class": "form-control form-control-sm", rows: "3", "data-row": index, "data-prop": "choices",
        "aria-label": "Choices of " + name + ", one per line", placeholder: "One choice per line",
        value: (field.choices || []).join("\n") })];
    }
    if (field.type === "number") {
      return [
        el("div", { "class": "d-flex gap-1" }, [
          input("min", { type: "number", step: "any", value: field.min === undefined ? "" : field.min, placeholder: "min", "aria-label": "Lowest " + name }),
          input("max", { type: "number", step: "any", value: field.max === undefined ? "" : field.max, placeholder: "max", "aria-label": "Highest " + name })
        ]),
        el("label", { "class": "form-check small mt-1" }, [
          el("input", { type: "checkbox", "class": "form-check-input", "data-row": index, "data-prop": "integer", checked: !!field.integer }),
          el("span", { "class": "form-check-label", text: "Whole numbers" })
        ])
      ];
    }
    if (field.type === "text" || field.type === "long_text") {
      return [input("max_length", { type: "number", min: "1", value: field.max_length || "", placeholder: "Max. length",
        "aria-label": "Maximum length of " + name })];
    }
    return [el("span", { "class": "small text-body-secondary", text: "—" })];
  };

  Builder.prototype.condition = function (field, index, name) {
    var earlier = this.fields.slice(0, index).filter(function (other) {
      return other.key && CONDITION_TYPES.indexOf(other.type) >= 0;
    });
    var condition = field.show_if || {};
    var select = el("select", { "class": "form-select form-select-sm", "data-row": index, "data-prop": "show_if.field",
      "aria-label": "Show " + name + " only when" }, [el("option", { value: "", text: "Always" })].concat(
      earlier.map(function (other) {
        return el("option", { value: other.key, text: "when " + (other.label || other.key), selected: other.key === condition.field });
      })));
    if (condition.field && !earlier.some(function (other) { return other.key === condition.field; })) {
      // A condition on a field that is not earlier (or gone): kept visible so the server names it.
      select.appendChild(el("option", { value: condition.field, text: "when " + condition.field + " (not an earlier field)", selected: true }));
    }
    var parts = [select];
    if (condition.field) {
      var target = this.fields.filter(function (other) { return other.key === condition.field; })[0];
      var values = condition["in"] || [];
      if (target && CHOICE_TYPES.indexOf(target.type) >= 0) {
        parts.push(el("select", { multiple: true, size: String(Math.min(4, (target.choices || []).length || 1)),
          "class": "form-select form-select-sm mt-1", "data-row": index, "data-prop": "show_if.in",
          "aria-label": "Answers of " + (target.label || target.key) + " that show " + name },
          (target.choices || []).map(function (choice) {
            return el("option", { value: choice, text: choice, selected: values.indexOf(choice) >= 0 });
          })));
      } else {
        parts.push(el("textarea", { rows: "2", "class": "form-control form-control-sm mt-1", "data-row": index, "data-prop": "show_if.in",
          placeholder: "is one of (one per line)", "aria-label": "Answers that show " + name, value: values.join("\n") }));
      }
    }
    return parts;
  };

  Builder.prototype.onEdit = function (event, committed) {
    var target = event.target;
    var index = parseInt(target.getAttribute("data-row"), 10);
    var prop = target.getAttribute("data-prop");
    if (isNaN(index) || !prop || !this.fields[index]) return;
    var field = this.fields[index];
    var structural = false;
    if (prop === "required" || prop === "integer") {
      field[prop] = target.checked;
    } else if (prop === "type") {
      field.type = target.value;
      if (CHOICE_TYPES.indexOf(field.type) >= 0 && !field.choices) field.choices = [];
      structural = true;
    } else if (prop === "choices") {
      field.choices = lines(target.value);
      structural = committed;
    } else if (prop === "min" || prop === "max" || prop === "max_length") {
      field[prop] = target.value === "" ? "" : Number(target.value);
    } else if (prop === "show_if.field") {
      field.show_if = target.value ? { field: target.value, "in": [] } : undefined;
      structural = true;
    } else if (prop === "show_if.in") {
      var target_values = target.tagName === "SELECT"
        ? Array.prototype.filter.call(target.options, function (o) { return o.selected; }).map(function (o) { return o.value; })
        : lines(target.value);
      var compared = this.fields.filter(function (other) { return field.show_if && other.key === field.show_if.field; })[0];
      if (compared && compared.type === "number") {
        target_values = target_values.map(function (value) { var n = Number(value); return isNaN(n) ? value : n; });
      }
      field.show_if = { field: field.show_if ? field.show_if.field : "", "in": target_values };
    } else if (prop === "label") {
      field.label = target.value;
      // A new field's key follows its label until someone edits the key.
      if (committed && (!field.key || field._autoKey)) {
        field.key = suggestKey(field.label, this.keys().filter(function (key) { return key !== field.key; }));
        field._autoKey = true;
        structural = true;
      }
    } else if (prop === "key") {
      var old = field.key;
      field.key = target.value.trim();
      delete field._autoKey;
      // Conditions on the old key follow the rename.
      this.fields.forEach(function (other) {
        if (other.show_if && other.show_if.field === old && old) other.show_if.field = field.key;
      });
      structural = committed;
    } else {
      field[prop] = target.value;
    }
    this.save();
    if (structural) {
      // After the browser has moved the focus (a change fires before a Tab lands), so the
      // rebuilt table gives the focus back where the person went.
      var self = this;
      window.setTimeout(function () { self.render(true); }, 0);
    }
  };

  Builder.prototype.onClick = function (event) {
    var button = event.target.closest("[data-action]");
    if (!button || !this.host.contains(button)) return;
    var index = parseInt(button.getAttribute("data-row"), 10);
    var action = button.getAttribute("data-action");
    if (action === "add") {
      this.fields.push({ key: "", label: "", type: "text", required: false, _autoKey: true });
      this.render();
      var label = this.host.querySelector('[data-row="' + (this.fields.length - 1) + '"][data-prop="label"]');
      if (label) label.focus();
      return;
    }
    if (action === "remove") {
      var gone = this.fields[index].key;
      this.fields.splice(index, 1);
      if (gone) {
        this.fields.forEach(function (other) { if (other.show_if && other.show_if.field === gone) delete other.show_if; });
      }
    } else if (action === "up" && index > 0) {
      this.fields.splice(index - 1, 0, this.fields.splice(index, 1)[0]);
    } else if (action === "down" && index < this.fields.length - 1) {
      this.fields.splice(index + 1, 0, this.fields.splice(index, 1)[0]);
    }
    this.render();
  };

  // The preview: the order form as people will see it; conditions apply as you answer.
  Builder.prototype.renderPreview = function () {
    if (!this.preview) return;
    var preview = this.preview;
    preview.textContent = "";
    var fields = this.fields;
    if (!fields.length) {
      preview.appendChild(el("p", { "class": "text-body-secondary small mb-0", text: "No question: people order with one click." }));
      return;
    }
    fields.forEach(function (field, index) {
      var id = "preview-" + index;
      var control;
      if (field.type === "long_text") control = el("textarea", { id: id, rows: "2", "class": "form-control", "data-key": field.key });
      else if (field.type === "choice") {
        control = el("select", { id: id, "class": "form-select", "data-key": field.key },
          [el("option", { value: "", text: "—" })].concat((field.choices || []).map(function (c) { return el("option", { value: c, text: c }); })));
      } else if (field.type === "multi_choice") {
        control = el("select", { id: id, multiple: true, "class": "form-select", "data-key": field.key },
          (field.choices || []).map(function (c) { return el("option", { value: c, text: c }); }));
      } else {
        var kinds = { number: "number", date: "date", attachment: "file" };
        control = el("input", { id: id, type: kinds[field.type] || "text", "class": "form-control", "data-key": field.key,
          placeholder: field.placeholder || (field.type === "user" ? "A person" : field.type === "service" ? "A service" : "") });
      }
      preview.appendChild(el("div", { "class": "mb-2", "data-preview-field": field.key || "" }, [
        el("label", { "class": "form-label small mb-0", "for": id, text: (field.label || field.key || "(no label)") + (field.required ? " *" : "") }),
        control,
        field.help ? el("div", { "class": "form-text", text: field.help }) : null
      ]));
    });
    var self = this;
    preview.oninput = preview.onchange = function () { self.applyConditions(); };
    this.applyConditions();
  };

  Builder.prototype.applyConditions = function () {
    var preview = this.preview;
    var answers = {};
    preview.querySelectorAll("[data-key]").forEach(function (control) {
      var key = control.getAttribute("data-key");
      if (control.multiple) {
        answers[key] = Array.prototype.filter.call(control.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
      } else {
        answers[key] = control.value;
      }
    });
    this.fields.forEach(function (field) {
      var block = preview.querySelector('[data-preview-field="' + (field.key || "") + '"]');
      if (!block || !field.show_if || !field.show_if.field) return;
      var answer = answers[field.show_if.field];
      var wanted = (field.show_if["in"] || []).map(String);
      var shown = Array.isArray(answer)
        ? answer.some(function (value) { return wanted.indexOf(value) >= 0; })
        : answer !== undefined && answer !== "" && wanted.indexOf(String(answer)) >= 0;
      block.hidden = !shown;
    });
  };

  // --- 2. the fulfilment queue's keys -------------------------------------------------------
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function currentRowForm(selector) {
    var row = document.querySelector("[data-queue-row].is-current");
    if (row) return row.querySelector(selector);
    // On a task's own page there is no queue: the page's form.
    return document.querySelector("[data-queue-row]") ? null : document.querySelector(selector);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var form = null;
    if (event.key === "s") {
      form = currentRowForm("form[data-shortcut-start]");
    } else if (event.key === "c") {
      form = currentRowForm("form[data-shortcut-complete]");
      if (!form) {
        // The task page: write what was done first, then complete.
        var note = document.querySelector("[data-shortcut-complete-note] textarea");
        if (note) { note.focus(); event.preventDefault(); }
        return;
      }
    } else if (event.key === "?" && !document.querySelector("script[src*='tickets/tickets.js']")) {
      var help = document.getElementById("shortcuts-help");
      if (help && window.bootstrap) window.bootstrap.Modal.getOrCreateInstance(help).show();
      return;
    } else {
      return;
    }
    if (form) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-form-builder]").forEach(function (host) { new Builder(host).start(); });
  });
})();

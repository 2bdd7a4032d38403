// Catalogue order form: show a conditional question only while the earlier answer it depends
// on matches. A hidden question's inputs are disabled, so they are neither sent nor required
// by the browser; the server drops hidden answers as well (formspec.answers_clean).
// Wrappers carry data-show-if-field="<key>" and data-show-if-in='[values]'. No inline script (CSP).
(function () {
  "use strict";

  function controlsNamed(form, name) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name === name;
    });
  }

  // The answers of the field `name` as a list of strings (checkboxes: the ticked ones).
  function answersOf(form, name) {
    var answers = [];
    controlsNamed(form, name).forEach(function (control) {
      if (control.disabled) { return; }
      if (control.type === "checkbox" || control.type === "radio") {
        if (control.checked) { answers.push(control.value); }
      } else if (control.tagName === "SELECT") {
        Array.prototype.forEach.call(control.selectedOptions, function (option) {
          answers.push(option.value);
        });
      } else {
        answers.push(control.value);
      }
    });
    return answers
      .map(function (answer) { return String(answer).replace(/\s+/g, " ").trim(); })
      .filter(function (answer) { return answer !== ""; });
  }

  function matches(answers, expected) {
    return answers.some(function (answer) {
      return expected.some(function (value) {
        if (typeof value === "number") {
          return answer !== "" && !isNaN(Number(answer)) && Number(answer) === value;
        }
        return answer === String(value).replace(/\s+/g, " ").trim();
      });
    });
  }

  function parseValues(wrapper) {
    try {
      var values = JSON.parse(wrapper.getAttribute("data-show-if-in") || "[]");
      return Array.isArray(values) ? values : [];
    } catch (error) {
      return [];
    }
  }

  function setShown(wrapper, shown) {
    wrapper.hidden = !shown;
    Array.prototype.forEach.call(wrapper.querySelectorAll("input, select, textarea"), function (control) {
      control.disabled = !shown;
    });
  }

  // One pass in document order is enough: a condition refers to an EARLIER field only, whose
  // own visibility (and so its disabled inputs) is already settled when we reach it.
  function update(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-if-field]"), function (wrapper) {
      var answers = answersOf(form, wrapper.getAttribute("data-show-if-field"));
      setShown(wrapper, matches(answers, parseValues(wrapper)));
    });
  }

  function setUp(form) {
    update(form);
    form.addEventListener("change", function () { update(form); });
    form.addEventListener("input", function () { update(form); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-catalog-order-form]"), setUp);
  });
})();

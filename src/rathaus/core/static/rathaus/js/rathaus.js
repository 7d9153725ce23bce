/* Rathaus progressive enhancement. Every page works without this file.
   Loaded with `defer` from base.html; no inline scripts (strict CSP). */
(function () {
  "use strict";

  // Move focus to an error summary so screen reader users hear it first (WCAG 3.3.1).
  function focusErrorSummary(root) {
    var target = root.querySelector("[data-rathaus-autofocus]");
    if (target) {
      target.focus();
    }
  }

  /* Conditional questions (forms engine, data-show-if): a question that depends on an answer
     on the same page is hidden while that answer says it does not apply, and shown as soon as
     it does. Without this script every such question is shown, and its hint says when to
     answer it; the server ignores the answer of a question that does not apply either way.
     The condition names inputs by their name and says the field type; see
     rathaus.forms.rendering._condition_json. */
  var CHOICE_TYPES = ["select", "radio", "country"];
  var TEXT_TYPES = ["text", "email", "phone", "iban"];

  function inputsNamed(form, name) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name === name;
    });
  }

  function inHiddenQuestion(element) {
    var question = element.closest("[data-show-if]");
    return question !== null && question.hidden;
  }

  // The answer as the server would read it; null for none, undefined for "cannot tell".
  function answerOf(form, name, type) {
    var inputs = inputsNamed(form, name).filter(function (input) {
      return !inHiddenQuestion(input);
    });
    if (type === "yes_no") {
      var said = inputs.filter(function (input) { return input.checked; })[0];
      return said ? said.value === "yes" : null;
    }
    if (type === "checkbox") {
      return inputs.filter(function (input) { return input.checked; })
        .map(function (input) { return input.value; });
    }
    if (CHOICE_TYPES.indexOf(type) !== -1) {
      var chosen = inputs.filter(function (input) {
        return input.tagName === "SELECT" || input.checked;
      })[0];
      return chosen && chosen.value ? chosen.value : null;
    }
    if (TEXT_TYPES.indexOf(type) !== -1) {
      var typed = inputs[0] && inputs[0].value.trim();
      return typed ? typed : null;
    }
    return undefined;
  }

  // Anything typed into the field or one of its parts (a date, a name, an address).
  function isAnswered(form, name) {
    return Array.prototype.some.call(form.elements, function (element) {
      var ours = element.name === name || element.name.indexOf(name + "__") === 0;
      if (!ours || element.type === "hidden" || element.type === "submit") {
        return false;
      }
      if (inHiddenQuestion(element)) {
        return false;
      }
      if (element.type === "radio" || element.type === "checkbox") {
        return element.checked;
      }
      return element.type !== "file" && element.value.trim() !== "";
    });
  }

  // true, false, or undefined when the script cannot judge (then the question stays shown).
  function holds(form, node) {
    var results;
    if (node.all || node.any) {
      results = (node.all || node.any).map(function (child) { return holds(form, child); });
      if (results.indexOf(undefined) !== -1) {
        return undefined;
      }
      return node.all ? results.indexOf(false) === -1 : results.indexOf(true) !== -1;
    }
    if (node.not) {
      var inner = holds(form, node.not);
      return inner === undefined ? undefined : !inner;
    }
    if (Object.prototype.hasOwnProperty.call(node, "answered")) {
      return isAnswered(form, node.field) === node.answered;
    }
    var answer = answerOf(form, node.field, node.type);
    if (answer === undefined) {
      return undefined;
    }
    if (Object.prototype.hasOwnProperty.call(node, "equals")) {
      return answer === node.equals;
    }
    if (Object.prototype.hasOwnProperty.call(node, "not_equals")) {
      return answer !== node.not_equals;
    }
    if (node.in) {
      return answer !== null && node.in.indexOf(answer) !== -1;
    }
    if (Object.prototype.hasOwnProperty.call(node, "contains")) {
      return Array.isArray(answer) && answer.indexOf(node.contains) !== -1;
    }
    return undefined;
  }

  function applyConditions(form) {
    var questions = form.querySelectorAll("[data-show-if]");
    // In document order: a question that depends on a hidden one sees it unanswered.
    Array.prototype.forEach.call(questions, function (question) {
      var condition;
      try {
        condition = JSON.parse(question.getAttribute("data-show-if"));
      } catch (error) {
        return;
      }
      // A question with a message from the server stays visible, whatever the script thinks.
      var flagged = question.querySelector("[aria-invalid='true']") !== null;
      question.hidden = !flagged && holds(form, condition) === false;
    });
  }

  function enhanceConditions() {
    var forms = document.querySelectorAll("form");
    Array.prototype.forEach.call(forms, function (form) {
      if (!form.querySelector("[data-show-if]")) {
        return;
      }
      if (!form.hasAttribute("data-show-if-ready")) {
        form.setAttribute("data-show-if-ready", "");
        var update = function () { applyConditions(form); };
        form.addEventListener("change", update);
        form.addEventListener("input", update);
      }
      applyConditions(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceConditions();
    focusErrorSummary(document);
  });

  // After htmx swaps in a form with errors, focus its summary as well.
  document.addEventListener("htmx:afterSwap", function (event) {
    enhanceConditions();
    focusErrorSummary(event.target);
  });
})();

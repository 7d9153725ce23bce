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

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary(document);
  });

  // After htmx swaps in a form with errors, focus its summary as well.
  document.addEventListener("htmx:afterSwap", function (event) {
    focusErrorSummary(event.target);
  });
})();

/* Progressive enhancement only: every page works without this file.
   - Quick exit: Shift pressed three times within 5 seconds (as GOV.UK's
     "Exit this page"), or the exit link, hides the page at once and replaces
     the history entry so Back doesn't return here. The link goes to /s/exit,
     which ends the session on the server before sending the person on, so
     earlier pages (no-store) find it ended when Back fetches them again.
   - "Prefer not to say" checkboxes clear the other choices, and vice versa.
   - Error summaries and notices take focus so screen readers announce them.
   - The submit button can't be pressed twice (the server copes anyway).
   - Staff key sheets get a Print button. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function quickExit(event) {
    var link = document.querySelector("[data-quick-exit]");
    if (!link) return;
    if (event) event.preventDefault();
    document.documentElement.classList.add("is-exiting");
    document.title = "";
    window.location.replace(link.href);
  }

  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift" || event.repeat) return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 5000; });
    presses.push(now);
    if (presses.length >= 3) {
      presses = [];
      quickExit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var link = document.querySelector("[data-quick-exit]");
    if (link) link.addEventListener("click", quickExit);

    document.querySelectorAll("[data-exclusive]").forEach(function (exclusive) {
      var group = document.querySelectorAll('input[type="checkbox"][name="' + exclusive.name + '"]');
      group.forEach(function (box) {
        box.addEventListener("change", function () {
          if (!box.checked) return;
          group.forEach(function (other) {
            if (other === box) return;
            if (box === exclusive || other === exclusive) other.checked = false;
          });
        });
      });
    });

    var focusTarget = document.querySelector("[data-focus-on-load]");
    if (focusTarget) focusTarget.focus();

    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });

    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector('button[type="submit"]');
        if (button) window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
})();

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

/* Keeping a code (issue 21, point 8): Copy, Print and Save as a file beside a
   receipt or resume code (templates/respond/_code_box.html). The file is made here,
   in the page, as a Blob: the code never goes to the server in an address. Without
   JavaScript these stay hidden and a link to a plain page to print does the job. */
(function () {
  "use strict";

  function say(box, message) {
    var status = box.querySelector("[data-code-status]");
    if (status) status.textContent = message;
  }

  function copyBySelecting(box) {
    var code = document.querySelector(".code-box__code");
    if (!code || !document.execCommand) return false;
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    return copied;
  }

  function copy(box) {
    var code = box.getAttribute("data-code");
    var done = function () { say(box, box.getAttribute("data-copied")); };
    var failed = function () {
      say(box, box.getAttribute(copyBySelecting(box) ? "data-copied" : "data-not-copied"));
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(code).then(done, failed);
    } else {
      failed();
    }
  }

  function save(box) {
    var blob = new Blob([box.getAttribute("data-file-text")], { type: "text/plain" });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = "code.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 0);
    say(box, box.getAttribute("data-saved"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-code-keep]").forEach(function (box) {
      box.querySelector("[data-code-copy]").addEventListener("click", function () { copy(box); });
      box.querySelector("[data-code-print]").addEventListener("click", function () { window.print(); });
      box.querySelector("[data-code-save]").addEventListener("click", function () { save(box); });
    });
  });
})();

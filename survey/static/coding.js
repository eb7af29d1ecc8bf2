/* Coding answers with the keyboard, on the staff coding page (one answer at a
   time). Progressive enhancement only: the form works the same without it.
   - The key shown beside a theme (1-9, then letters) ticks or unticks it.
   - n: "Save and next"; s: "Save"; p: the previous answer, without saving.
   Keys are ignored while typing in a field or with Ctrl, Alt or Cmd held, so the
   browser's and the screen reader's own keys keep working. A status line,
   read out by screen readers, says what a key did. */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    return ["checkbox", "radio", "button", "submit", "reset", "hidden"].indexOf(target.type) === -1;
  }

  function submitWith(form, action) {
    var button = form.querySelector('button[name="action"][value="' + action + '"]');
    if (!button) return;
    if (form.requestSubmit) form.requestSubmit(button);
    else button.click();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-coding-keys]");
    if (!form) return;
    var status = document.querySelector("[data-coding-status]");

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.isComposing || event.repeat || typing(event.target)) return;
      var key = event.key;
      var boxes = form.querySelectorAll('input[type="checkbox"][data-key]');
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].getAttribute("data-key") === key) {
          event.preventDefault();
          boxes[i].checked = !boxes[i].checked;
          boxes[i].dispatchEvent(new Event("change", { bubbles: true }));
          if (status) {
            var label = form.querySelector('label[for="' + boxes[i].id + '"]');
            status.textContent = (label ? label.textContent : key) + (boxes[i].checked ? ": ticked" : ": not ticked");
          }
          return;
        }
      }
      if (key === "n" || key === "s") {
        event.preventDefault();
        submitWith(form, key === "n" ? "next" : "save");
      } else if (key === "p") {
        var previous = document.querySelector("a[data-previous-answer]");
        if (previous) {
          event.preventDefault();
          window.location.assign(previous.href);
        }
      }
    });
  });
})();

/* Follow-up questions, shown at once: a question that an answer on the same page
   reveals (its `show_if` names a question on this page) is in the page already,
   hidden; this shows it as soon as that answer is chosen, and hides it again when
   the answer changes. Only a convenience: the server walks the branching itself
   when the page is saved, and without this script it shows the page again with
   the new questions. While a follow-up is shown its `_revealed` field is sent, so
   the server knows the person saw it. Loaded only on pages that have follow-ups. */
(function () {
  "use strict";

  function chosenValues(name) {
    var boxes = document.querySelectorAll('input[name="' + name + '"]');
    var values = [];
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) values.push(boxes[i].value);
    }
    return values;
  }

  function holds(block) {
    var trigger = document.getElementById("q-" + block.getAttribute("data-show-if"));
    // A condition on a question that isn't shown doesn't hold (as on the server).
    if (!trigger || trigger.hidden) return false;
    var wanted = block.getAttribute("data-show-if-values").split(" ");
    return chosenValues(block.getAttribute("data-show-if")).some(function (value) {
      return wanted.indexOf(value) !== -1;
    });
  }

  /* In page order, so a follow-up of a follow-up sees its trigger's new state. */
  function update() {
    var appeared = 0;
    var blocks = document.querySelectorAll("[data-show-if]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var show = holds(block);
      if (show && block.hidden) appeared += 1;
      block.hidden = !show;
      var marker = block.querySelector("[data-revealed]");
      if (marker) marker.disabled = !show;
    }
    return appeared;
  }

  /* A polite live region, so a screen reader hears that a question appeared. */
  function statusRegion() {
    var form = document.querySelector("form[data-follow-up-message]");
    if (!form) return null;
    var region = document.createElement("p");
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("data-follow-up-status", "");
    region.setAttribute("data-message", form.getAttribute("data-follow-up-message"));
    form.appendChild(region);
    return region;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[data-show-if]")) return;
    var status = statusRegion();
    // The browser may have restored answers (Back): match them before anything else.
    update();
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (!input || (input.type !== "radio" && input.type !== "checkbox")) return;
      if (update() && status) {
        status.textContent = "";
        window.setTimeout(function () {
          status.textContent = status.getAttribute("data-message");
        }, 50);
      }
    });
  });
})();

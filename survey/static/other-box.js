/* The "Other" box of a choice question, shown only while "Other" is chosen. Without
   this script the box is always there, labelled "If you chose Other, please
   describe it", and the server ignores it beside another answer. While the box is
   hidden its field is disabled, so it isn't sent; what was typed in it stays, and
   comes back if "Other" is chosen again. Loaded only on pages with such a box. */
(function () {
  "use strict";

  /* `field` is the box's text field; the box is the block around it and its label. */
  function update(field) {
    var other = document.getElementById(field.getAttribute("data-other-for") + "--_other");
    var show = Boolean(other && other.checked);
    field.closest(".choice-other").hidden = !show;
    field.disabled = !show;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var fields = document.querySelectorAll("input[data-other-for]");
    // The browser may have restored the choices (Back): match them first.
    fields.forEach(update);
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (!input || (input.type !== "radio" && input.type !== "checkbox")) return;
      fields.forEach(function (field) {
        if (field.getAttribute("data-other-for") === input.name) update(field);
      });
    });
  });
})();

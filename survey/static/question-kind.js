/* The builder's question form: choosing another kind of question shows that kind's
   fields at once (a choice question's answers, a scale's points), which the page
   already holds hidden. Without JavaScript, "Show the fields for this kind" asks the
   server for them. The form then says which kind it shows (shown_type), so saving
   it saves, rather than showing the fields again. */
(function () {
  "use strict";
  var select = document.querySelector("select[data-kind-select]");
  if (!select) return;
  var form = select.form;
  var shown = form.querySelector("input[name=shown_type]");
  var status = form.querySelector("[data-kind-status]");
  var changed = document.getElementById("kind-changed");
  select.addEventListener("change", function () {
    var kind = select.value;
    form.querySelectorAll("[data-kinds]").forEach(function (part) {
      part.hidden = part.getAttribute("data-kinds").split(" ").indexOf(kind) === -1;
    });
    if (shown) shown.value = kind;
    if (changed) changed.hidden = true;
    if (status) {
      var name = select.options[select.selectedIndex].text;
      status.textContent = "The fields for a “" + name + "” question are shown below. Nothing is saved yet.";
    }
  });
})();

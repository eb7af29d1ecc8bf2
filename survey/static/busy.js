/* A form that takes a while (publishing renders a PDF): once sent, its button can't
   be pressed again and the page says, in a status region, that the work is under way.
   Without JavaScript the hint before the button says the same, and the server refuses
   a second publication of the same version anyway. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    var status = document.getElementById(form.getAttribute("data-busy"));
    form.addEventListener("submit", function () {
      // After this event the form is sent; disabling now keeps its data.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
        });
      }, 0);
      if (status) {
        status.textContent = form.getAttribute("data-busy-message") || "";
        status.hidden = false;
      }
      form.setAttribute("aria-busy", "true");
    });
  });
})();

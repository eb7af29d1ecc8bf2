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

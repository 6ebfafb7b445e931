// Small behaviours shared by every page. No inline scripts, so a strict Content-Security-Policy holds.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();

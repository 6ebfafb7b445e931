// A run's page: ask for its status every few seconds and say it in the live region, then show
// the result when it is done. Nothing moves on the page but the bar and one sentence.
(function () {
  "use strict";
  var box = document.getElementById("run-progress-box");
  if (!box) return;
  var bar = document.getElementById("run-progress");
  var said = document.getElementById("run-progress-said");
  var url = box.getAttribute("data-status-url");
  function check() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        bar.value = run.progress;
        bar.textContent = run.progress + "%";
        if (run.done) {
          said.textContent = run.status + ": the result is below.";
          window.location.reload();
        } else {
          said.textContent = run.status + ", " + run.progress + "% done.";
          window.setTimeout(check, 3000);
        }
      })
      .catch(function () { window.setTimeout(check, 10000); });
  }
  window.setTimeout(check, 3000);
})();

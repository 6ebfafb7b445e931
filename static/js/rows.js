// "Add a person" and "Add an income" without a round trip: a new row from the formset's
// template. Without script the same buttons post the form and the page comes back with the row.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    var prefix = button.getAttribute("data-add-row");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var rows = document.querySelector('[data-rows="' + prefix + '"]');
    var template = document.getElementById(prefix + "-template");
    if (!total || !rows || !template) { return; }
    button.addEventListener("click", function (event) {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) { return; }
      event.preventDefault();
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var row = rows.lastElementChild;
      var legend = row.querySelector("legend");
      if (legend && button.dataset.rowLabel) { legend.textContent = button.dataset.rowLabel.replace("%s", index + 1); }
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
      countPeople();
    });
  });
  function countPeople() {
    var out = document.querySelector('[data-count="members"]');
    if (!out) { return; }
    var names = document.querySelectorAll('[data-rows="members"] input[name$="-name"]');
    var count = 0;
    names.forEach(function (input) { if (input.value.trim()) { count += 1; } });
    var text = count <= 1 ? out.dataset.one : out.dataset.many;
    if (text) { out.textContent = text.replace("%s", String(count)); }
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches('[data-rows="members"] input[name$="-name"]')) { countPeople(); }
  });
})();

// Names for the admin's search-as-you-type account and login pickers (select2). select2 hides
// the labelled <select> and shows a combobox named only by its current text, so an empty picker
// has no accessible name (WCAG 4.1.2). Each combobox is given the name of the select it stands
// for (its aria-label in inline rows, or its <label>), followed by its current choice. Rows
// added later are named as they appear.
(function () {
  "use strict";

  function nameOf(select) {
    if (select.getAttribute("aria-label")) {
      return select.getAttribute("aria-label");
    }
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }

  function nameComboboxes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      if (!container || !container.classList.contains("select2")) {
        return;
      }
      var combobox = container.querySelector('[role="combobox"]');
      var name = nameOf(select);
      var nameId = select.id + "-picker-name";
      if (!combobox || !name || !select.id || document.getElementById(nameId)) {
        return;
      }
      // A hidden name referenced first, then select2's own text of the current choice:
      // "Service account, 100001-01 Maria Garcia".
      var hidden = document.createElement("span");
      hidden.id = nameId;
      hidden.hidden = true;
      hidden.textContent = name;
      container.appendChild(hidden);
      var current = combobox.getAttribute("aria-labelledby");
      combobox.setAttribute("aria-labelledby", current ? nameId + " " + current : nameId);
      // The choice's text is read as part of that name; select2's read-only "textbox" role
      // on it would be a second, nameless field.
      var rendered = container.querySelector(".select2-selection__rendered");
      if (rendered) {
        rendered.removeAttribute("role");
        rendered.removeAttribute("aria-readonly");
      }
    });
  }

  function start() {
    nameComboboxes(document);
    new MutationObserver(function () {
      nameComboboxes(document);
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

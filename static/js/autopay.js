// Autopay's card form: a new card is confirmed with Stripe.js (the number goes to Stripe only),
// saved, and its id put in the form, which is then submitted as usual.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey, { locale: form.dataset.locale || "auto" });
  var card = stripe.elements().create("card");
  function msg(name, fallback) { return form.dataset["msg" + name] || fallback; }
  card.mount("#card-element");
  var errorBox = document.getElementById("card-error");
  var errorText = document.getElementById("card-error-text");
  var busy = false;

  function csrf() { return form.querySelector("[name=csrfmiddlewaretoken]").value; }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (r) { return r.json(); });
  }
  function fail(message) {
    busy = false;
    errorText.textContent = message;
    errorBox.hidden = false;
    errorBox.setAttribute("tabindex", "-1");
    errorBox.focus();
  }
  function usingNewCard() {
    var chosen = form.querySelector("input[name=card_id]:checked");
    var hidden = form.querySelector("input[type=hidden][name=card_id]");
    return hidden !== null || chosen === null || chosen.value === "";
  }

  form.addEventListener("submit", function (event) {
    if (!usingNewCard() || form.dataset.cardSaved === "true") { return; }
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    errorBox.hidden = true;
    post(form.dataset.setupUrl).then(function (started) {
      // A new card is saved only after the password was confirmed lately: go confirm it, then come back.
      if (started.reauthenticate_url) { window.location.assign(started.reauthenticate_url); return; }
      if (started.error) { return fail(started.error); }
      return stripe.confirmCardSetup(started.client_secret, { payment_method: { card: card } }).then(function (result) {
        if (result.error) { return fail(window.portalCardError(result.error)); }
        return post(form.dataset.saveUrl, { setup_intent: result.setupIntent.id }).then(function (saved) {
          if (saved.error) { return fail(saved.error); }
          var field = form.querySelector("input[type=hidden][name=card_id]") || form.querySelector("#card-new");
          field.value = String(saved.card_id);
          form.dataset.cardSaved = "true";
          form.submit();
        });
      });
    }).catch(function () { fail(msg("Unreachable", "We could not reach the server. Please try again.")); });
  });
})();

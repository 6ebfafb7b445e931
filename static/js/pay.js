// The card form: Stripe.js collects the card; our server only sees Stripe's ids.
// Steps: start (record the payment, get a SetupIntent) -> confirmCardSetup in the browser
// -> charge (server creates the PaymentIntent) -> confirmCardPayment if the bank asks.
// A saved card skips the first two: start charges it at once, and the bank's check (3-D Secure)
// comes only if the bank asks for it.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey, { locale: form.dataset.locale || "auto" });
  var card = stripe.elements().create("card");
  // The page's language: the template puts each message, translated, on the form.
  function msg(name, fallback) { return form.dataset["msg" + name] || fallback; }
  card.mount("#card-element");
  var newCard = document.getElementById("new-card");
  function chosenCard() {
    var chosen = form.querySelector("input[name=card_choice]:checked");
    return chosen && chosen.value !== "new" ? chosen.value : "";
  }
  function showNewCard() { if (newCard) { newCard.hidden = chosenCard() !== ""; } }
  form.querySelectorAll("input[name=card_choice]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      showNewCard();
  form.elements.amount.addEventListener("change", function () {
    // Another amount is another payment (the server refuses a token started for a different one).
    if (window.crypto && window.crypto.randomUUID) { form.elements.token.value = window.crypto.randomUUID(); }
  });
      // Another card is another payment: a token already used for the first must not carry over.
      if (window.crypto && window.crypto.randomUUID) { form.elements.token.value = window.crypto.randomUUID(); }
    });
  });
  showNewCard();
  var button = document.getElementById("pay-button");
  var status = document.getElementById("pay-status");
  var errorBox = document.getElementById("pay-error");
  var errorText = document.getElementById("pay-error-text");
  var busy = false;

  function csrf() { return form.querySelector("[name=csrfmiddlewaretoken]").value; }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return { error: msg("Server", "Something went wrong. You have not been charged. Please try again.") }; });
    });
  }

  function fail(message, retryToken) {
    busy = false;
    button.disabled = false;
    status.textContent = "";
    errorText.textContent = message;
    errorBox.hidden = false;
    errorBox.focus && errorBox.setAttribute("tabindex", "-1");
    errorBox.focus();
    if (retryToken) { form.elements.token.value = retryToken; }
  }

  function finish(result) {
    if (result.status === "succeeded" || result.status === "processing") {
      window.location.assign(result.receipt_url);
    } else if (result.status === "requires_action") {
      status.textContent = msg("Bank", "Your bank is asking you to confirm the payment.");
      stripe.confirmCardPayment(result.client_secret).then(function () {
        // Whatever the browser says, the server asks Stripe how it ended.
        return post(result.complete_url);
      }).then(finish);
    } else {
      fail(result.error || msg("Failed", "The payment did not go through."), result.retry_token);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }  // one click, one payment
    busy = true;
    button.disabled = true;
    errorBox.hidden = true;
    status.textContent = msg("Processing", "Processing your payment. Please keep this page open.");
    var body = {
      token: form.elements.token.value,
      amount: form.elements.amount.value,
      email: form.elements.email ? form.elements.email.value : "",
      account_number: form.elements.account_number ? form.elements.account_number.value : "",
      save_card: form.elements.save_card ? form.elements.save_card.checked : false,
      card_id: chosenCard()
    };
    post(form.dataset.startUrl, body).then(function (started) {
      if (started.status) { return finish(started); }  // a saved card: already charged, or the bank asks
      if (started.error) { return fail(started.error); }
      return stripe.confirmCardSetup(started.client_secret, { payment_method: { card: card } }).then(function (result) {
        if (result.error) { return fail(window.portalCardError(result.error)); }
        return post(started.charge_url, { setup_intent: result.setupIntent.id }).then(finish);
      });
    }).catch(function () {
      fail(msg("Network", "We could not reach the server. Check your connection: you have not been charged twice. Please try again."));
    });
  });
})();

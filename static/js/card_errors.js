// Stripe.js reports a card problem in Stripe's own English; the page shows ours instead, in the
// page's language, from the table the template put on the page (billing's card_error_messages).
window.portalCardError = function (error) {
  "use strict";
  var node = document.getElementById("card-error-messages");
  var table = node ? JSON.parse(node.textContent) : {};
  var code = error && (error.decline_code || error.code);
  return (code && table[code]) || table[""] || "The payment did not go through.";
};

// ehigate compliance console: small progressive enhancements only; every
// page works without this script.
"use strict";
document.addEventListener("submit", function (ev) {
  // A form sent once is not sent twice (a second release would be refused).
  var form = ev.target;
  if (form.method !== "post") { return; }
  var button = form.querySelector("button[type=submit]");
  if (!button) { return; }
  if (button.dataset.busy) {
    var text = button.textContent;
    button.textContent = button.dataset.busy;
    // A download does not leave the page: restore the button.
    setTimeout(function () { button.textContent = text; button.disabled = false; }, 5000);
  }
  setTimeout(function () { button.disabled = true; }, 0);
});

// A submitted report's page while it is being evaluated: ask for its state every 2 s, reload when the
// result is there; after 30 s say that evaluation takes longer than usual and keep asking, less often.
(function () {
  "use strict";
  var box = document.getElementById("state");
  if (!box || !box.dataset.stateUrl) { return; }
  var started = Date.now(), told = false;
  function ask() {
    fetch(box.dataset.stateUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : { state: "received" }; })
      .catch(function () { return { state: "received" }; })
      .then(function (body) {
        if (body.state === "evaluated") { window.location.reload(); return; }
        var waited = Date.now() - started;
        if (waited > 30000 && !told) {
          told = true;
          var slow = document.getElementById("slow");
          if (slow) { slow.hidden = false; }
        }
        setTimeout(ask, waited > 30000 ? 5000 : 2000);
      });
  }
  setTimeout(ask, 2000);
}());

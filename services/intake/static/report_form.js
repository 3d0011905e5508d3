// The report form: autosave of the draft (debounced), a warning before leaving with unsaved changes,
// the catalogue's checks run on the typed figures before submitting, completion counts per aspect,
// and whole-aspect status buttons. Without JavaScript the form still works: the server saves the draft
// on every submit attempt and shows the same checks.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var data = form.dataset;
  var status = document.getElementById("autosave");
  var dirty = false, timer = null, checkTimer = null, saving = false;

  function payload() {
    var body = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "action") { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      body.append(el.name, el.value);
    });
    return body;
  }

  function say(text, bad) {
    if (!status) { return; }
    status.textContent = text;
    status.className = bad ? "autosave bad" : "autosave";
  }

  function save() {
    timer = null;
    if (saving || !form.elements.unit.value) { return; }
    saving = true;
    say(data.saving, false);
    fetch(data.draftUrl, { method: "POST", body: payload(), credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.json().then(function (body) { return [answer.status, body]; }); })
      .then(function (result) {
        var code = result[0], body = result[1];
        if (code === 200) {
          form.elements.revision.value = body.revision;
          dirty = false;
          say(body.message, false);
        } else {
          say(body.message || data.saveFailed, true);
        }
      })
      .catch(function () { say(data.offline, true); })
      .then(function () { saving = false; if (dirty && !timer) { timer = setTimeout(save, 3000); } });
  }

  function showChecks(found) {
    document.querySelectorAll(".precheck").forEach(function (el) { el.remove(); });
    ["errors", "warnings"].forEach(function (kind) {
      Object.keys(found[kind] || {}).forEach(function (name) {
        var field = form.elements[name] && (form.elements[name].closest ? form.elements[name].closest(".field, .measure") : null);
        if (!field && form.elements[name] && form.elements[name][0]) { field = form.elements[name][0].closest(".field, .measure"); }
        var box = document.createElement("div");
        box.className = "precheck " + (kind === "errors" ? "error" : "warning");
        box.setAttribute("role", "alert");
        box.textContent = found[kind][name].join("；");
        (field || document.getElementById("report-checks")).appendChild(box);
      });
    });
  }

  function check() {
    checkTimer = null;
    if (!form.elements.unit.value) { return; }
    fetch(data.checkUrl, { method: "POST", body: payload(), credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (found) { if (found) { showChecks(found); } })
      .catch(function () {});
  }

  function count() {
    var measuresDone = 0, measures = 0, filled = 0, indicators = 0, required = 0, requiredFilled = 0;
    document.querySelectorAll("[data-aspect]").forEach(function (card) {
      var done = 0, all = 0;
      card.querySelectorAll(".measure").forEach(function (row) {
        all += 1;
        if (row.querySelector("input[type=radio]:checked")) { done += 1; }
      });
      measuresDone += done; measures += all;
      var badge = document.querySelector('[data-progress="' + card.dataset.aspect + '"]');
      if (badge) { badge.textContent = done + "/" + all; badge.className = done === all ? "badge st-evaluated" : "badge"; }
    });
    document.querySelectorAll("[data-indicator]").forEach(function (field) {
      indicators += 1;
      var input = field.querySelector("input[type=text]");
      var has = input ? input.value.trim() !== "" : !!field.querySelector("input[type=radio]:checked");
      if (has) { filled += 1; }
      if (field.dataset.required === "1") { required += 1; if (has) { requiredFilled += 1; } }
    });
    var summary = document.getElementById("progress");
    if (summary) {
      summary.textContent = data.progress.replace("{m}", measuresDone + "/" + measures)
        .replace("{i}", filled + "/" + indicators).replace("{r}", requiredFilled + "/" + required);
    }
  }

  function changed(event) {
    dirty = true;
    count();
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 3000);
    if (event && event.target && /^i\.|\.status$|\.note$/.test(event.target.name || "")) {
      if (checkTimer) { clearTimeout(checkTimer); }
      checkTimer = setTimeout(check, 800);
    }
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  document.querySelectorAll("[data-set-aspect]").forEach(function (button) {
    button.addEventListener("click", function () {
      var card = document.querySelector('[data-aspect="' + button.dataset.setAspect + '"]');
      card.querySelectorAll('input[type=radio][value="' + button.dataset.status + '"]').forEach(function (radio) {
        radio.checked = true;
      });
      changed({ target: { name: ".status" } });
    });
  });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = data.unsaved; return data.unsaved; }
  });
  count();
  if (data.check === "1") { check(); }
}());

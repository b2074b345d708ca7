// The Settings page's storage folder: while a person types, say where the folder really lands (a relative
// folder is taken from the project folder) or why it is refused, and ask what happens to the models in
// the current folder only once the folder is changed. Without this script the page works the same: the
// server refuses a changed folder until the question is answered, and says where a relative one went.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.previewUrl;
  var input = document.getElementById("id_storage_dir");
  var question = document.querySelector(".form-row.field-old_storage");
  if (!url || !input) { return; }
  var initial = input.value;
  var timer = null;
  var asked = 0;

  var out = document.createElement("div");
  out.id = "mh-storage-preview";
  out.className = "help mh-storage-preview";
  out.setAttribute("aria-live", "polite");
  // Under the input (beside it, the flex row would squeeze both), above the field's own help.
  var row = input.closest(".flex-container") || input;
  row.insertAdjacentElement("afterend", out);

  function reveal() {
    if (!question) { return; }
    var changed = input.value.trim() !== initial.trim();
    // An answer the server asked for (an error on the row) stays visible whatever the input says.
    question.hidden = !changed && !question.classList.contains("errors");
  }

  function show(data, value) {
    out.textContent = "";
    out.dataset.for = value;  // which input this answer is about (typing may have moved on)
    out.classList.toggle("mh-refused-path", !data.ok);
    if (!data.ok) { out.textContent = data.problem; return; }
    var label = data.default ? "Default folder (MODELHUB_STORAGE_DIR): " : "Models will land in ";
    var code = document.createElement("code");
    code.textContent = data.absolute;
    out.appendChild(document.createTextNode(label));
    out.appendChild(code);
    out.appendChild(document.createTextNode(data.exists ? "" : " (a new folder, created when you save)"));
  }

  function check() {
    var mine = ++asked;
    var value = input.value;
    fetch(url + "?path=" + encodeURIComponent(value), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === asked) { show(data, value); } })
      .catch(function () { /* the server still checks the folder when the form is saved */ });
  }

  input.addEventListener("input", function () {
    reveal();
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 300);
  });
  reveal();
  check();
})();

// The Settings page's "Test connection": sends the endpoint as typed (not yet saved) and shows the answer
// under the field. Without this script the button still works: it submits the form to the same view,
// which answers with a message at the top of the page.
(function () {
  "use strict";
  var button = document.getElementById("mh-test-connection");
  var out = document.getElementById("mh-connection-result");
  var input = document.getElementById("id_hub_endpoint");
  var form = button && button.form;
  if (!button || !out || !input || !form) { return; }

  function show(ok, text) {
    out.hidden = false;
    out.textContent = text;
    out.classList.toggle("mh-connection-ok", ok);
    out.classList.toggle("mh-connection-failed", !ok);
  }

  button.addEventListener("click", function (event) {
    event.preventDefault();
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("hub_endpoint", input.value);
    button.disabled = true;
    show(true, "Testing " + (input.value.trim() || "the default endpoint") + "…");
    fetch(button.getAttribute("formaction"), {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : { ok: false, message: "The test failed: HTTP " + r.status }; })
      .then(function (data) { show(data.ok, data.message); })
      .catch(function () { show(false, "The test could not be run: is ModelHub still reachable?"); })
      .finally(function () { button.disabled = false; });
  });
})();

// Add from Hub: the primary button says what it will do ("Download selected" while Download now is
// ticked, else "Add selected"), and the GGUF RAM hints follow the RAM typed, before it is submitted.
// The rule is hub_fit.ram_needed's; the page renders the same text without JavaScript.
(function () {
    "use strict";
    const GIB = 1024 ** 3;
    const box = document.getElementById("id_download_now");
    const button = document.getElementById("mh-submit");
    function label() {
        if (!button) return;
        const downloading = box !== null && box.checked && !box.disabled;
        button.value = downloading ? button.dataset.downloadLabel : button.dataset.addLabel;
    }
    if (box) box.addEventListener("change", label);
    label();

    const ram = document.getElementById("id_ram_gb");
    function hints() {
        const gib = parseFloat(ram.value);
        if (!(gib >= 0.5)) return;
        const shown = String(Math.round(gib * 10) / 10);
        document.querySelectorAll(".mh-ram[data-ram-need]").forEach(function (hint) {
            const need = Number(hint.dataset.ramNeed);
            const needs = (need / GIB).toFixed(1);
            const fits = need <= gib * GIB;
            hint.textContent = fits ? "fits in " + shown + " GB RAM (needs ~" + needs + " GB)"
                                    : "needs ~" + needs + " GB RAM, more than " + shown + " GB";
            hint.classList.toggle("mh-nofit", !fits);
        });
    }
    if (ram) ram.addEventListener("input", hints);
})();

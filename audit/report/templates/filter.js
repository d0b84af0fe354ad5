(function () {
  var form = document.getElementById("filter");
  if (!form) { return; }
  var wanted = {"not-passing": ["error", "fail", "inconclusive", "warn"], "fail": ["fail"], "inconclusive": ["inconclusive"], "error": ["error"]};
  function apply() {
    var statuses = wanted[form.elements.status.value] || null;
    var model = form.elements.model.value, area = form.elements.area.value;
    var shown = 0, total = 0;
    document.querySelectorAll("[data-model],[data-area],[data-statuses]").forEach(function (el) {
      var hide = (model !== "" && el.dataset.model !== undefined && el.dataset.model !== model) ||
                 (area !== "" && el.dataset.area !== undefined && el.dataset.area !== area) ||
                 (statuses !== null && el.dataset.statuses !== undefined &&
                  !el.dataset.statuses.split(" ").some(function (s) { return statuses.indexOf(s) >= 0; }));
      el.hidden = hide;
      if (el.classList.contains("record")) { total += 1; if (!hide) { shown += 1; } }
    });
    document.getElementById("filter-count").textContent = "showing " + shown + " of " + total + " records";
  }
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  form.hidden = false;
  apply();
})();

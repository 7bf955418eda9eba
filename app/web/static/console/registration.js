// Registrations list: the header checkbox selects every row of the page.
(function () {
  var all = document.querySelector("[data-check-all]");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
  });
})();

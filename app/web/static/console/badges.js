// The badges page: show only the chosen filter's input, and redraw the preview as choices change.
(function () {
  const form = document.getElementById("print");
  const img = document.getElementById("badge-preview");
  if (!form || !img) return;
  const subs = form.querySelectorAll(".sub[data-for]");
  const search = form.querySelector(".people-search");
  let timer = null;

  function chosenFilter() {
    const checked = form.querySelector("input[name=filter]:checked");
    return checked ? checked.value : "all";
  }
  function showSubs() {
    const how = chosenFilter();
    subs.forEach((el) => { el.hidden = el.dataset.for !== how; });
  }
  function redraw() {
    const params = new URLSearchParams();
    new FormData(form).forEach((value, key) => { if (key !== "csrf_token") params.append(key, value); });
    img.src = form.dataset.preview + "?" + params.toString();
  }
  form.addEventListener("change", () => {
    showSubs();
    clearTimeout(timer);
    timer = setTimeout(redraw, 250);
  });
  if (search) {
    search.addEventListener("input", () => {
      const q = search.value.trim();
      form.querySelectorAll(".people-list label[data-text]").forEach((el) => {
        el.hidden = q !== "" && !el.dataset.text.includes(q);
      });
    });
  }
  showSubs();
})();

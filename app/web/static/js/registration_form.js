// Registration form (/r/<code>/f/<id>): add and remove person blocks. Each block's inputs are named
// p-<index>-<field>; after any change the blocks are renumbered so the server reads them in order.
(function () {
  var list = document.getElementById("people");
  var template = document.getElementById("person-template");
  var add = document.getElementById("add-person");
  if (!list || !template || !add) return;
  var max = parseInt(list.getAttribute("data-max"), 10) || 50;

  function renumber() {
    var blocks = list.querySelectorAll("[data-person]");
    blocks.forEach(function (block, i) {
      block.querySelector("[data-person-no]").textContent = String(i + 1);
      block.querySelectorAll("[name]").forEach(function (input) {
        input.name = input.name.replace(/^p-[^-]+-/, "p-" + i + "-");
      });
      block.querySelector("[data-remove-person]").hidden = blocks.length < 2;
    });
    add.hidden = blocks.length >= max;
  }

  add.addEventListener("click", function () {
    list.appendChild(template.content.cloneNode(true));
    renumber();
    var blocks = list.querySelectorAll("[data-person]");
    var first = blocks[blocks.length - 1].querySelector("input,select");
    if (first) first.focus();
  });
  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-person]");
    if (!button) return;
    button.closest("[data-person]").remove();
    renumber();
  });
  renumber();
})();

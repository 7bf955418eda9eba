// Meeting settings and the sessions page: confirm before a consequential button, and the agenda
// editor's rows (add, remove, move). Without JavaScript the pages still work: the agenda form
// carries blank rows, and buttons submit without asking.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  var list = document.getElementById("agenda-rows");
  var template = document.getElementById("agenda-row-template");
  if (!list || !template) {
    return;
  }
  list.classList.add("js");
  document.querySelectorAll(".js-only").forEach(function (el) { el.classList.add("on"); });

  function newRow() {
    return template.content.firstElementChild.cloneNode(true);
  }

  function clear(row) {
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
  }

  var add = document.getElementById("agenda-add");
  if (add) {
    add.addEventListener("click", function () {
      var row = newRow();
      list.appendChild(row);
      row.querySelector("input[name=time]").focus();
    });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) {
      return;
    }
    var row = button.closest(".agenda-row");
    if (button.hasAttribute("data-remove")) {
      if (list.children.length > 1) {
        row.remove();
      } else {
        clear(row);
      }
      return;
    }
    var step = Number(button.getAttribute("data-move"));
    if (step < 0 && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (step > 0 && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    button.focus();
  });
})();

/* The ballot asks once before it is cast (templates/votes/ballot.html): a ballot cannot be changed, so
   the tap on 赞成 or 提交投票 first shows what was chosen, with 确认提交 and 返回修改. Without script
   the form posts at once, as before: the server's own rules (one ballot each, the choice count) stand
   either way. No inline script: the CSP allows only our own files. */
(function () {
  "use strict";
  var form = document.getElementById("ballot");
  var panel = document.getElementById("ballot-confirm");
  if (!form || !panel) return;
  var chosenText = panel.querySelector(".chosen");
  var hidden = [];

  function chosen(submitter) {
    if (submitter && submitter.name === "option") {
      return [{ value: submitter.value, label: submitter.textContent.trim() }];
    }
    var out = [];
    form.querySelectorAll("input[name=option]:checked").forEach(function (input) {
      out.push({ value: input.value, label: input.parentNode.textContent.trim() });
    });
    return out;
  }

  form.addEventListener("submit", function (event) {
    var picks = chosen(event.submitter);
    if (!picks.length) return; // the browser's own "required" message, or the server's answer
    event.preventDefault();
    hidden.forEach(function (node) { node.remove(); });
    hidden = picks.map(function (pick) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "option";
      input.value = pick.value;
      return input;
    });
    chosenText.textContent = picks.map(function (pick) { return pick.label; }).join("、");
    form.hidden = true;
    panel.hidden = false;
    panel.querySelector(".confirm").focus();
  });

  panel.querySelector(".confirm").addEventListener("click", function () {
    // The choices travel as hidden fields: a checkbox's own would double them, a button's is lost.
    form.querySelectorAll("input[name=option]:not([type=hidden])").forEach(function (input) {
      input.disabled = true;
    });
    hidden.forEach(function (node) { form.appendChild(node); });
    this.disabled = true;
    this.textContent = "正在提交…";
    form.submit();
  });

  panel.querySelector(".back").addEventListener("click", function () {
    hidden.forEach(function (node) { node.remove(); });
    hidden = [];
    panel.hidden = true;
    form.hidden = false;
  });
}());

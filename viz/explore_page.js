// deltaw explorer: shows step k of the steps computed in Python (embedded as JSON); evaluates nothing.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("deltaw-steps").textContent);
  var steps = data.steps;
  var groups = {};
  var ops = {};
  document.querySelectorAll("g.node[data-node]").forEach(function (g) { groups[g.getAttribute("data-node")] = g; });
  document.querySelectorAll("g.node[data-op]").forEach(function (g) { ops[g.getAttribute("data-op")] = g; });
  var slider = document.getElementById("slider");
  var k = 0;

  function shownAt(i) { return i; } // forward step i shows node i (creation order)

  function show(step) {
    k = Math.max(0, Math.min(steps.length - 1, step));
    var s = steps[k];
    document.body.setAttribute("data-step", String(k));
    document.body.setAttribute("data-phase", s.phase);
    document.getElementById("equation").textContent = s.text;
    document.getElementById("where").textContent = "step " + (k + 1) + " of " + steps.length + " (" + s.phase + ")";
    slider.value = String(k);
    Object.keys(groups).forEach(function (id) {
      var g = groups[id];
      var i = Number(id);
      g.classList.toggle("pending", k < shownAt(i));
      if (ops[id]) { ops[id].classList.toggle("pending", k < shownAt(i)); }
      var f = data.final_at[i];
      if (f !== null && k >= f) { g.setAttribute("data-grad", String(data.nodes[i].grad)); }
      else { g.removeAttribute("data-grad"); }
      var cur = s.node === i;
      g.classList.toggle("current", cur);
      if (ops[id]) { ops[id].classList.toggle("current", cur); }
      g.classList.toggle("child", s.children.indexOf(i) >= 0);
      g.classList.toggle("target", s.child === i);
    });
  }

  function jump(phase) { show(data.phase_start[phase]); }
  document.getElementById("next").addEventListener("click", function () { show(k + 1); });
  document.getElementById("prev").addEventListener("click", function () { show(k - 1); });
  ["forward", "backward", "update"].forEach(function (p) {
    document.getElementById("to-" + p).addEventListener("click", function () { jump(p); });
  });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { show(k + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { show(k - 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(steps.length - 1); }
  });
  show(0);
})();

// packstudio "+ selection" on browse and pack pages: a toggle button after every
// version link marked with data-pick="name@version" (by browse.js, or in
// the pack page itself); picks
// are kept in localStorage (picks.js) and reviewed on the selection page.
(function () {
  "use strict";
  var ps = window.packstudio || {};
  var summary = document.getElementById("pick-summary");
  if (!ps.picks || !summary) return;
  var count = summary.querySelector("[data-pick-count]");
  var buttons = [];

  document.querySelectorAll("a[data-pick]").forEach(function (a) {
    var id = a.getAttribute("data-pick");
    var b = document.createElement("button");
    b.type = "button";
    b.className = "pick";
    b.dataset.add = id;
    // One name for both states, which aria-pressed tells apart; it holds
    // the visible word, so speech users can say what they see.
    b.setAttribute("aria-label", "selection: " + id);
    b.addEventListener("click", function () {
      if (ps.picks.has(id)) ps.picks.remove(id);
      else ps.picks.add(id);
      update();
    });
    var after = a.nextElementSibling && a.nextElementSibling.classList.contains("sig") ? a.nextElementSibling : a;
    if (after.parentNode.tagName === "B") after = after.parentNode;
    after.after(" ", b);
    buttons.push(b);
  });

  function update() {
    var ids = ps.picks.read();
    buttons.forEach(function (b) {
      var on = ids.indexOf(b.dataset.add) >= 0;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.textContent = on ? "✓ selection" : "+ selection";
    });
    count.textContent = ids.length + (ids.length === 1 ? " pack version" : " pack versions");
  }

  window.addEventListener("storage", update);
  summary.hidden = false;
  update();
})();

// packstudio picks: the name@version of pack versions added to the
// selection from browse, search and pack pages, kept in localStorage
// across pages. Every page loads it for the header's selection count.
(function () {
  "use strict";
  var ps = (window.packstudio = window.packstudio || {});
  if (ps.picks) return; // loaded twice on one page
  var key = "packstudio.picks";
  ps.picks = {
    read: function () {
      try {
        var v = JSON.parse(localStorage.getItem(key) || "[]");
        return Array.isArray(v) ? v.filter(function (s) { return typeof s === "string"; }) : [];
      } catch (e) {
        return [];
      }
    },
    write: function (ids) {
      localStorage.setItem(key, JSON.stringify(ids));
      showCount();
    },
    has: function (id) { return ps.picks.read().indexOf(id) >= 0; },
    add: function (id) { var ids = ps.picks.read(); if (ids.indexOf(id) < 0) { ids.push(id); ps.picks.write(ids); } },
    remove: function (id) { ps.picks.write(ps.picks.read().filter(function (s) { return s !== id; })); }
  };

  // showCount puts the number of picks beside the header's Selection link.
  function showCount() {
    var n = 0;
    try { n = ps.picks.read().length; } catch (e) { /* storage off: no count */ }
    Array.prototype.forEach.call(document.querySelectorAll("[data-pick-total]"), function (el) {
      el.textContent = n > 0 ? " (" + n + ")" : "";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showCount);
  } else {
    showCount();
  }
  window.addEventListener("storage", function (e) { if (e.key === key) showCount(); });
})();

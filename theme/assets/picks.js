// packstudio picks: the name@version of pack versions added to the
// selection from browse pages, kept in localStorage across pages.
(function () {
  "use strict";
  var ps = (window.packstudio = window.packstudio || {});
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
    write: function (ids) { localStorage.setItem(key, JSON.stringify(ids)); },
    has: function (id) { return ps.picks.read().indexOf(id) >= 0; },
    add: function (id) { var ids = ps.picks.read(); if (ids.indexOf(id) < 0) { ids.push(id); ps.picks.write(ids); } },
    remove: function (id) { ps.picks.write(ps.picks.read().filter(function (s) { return s !== id; })); }
  };
})();

// packstudio review: the list of chosen pack versions shared by the bundle
// builder and the selection page — sizes, total, the URL list, "Copy all
// URLs", what the bundle still needs, and urls.txt / images.txt /
// SHA256SUMS / bundle.json made in the page.
// A classic script (module scripts do not load from file://): it adds
// packstudio.review and packstudio.humanSize to one global.
(function () {
  "use strict";
  var ps = (window.packstudio = window.packstudio || {});

  // humanSize formats a byte count as the generator's humanSize does.
  ps.humanSize = function (n) {
    if (n < 1024) return n + " B";
    var units = "KMGTPE", exp = -1;
    do { n /= 1024; exp++; } while (n >= 1024 && exp < units.length - 1);
    return n.toFixed(1) + " " + units[exp] + "iB";
  };

  // absolute resolves a path relative to this page against its own
  // location, so a mirror re-hosted elsewhere or opened from disk hands out
  // URLs that work where it is.
  ps.absolute = function (rel) { return new URL(rel, location.href).href; };

  function baseName(path) { return path.slice(path.lastIndexOf("/") + 1); }

  function el(tag, text) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function link(href, text) {
    var a = el("a", text);
    a.href = href;
    return a;
  }

  // urlList is every artifact URL then its signature URL, in pick order.
  ps.urlList = function (picks) {
    var lines = [];
    picks.forEach(function (p) { lines.push(ps.absolute(p.url), ps.absolute(p.sig)); });
    return lines.length ? lines.join("\n") + "\n" : "";
  };

  // imageList is images.txt: the picks' image references, one a line,
  // sorted, each once.
  ps.imageList = function (picks) {
    var all = new Set();
    picks.forEach(function (p) { (p.images || []).forEach(function (i) { all.add(i); }); });
    var lines = Array.from(all).sort();
    return lines.length ? lines.join("\n") + "\n" : "";
  };

  // sha256sums checks the downloaded artifacts with sha256sum -c.
  ps.sha256sums = function (picks) {
    return picks.map(function (p) { return p.sha256 + "  " + baseName(p.url) + "\n"; }).join("");
  };

  // shellQuote quotes s for a POSIX shell: every byte literal.
  function shellQuote(s) { return "'" + String(s).replace(/'/g, "'\\''") + "'"; }

  // downloadScript is download.sh: fetch the bundle into the current
  // folder with curl, check it with sha256sum, then check the site key's
  // fingerprint against the one the page shows and every signature with
  // openssl. It stops at the first failure.
  ps.downloadScript = function (picks, key) {
    var keyName = baseName(key.path);
    var l = [
      "#!/bin/sh",
      "# download.sh: fetch " + picks.length + (picks.length === 1 ? " pack version" : " pack versions") +
        " and their signatures into the current folder, check them with",
      "# sha256sum -c SHA256SUMS, then check every signature with openssl and the",
      "# site key, whose SHA-256 fingerprint must be the one the builder page shows.",
      "# Usage: sh download.sh   (in an empty folder; needs curl, sha256sum, openssl)",
      "set -eu",
      "key_url=" + shellQuote(ps.absolute(key.path)),
      "key_name=" + shellQuote(keyName),
      "key_id=" + shellQuote(key.id),
      "fetch() { echo \"fetching $2\"; curl -fsS -o \"$2\" \"$1\"; }"
    ];
    picks.forEach(function (p) {
      l.push("fetch " + shellQuote(ps.absolute(p.url)) + " " + shellQuote(baseName(p.url)));
      l.push("fetch " + shellQuote(ps.absolute(p.sig)) + " " + shellQuote(baseName(p.sig)));
    });
    l.push(": > SHA256SUMS");
    picks.forEach(function (p) {
      l.push("printf '%s\\n' " + shellQuote(p.sha256 + "  " + baseName(p.url)) + " >> SHA256SUMS");
    });
    l.push("sha256sum -c SHA256SUMS",
      "fetch \"$key_url\" \"$key_name\"",
      "fp=$(openssl pkey -pubin -in \"$key_name\" -outform DER | sha256sum | cut -d' ' -f1)",
      "if [ \"$fp\" != \"$key_id\" ]; then",
      "\techo \"download.sh: $key_name has the fingerprint $fp, not $key_id as the page shows: the signatures prove nothing with it\" >&2",
      "\texit 1",
      "fi");
    picks.forEach(function (p) {
      l.push("openssl dgst -sha256 -verify \"$key_name\" -signature " + shellQuote(baseName(p.sig)) + " " + shellQuote(baseName(p.url)));
    });
    l.push("echo \"download.sh: " + picks.length + " pack versions checked: SHA-256 and signature\"");
    return l.join("\n") + "\n";
  };

  function hex(buf) {
    return Array.from(new Uint8Array(buf), function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function sha256(buf) { return crypto.subtle.digest("SHA-256", buf).then(hex); }

  // pemBody decodes the base64 body of a PEM public key: its DER.
  function pemBody(text) {
    var b64 = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // importKey takes the site key as WebCrypto knows it: ECDSA P-256 or RSA
  // PKCS #1 v1.5, the two kinds packstudio signs with.
  function importKey(der) {
    var ec = { name: "ECDSA", namedCurve: "P-256" };
    return crypto.subtle.importKey("spki", der, ec, false, ["verify"]).then(function (k) {
      return { key: k, alg: { name: "ECDSA", hash: "SHA-256" }, ec: true };
    }, function () {
      var rsa = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      return crypto.subtle.importKey("spki", der, rsa, false, ["verify"]).then(function (k) { return { key: k, alg: rsa }; });
    });
  }

  // rawECDSA turns an openssl (DER) ECDSA signature into the r‖s form
  // WebCrypto verifies; null when it is not one.
  function rawECDSA(sig) {
    var b = new Uint8Array(sig), at = 0;
    function next() {
      if (b[at++] !== 0x02) return null;
      var n = b[at++], v = b.slice(at, at + n);
      at += n;
      while (v.length > 32 && v[0] === 0) v = v.slice(1);
      if (v.length > 32) return null;
      var out = new Uint8Array(32);
      out.set(v, 32 - v.length);
      return out;
    }
    if (b[at++] !== 0x30) return null;
    at += b[at] & 0x80 ? 1 + (b[at] & 0x7f) : 1;
    var r = next(), s = next();
    if (!r || !s) return null;
    var raw = new Uint8Array(64);
    raw.set(r);
    raw.set(s, 32);
    return raw;
  }

  function verifySig(k, sig, data) {
    var s = k.ec ? rawECDSA(sig) : sig;
    return s ? crypto.subtle.verify(k.alg, k.key, s, data) : Promise.resolve(false);
  }

  function get(url) {
    return fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.arrayBuffer();
    });
  }

  function put(dir, name, data) {
    return dir.getFileHandle(name, { create: true }).then(function (h) {
      return h.createWritable();
    }).then(function (w) {
      return w.write(data).then(function () { return w.close(); });
    });
  }

  // saveInto fetches the picks' artifacts and signatures, the site key and
  // writes them with SHA256SUMS into dir, a FileSystemDirectoryHandle (a
  // folder the person picked, or the origin private file system). Nothing
  // is written before it is checked: the key's fingerprint against
  // key.id, each artifact's SHA-256 against the page's data, each
  // signature against its artifact with that key. A file that fails is
  // not written and is named in the result; a wrong key stops everything.
  // progress(done, total, name) follows each file.
  ps.saveInto = function (dir, picks, key, progress) {
    var total = 2 * picks.length + 2, done = 0;
    var result = { written: [], refused: [] };
    var site;
    function step(name) { done++; if (progress) progress(done, total, name); }
    var keyName = baseName(key.path);
    return get(ps.absolute(key.path)).then(function (pem) {
      var der = pemBody(new TextDecoder().decode(pem));
      return sha256(der).then(function (fp) {
        if (fp !== key.id) throw new Error(keyName + " has the fingerprint " + fp + ", not the site key's " + key.id + "; nothing saved");
        return importKey(der);
      }).then(function (k) {
        site = k;
        return put(dir, keyName, pem);
      });
    }).then(function () {
      result.written.push(keyName);
      step(keyName);
      return picks.reduce(function (chain, p) {
        return chain.then(function () { return saveOne(p); });
      }, Promise.resolve());
    }).then(function () {
      return put(dir, "SHA256SUMS", new Blob([ps.sha256sums(picks)]));
    }).then(function () {
      result.written.push("SHA256SUMS");
      step("SHA256SUMS");
      return result;
    });

    function saveOne(p) {
      var name = baseName(p.url), sigName = baseName(p.sig);
      var refuse = function (file, why) { result.refused.push({ name: file, why: why }); };
      return Promise.all([get(ps.absolute(p.url)), get(ps.absolute(p.sig))]).then(function (got) {
        var data = got[0], sig = got[1];
        return sha256(data).then(function (sum) {
          if (sum !== p.sha256) {
            refuse(name, "its SHA-256 is " + sum + ", not " + p.sha256 + " as the page says");
            refuse(sigName, "its artifact " + name + " was refused");
            return;
          }
          return verifySig(site, sig, data).then(function (ok) {
            if (!ok) {
              refuse(name, "its signature " + sigName + " does not verify with the site key");
              refuse(sigName, "it does not verify " + name + " with the site key");
              return;
            }
            return put(dir, name, data).then(function () { return put(dir, sigName, sig); }).then(function () {
              result.written.push(name, sigName);
            });
          });
        });
      }, function (err) {
        refuse(name, "could not be fetched: " + err.message);
        refuse(sigName, "not fetched with " + name);
      }).then(function () {
        step(name);
        step(sigName);
      });
    }
  };

  // wireSave shows "Download bundle" where the browser can save into a
  // folder the person picks (File System Access, a secure context, over
  // HTTP: fetch cannot read file://), and the download.sh note elsewhere.
  function wireSave(section, meta, picks) {
    var box = section.querySelector("[data-save]");
    var missing = section.querySelector("[data-save-missing]");
    if (!box) return;
    var can = typeof window.showDirectoryPicker === "function" && window.isSecureContext && location.protocol !== "file:";
    box.hidden = !can;
    missing.hidden = can;
    if (!can) return;
    var button = box.querySelector("#download-bundle");
    var bar = box.querySelector("[data-save-progress]");
    var status = box.querySelector("[data-save-status]");
    var problems = box.querySelector("[data-save-problems]");
    button.addEventListener("click", function () {
      var list = picks();
      problems.replaceChildren();
      if (!list.length) { status.textContent = "Nothing chosen yet."; return; }
      Promise.resolve().then(function () { return window.showDirectoryPicker({ id: "packstudio-bundle", mode: "readwrite" }); }).then(function (dir) {
        button.disabled = true;
        bar.hidden = false;
        bar.value = 0;
        status.textContent = "Saving " + list.length + (list.length === 1 ? " pack version" : " pack versions") + "…";
        return ps.saveInto(dir, list, meta.key, function (done, total, name) {
          bar.max = total;
          bar.value = done;
          status.textContent = "Checked " + done + " of " + total + " files (" + name + ").";
        }).then(function (r) {
          r.refused.forEach(function (f) { problems.append(el("li", f.name + ": " + f.why + ". Not saved.")); });
          status.textContent = r.refused.length ?
            "Saved " + r.written.length + " files; refused " + r.refused.length + " that failed their check (listed below): do not use this folder as a complete bundle." :
            "Saved and checked all " + r.written.length + " files: every SHA-256 and signature matches. Run sha256sum -c SHA256SUMS there to check again.";
          box.dataset.result = r.refused.length ? "refused" : "ok";
        });
      }).catch(function (err) {
        if (err && err.name === "AbortError") { status.textContent = "No folder chosen; nothing saved."; return; }
        status.textContent = "Not saved: " + (err && err.message || err) + ".";
        box.dataset.result = "failed";
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  // review wires the review section. meta.bundle(ids) returns the object
  // saved as bundle.json; meta.root is the path to the site root; meta.key
  // the site key's path and fingerprint. The
  // returned function shows a new list of picks.
  ps.review = function (section, meta) {
    var rows = section.querySelector("[data-review-rows]");
    var list = section.querySelector("[data-review-list]");
    var empty = section.querySelector("[data-review-empty]");
    var total = section.querySelector("[data-review-total]");
    var textarea = section.querySelector("#bundle-urls");
    var copy = section.querySelector("#copy-urls");
    var copyStatus = section.querySelector("[data-copy-status]");
    var downloads = section.querySelectorAll("[data-download]");
    var needsBox = section.querySelector("[data-needs]");
    var needsList = section.querySelector("#bundle-needs");
    var blobs = [];
    var current = [];
    wireSave(section, meta, function () { return current; });
    section.querySelector("[data-mirror-cmd]").textContent =
      "packstudio mirror " + ps.absolute(meta.root) + " ./mirror --bundle bundle.json";
    section.hidden = false;

    copy.addEventListener("click", function () {
      var text = textarea.value;
      var n = text ? text.trim().split("\n").length : 0;
      var done = function () { copyStatus.textContent = n ? "Copied " + n + " URLs (" + n / 2 + " files and their signatures)." : "Nothing to copy."; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(); done(); });
      } else {
        fallbackCopy();
        done();
      }
    });
    function fallbackCopy() {
      textarea.select();
      document.execCommand("copy");
    }

    // The download links' files are made after the frame that shows a
    // change, or at once when a link is about to be used, not in the
    // change itself: each Blob and blob: URL is a synchronous round trip
    // to the browser process, and the four of them were most of a
    // choice's time in the builder.
    var stale = null, scheduled = false;
    function refresh() {
      if (!stale) return;
      var picks = stale;
      stale = null;
      setDownloads(picks);
    }
    downloads.forEach(function (a) {
      ["pointerdown", "focus", "contextmenu", "click"].forEach(function (type) { a.addEventListener(type, refresh); });
    });

    function setDownloads(picks) {
      blobs.forEach(function (u) { URL.revokeObjectURL(u); });
      blobs = [];
      var files = {
        "urls.txt": ps.urlList(picks),
        "images.txt": ps.imageList(picks),
        "SHA256SUMS": ps.sha256sums(picks),
        "bundle.json": JSON.stringify(meta.bundle(picks.map(function (p) { return p.id; })), null, 1) + "\n",
        "download.sh": ps.downloadScript(picks, meta.key)
      };
      downloads.forEach(function (a) {
        // Not text/plain: Chromium appends ".txt" to a text/plain download
        // named SHA256SUMS, and sha256sum -c SHA256SUMS then finds nothing.
        var u = URL.createObjectURL(new Blob([files[a.dataset.download]], { type: "application/octet-stream" }));
        blobs.push(u);
        a.href = u;
      });
    }
    // From the start the links are files, never the in-page #review.
    setDownloads(current);

    // showNeeds lists each unmet required rule: {id, text, add} where add,
    // when there is one, is {label, click}, the one click that meets it.
    function showNeeds(needs) {
      needsList.replaceChildren();
      needs.forEach(function (n) {
        var li = el("li", n.text);
        li.dataset.for = n.id;
        if (n.add) {
          var b = el("button", n.add.label);
          b.type = "button";
          b.addEventListener("click", n.add.click);
          li.append(" ", b);
        }
        needsList.append(li);
      });
      needsBox.hidden = needs.length === 0;
    }

    // show lists picks (and needs, the unmet rules of the picks).
    return function show(picks, needs) {
      current = picks;
      showNeeds(needs || []);
      rows.replaceChildren();
      var sum = 0;
      picks.forEach(function (p) {
        sum += p.size;
        var tr = el("tr");
        var th = el("th");
        th.scope = "row";
        th.append(link(p.page, p.display), " " + p.version + " ", el("small", p.id));
        if (p.remove) {
          var b = el("button", "Remove");
          b.type = "button";
          b.setAttribute("aria-label", "Remove " + p.id);
          b.addEventListener("click", p.remove);
          th.append(" ", b);
        }
        var size = el("td", ps.humanSize(p.size));
        var files = el("td");
        var a = link(p.url, baseName(p.url));
        var s = link(p.sig, baseName(p.sig));
        a.download = s.download = "";
        files.append(a, " ", s);
        tr.append(th, size, files);
        rows.append(tr);
      });
      total.textContent = ps.humanSize(sum) + " in " + picks.length + (picks.length === 1 ? " pack" : " packs");
      list.hidden = picks.length === 0;
      empty.hidden = picks.length !== 0;
      textarea.value = ps.urlList(picks);
      copyStatus.textContent = "";
      stale = picks;
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(function () { setTimeout(function () { scheduled = false; refresh(); }); });
      }
    };
  };
})();

// The "check the count" page: the ballots file can be dropped on the form; its SHA-256
// fingerprint is computed here, in the browser, and its ballots are counted again here with the
// published rules, both compared with what was published, before (or instead of) sending the file
// to be recounted by the server. Without JavaScript the form works the same (choose, then send).
(function () {
  var form = document.querySelector("form.check-count");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector(".drop-zone");
  var status = document.getElementById("browser-fingerprint");
  var published = (document.getElementById("published-fingerprint") || {}).textContent || "";

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function fingerprint(file) {
    if (!file || !window.crypto || !window.crypto.subtle || !file.arrayBuffer) { return; }
    file.arrayBuffer().then(function (bytes) {
      return window.crypto.subtle.digest("SHA-256", bytes);
    }).then(function (digest) {
      var value = hex(digest);
      var same = value === published.trim();
      status.textContent = (same ? status.dataset.same : status.dataset.different) + " " + value;
      status.className = "flash " + (same ? "flash-success" : "flash-error");
      status.hidden = false;
    });
  }

  // --- the count, done again here with the published rules (assembly/tally.py, format 2) ---------

  var panel = document.getElementById("browser-recount");
  var publishedData = document.getElementById("published-result");
  var publishedResult = publishedData ? JSON.parse(publishedData.textContent) : null;

  function fail() { throw new Error("unreadable"); }

  function isList(value) { return Array.isArray(value); }

  function recount(doc) {
    if (!doc || typeof doc !== "object" || !doc.rules || !isList(doc.ballots)) { fail(); }
    var rules = doc.rules, items = rules.items, k = rules.k || 1;
    if (!isList(items) || !items.length) { fail(); }
    var known = {};
    items.forEach(function (item, index) { known[item] = index; });
    var votes = doc.ballots.map(function (entry) {
      if (!entry || typeof entry !== "object" || !("vote" in entry)) { fail(); }
      return entry.vote;
    });
    var turnout = votes.length;
    var quorum = turnout * 100 >= (rules.quorum_percent || 0) * rules.electorate;
    var result = {turnout: turnout, quorum: quorum, accepted: [], items: {}, ranking: []};
    if (rules.method === "yes_no") {
      items.forEach(function (item) { result.items[item] = {yes: 0, no: 0, abstain: 0}; });
      votes.forEach(function (vote) {
        if (!vote || typeof vote !== "object" || isList(vote)) { fail(); }
        Object.keys(vote).forEach(function (item) {
          var counts = result.items[item];
          if (!counts || !Object.prototype.hasOwnProperty.call(counts, vote[item])) { fail(); }
          counts[vote[item]] += 1;
        });
      });
      items.forEach(function (item) {
        var c = result.items[item];
        var passes = rules.majority === "two_thirds" ? c.yes > 0 && 3 * c.yes >= 2 * (c.yes + c.no) : c.yes > c.no;
        if (quorum && passes) { result.accepted.push(item); }
      });
    } else if (rules.method === "approval") {
      items.forEach(function (item) { result.items[item] = {approvals: 0}; });
      votes.forEach(function (vote) {
        if (!isList(vote) || vote.length > k) { fail(); }
        vote.forEach(function (item) { if (!result.items[item]) { fail(); } result.items[item].approvals += 1; });
      });
      result.ranking = items.slice().sort(function (a, b) {  // most approvals first, ties in published order
        return (result.items[b].approvals - result.items[a].approvals) || (known[a] - known[b]);
      });
      if (quorum) {
        result.accepted = result.ranking.slice(0, k).filter(function (item) { return result.items[item].approvals > 0; });
      }
    } else if (rules.method === "ranked") {
      var n = items.length, d = [], a, b, i;
      for (a = 0; a < n; a++) { d.push(new Array(n).fill(0)); }
      votes.forEach(function (vote) {
        if (!isList(vote)) { fail(); }
        var above = new Array(n).fill(false);  // ranked so far, this rank included
        vote.forEach(function (rank) {
          if (!isList(rank) || !rank.length) { fail(); }
          var here = rank.map(function (item) {
            if (!(item in known) || above[known[item]]) { fail(); }
            return known[item];
          });
          here.forEach(function (x) { above[x] = true; });
          here.forEach(function (x) {
            for (var y = 0; y < n; y++) { if (!above[y]) { d[x][y] += 1; } }
          });
        });
      });
      var p = d.map(function (row, x) {
        return row.map(function (value, y) { return x !== y && value > d[y][x] ? value : 0; });
      });
      for (i = 0; i < n; i++) {
        for (a = 0; a < n; a++) {
          if (a === i || !p[a][i]) { continue; }
          for (b = 0; b < n; b++) {
            if (b !== i && b !== a) { p[a][b] = Math.max(p[a][b], Math.min(p[a][i], p[i][b])); }
          }
        }
      }
      var remaining = items.map(function (_item, index) { return index; });
      while (remaining.length) {
        var tier = remaining.filter(function (x) {
          return !remaining.some(function (y) { return p[y][x] > p[x][y]; });
        });
        if (!tier.length) { fail(); }
        tier.forEach(function (x) { result.ranking.push(items[x]); });
        remaining = remaining.filter(function (x) { return tier.indexOf(x) < 0; });
      }
      var preferred = d.some(function (row) { return row.some(function (value) { return value > 0; }); });
      if (quorum && preferred) { result.accepted = result.ranking.slice(0, k); }
    } else {
      fail();
    }
    return result;
  }

  window.assemblyRecount = recount;  // the same function, for comparing with the server's tally in tests

  function sameAsPublished(mine) {
    var theirs = publishedResult.result;
    if (mine.turnout !== theirs.turnout || mine.quorum !== theirs.quorum.met ||
        JSON.stringify(mine.accepted) !== JSON.stringify(theirs.accepted)) { return false; }
    if (theirs.method === "ranked") { return JSON.stringify(mine.ranking) === JSON.stringify(theirs.ranking); }
    return theirs.items.every(function (entry) {
      var counts = mine.items[entry.item];
      return counts && Object.keys(counts).every(function (key) { return counts[key] === entry[key]; });
    });
  }

  function show(mine) {
    var verdict = panel.querySelector(".recount-verdict"), facts = panel.querySelector(".recount-facts");
    facts.textContent = "";
    if (mine === null) {
      verdict.textContent = panel.dataset.unreadable;
      verdict.className = "recount-verdict flash flash-error";
    } else {
      var same = sameAsPublished(mine);
      verdict.textContent = same ? panel.dataset.same : panel.dataset.different;
      verdict.className = "recount-verdict flash " + (same ? "flash-success" : "flash-error");
      var titles = publishedResult.titles || {};
      [[panel.dataset.turnout, String(mine.turnout)],
       [panel.dataset.accepted, mine.accepted.map(function (item) { return titles[item] || item; }).join("; ")
         || panel.dataset.none]].forEach(function (pair) {
        var term = document.createElement("dt"), value = document.createElement("dd");
        term.textContent = pair[0];
        value.textContent = pair[1];
        value.dir = "auto";
        facts.appendChild(term);
        facts.appendChild(value);
      });
    }
    panel.hidden = false;
  }

  function countHere(file) {
    if (!panel || !publishedResult || !file || !file.text) { return; }
    file.text().then(function (content) {
      var mine = null;
      try { mine = recount(JSON.parse(content.replace(/^\uFEFF/, ""))); } catch (error) { mine = null; }
      show(mine);
    });
  }

  function examine(file) {
    fingerprint(file);
    countHere(file);
  }

  input.addEventListener("change", function () { examine(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      examine(input.files[0]);
    }
  });
})();

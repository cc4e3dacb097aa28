// The programme dashboard: asks the public GraphQL API for `programmeInsights` with the admin
// key the user typed (kept in this tab's sessionStorage, never in a URL), has the server draw
// the charts as SVG (POST /demo/admin/charts) and shows each beside a table of its figures.
(function () {
  "use strict";

  var KEY_STORAGE = "loyalty.demo.adminKey";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var QUERY = [
    "query Dashboard($from: Date!, $to: Date!, $granularity: InsightsGranularity!) {",
    "  programmeInsights(from: $from, to: $to, granularity: $granularity) {",
    "    from to granularity currency",
    "    members { total new active participationRate bySegment { segment members } }",
    "    points {",
    "      earned earnedBySource { source points }",
    "      spent spentByUse { use points }",
    "      expired redemptionRate breakage",
    "      liability { available pending cashValue }",
    "    }",
    "    tiers {",
    "      distribution { code name members }",
    "      migrations { fromCode toCode direction members }",
    "    }",
    "    behaviour { repeatPurchaseRate referrals { invited rewarded conversionRate } }",
    "    campaigns { code name status awards members points }",
    "    series { start earned spent expired activeMembers }",
    "  }",
    "}"
  ].join("\n");

  var D = window.LoyaltyDashboard;
  var form = document.getElementById("settings");
  var keyInput = document.getElementById("key");
  var fromInput = document.getElementById("from");
  var toInput = document.getElementById("to");
  var granularity = document.getElementById("granularity");
  var status = document.getElementById("status");
  var loadButton = document.getElementById("load");

  function isoDay(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
  }

  // The last 12 months: from the first day of the month 11 months ago to today.
  function defaultRange() {
    var today = new Date();
    fromInput.value = isoDay(new Date(today.getFullYear(), today.getMonth() - 11, 1));
    toInput.value = isoDay(today);
  }

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function postJson(url, body, headers) {
    var all = { "Content-Type": "application/json", "Accept": "application/json" };
    Object.keys(headers || {}).forEach(function (h) { all[h] = headers[h]; });
    return fetch(url, { method: "POST", headers: all, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().then(function (json) { return { ok: response.ok, json: json }; },
          function () { throw new Error(url + " answered " + response.status + " without JSON"); });
      });
  }

  function firstError(json) {
    var error = (json && json.errors && json.errors[0]) || {};
    var code = error.extensions && error.extensions.code;
    return (error.message || "the request was refused") + (code ? " (" + code + ")" : "");
  }

  function fetchInsights(key) {
    var variables = { from: fromInput.value, to: toInput.value, granularity: granularity.value };
    return postJson("/graphql", { query: QUERY, variables: variables },
      { "Authorization": "Bearer " + key })
      .then(function (answer) {
        if (answer.json && answer.json.errors) throw new Error(firstError(answer.json));
        if (!answer.ok || !answer.json.data) throw new Error("the API refused the request");
        return answer.json.data.programmeInsights;
      });
  }

  function drawCharts(insights) {
    return postJson("/demo/admin/charts", insights).then(function (answer) {
      if (!answer.ok) throw new Error("charts: " + firstError(answer.json));
      return answer.json;
    });
  }

  // The server's own SVG, still parsed as SVG (never as HTML) and stripped of anything that
  // could run or load: a label can only ever be text.
  function svgNode(text) {
    var doc = new DOMParser().parseFromString(String(text), "image/svg+xml");
    var root = doc.documentElement;
    if (doc.getElementsByTagName("parsererror").length || root.namespaceURI !== SVG_NS ||
        root.localName !== "svg") {
      return null;
    }
    Array.prototype.slice.call(root.querySelectorAll("script, style, foreignObject"))
      .forEach(function (e) { e.remove(); });
    [root].concat(Array.prototype.slice.call(root.querySelectorAll("*"))).forEach(function (e) {
      Array.prototype.slice.call(e.attributes).forEach(function (a) {
        var name = a.name.toLowerCase();
        if (name.indexOf("on") === 0 || name === "style" ||
            (/href$/.test(name) && a.value.charAt(0) !== "#")) {
          e.removeAttribute(a.name);
        }
      });
    });
    return document.importNode(root, true);
  }

  function showSummary(insights) {
    var box = document.getElementById("summary");
    box.replaceChildren();
    D.summary(insights).forEach(function (figure) {
      var card = D.element("div", undefined, "figure");
      card.appendChild(D.element("span", figure[0], "label"));
      card.appendChild(D.element("strong", figure[1], "value"));
      box.appendChild(card);
    });
    box.hidden = false;
  }

  function showPanels(insights, svgs) {
    var main = document.getElementById("panels");
    main.replaceChildren();
    D.PANELS.forEach(function (panel) {
      var section = D.element("section", undefined, "panel");
      section.id = "panel-" + panel.name;
      section.dataset.chart = panel.name;
      section.appendChild(D.element("h2", panel.title));
      section.appendChild(D.element("p", panel.about, "about"));
      var chart = D.element("div", undefined, "chart");
      var svg = svgNode(svgs[panel.name]);
      chart.appendChild(svg || D.element("p", "This chart could not be drawn.", "error"));
      section.appendChild(chart);
      var details = D.element("details");
      details.appendChild(D.element("summary", "Table"));
      var scroller = D.element("div", undefined, "table");
      scroller.appendChild(D.table(panel, insights));
      details.appendChild(scroller);
      section.appendChild(details);
      main.appendChild(section);
    });
    main.hidden = false;
  }

  function load() {
    var key = keyInput.value.trim();
    if (!key) {
      say("Enter an admin key first.", true);
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    loadButton.disabled = true;
    say("Loading…");
    fetchInsights(key)
      .then(function (insights) {
        return drawCharts(insights).then(function (svgs) {
          showSummary(insights);
          showPanels(insights, svgs);
          say("Insights from " + insights.from + " to " + insights.to + " by " +
            insights.granularity.toLowerCase() + ".");
        });
      })
      .catch(function (error) { say("Could not load the insights: " + error.message, true); })
      .then(function () { loadButton.disabled = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  document.getElementById("forget").addEventListener("click", function () {
    sessionStorage.removeItem(KEY_STORAGE);
    keyInput.value = "";
    say("The key is forgotten in this tab.");
  });

  defaultRange();
  var saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) {
    keyInput.value = saved;
    load();
  }
})();

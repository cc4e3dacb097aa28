// The dashboard's panels: for each chart the server draws (same names as api/demo/charts.py),
// its heading, one sentence on what it shows, and its table built from the same insights.
// Text only ever goes into the page as text (textContent), never as markup.
(function () {
  "use strict";

  // the charts' own names (api/demo/charts.py SOURCE_NAMES, served as /demo/admin/names.js)
  var NAMES = window.LOYALTY_NAMES || {};

  function named(code) {
    if (NAMES[code]) return NAMES[code];
    var words = String(code).replace(/_/g, " ").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function count(n) { return Number(n).toLocaleString("en"); }
  function percent(r) { return (r * 100).toFixed(1) + "%"; }
  function money(minor, currency) {
    // the currency's own minor unit: 2 digits for CNY, 0 for JPY, 3 for KWD
    var digits = 2;
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency: currency })
        .resolvedOptions().maximumFractionDigits;
    } catch (error) { /* not an ISO code: show hundredths */ }
    return (minor / Math.pow(10, digits)).toLocaleString("en", {
      minimumFractionDigits: digits, maximumFractionDigits: digits
    }) + " " + currency;
  }
  function bucket(start, granularity) { return granularity === "MONTH" ? start.slice(0, 7) : start; }

  var PANELS = [
    {
      name: "tierDistribution", title: "Members by tier",
      about: "How many members sit in each tier at the end of the range, lowest tier first.",
      columns: ["Tier", "Code", "Members"],
      rows: function (d) {
        return d.tiers.distribution.map(function (t) { return [t.name, t.code, count(t.members)]; });
      }
    },
    {
      name: "tierMigrations", title: "Tier moves",
      about: "Members who moved from one tier to another within the range, up or down.",
      columns: ["From", "To", "Direction", "Members"],
      rows: function (d) {
        var names = {};
        d.tiers.distribution.forEach(function (t) { names[t.code] = t.name; });
        return d.tiers.migrations.map(function (m) {
          return [names[m.fromCode] || m.fromCode, names[m.toCode] || m.toCode,
            m.direction === "UP" ? "Up" : "Down", count(m.members)];
        });
      }
    },
    {
      name: "pointsOverTime", title: "Points earned, spent and expired",
      about: "Points earned, spent and expired in each period of the range.",
      columns: ["Period", "Earned", "Spent", "Expired"],
      rows: function (d) {
        return d.series.map(function (b) {
          return [bucket(b.start, d.granularity), count(b.earned), count(b.spent), count(b.expired)];
        });
      }
    },
    {
      name: "activeMembers", title: "Active members",
      about: "Members who earned or spent points in each period.",
      columns: ["Period", "Active members"],
      rows: function (d) {
        return d.series.map(function (b) {
          return [bucket(b.start, d.granularity), count(b.activeMembers)];
        });
      }
    },
    {
      name: "rates", title: "Rates",
      about: "Participation, redemption (spent / earned), breakage (expired / earned), repeat " +
        "purchase and referral conversion over the whole range.",
      columns: ["Rate", "Value", "From"],
      rows: function (d) {
        var r = d.behaviour.referrals;
        return [
          ["Participation", percent(d.members.participationRate),
            count(d.members.active) + " active of " + count(d.members.total) + " members"],
          ["Redemption", percent(d.points.redemptionRate),
            count(d.points.spent) + " spent of " + count(d.points.earned) + " earned"],
          ["Breakage", percent(d.points.breakage),
            count(d.points.expired) + " expired of " + count(d.points.earned) + " earned"],
          ["Repeat purchase", percent(d.behaviour.repeatPurchaseRate),
            "members with 2+ orders / members with 1+"],
          ["Referral conversion", percent(r.conversionRate),
            count(r.rewarded) + " rewarded of " + count(r.invited) + " invited"]
        ];
      }
    },
    {
      name: "liability", title: "Points liability",
      about: "Points members hold at the end of the range, and what they are worth in cash.",
      columns: ["Figure", "Value"],
      rows: function (d) {
        var l = d.points.liability;
        return [
          ["Available points", count(l.available)],
          ["Pending points", count(l.pending)],
          ["Cash value", money(l.cashValue, d.currency)]
        ];
      }
    },
    {
      name: "segments", title: "Lifecycle segments",
      about: "Members in each lifecycle segment (new, active, at risk, lapsed...).",
      columns: ["Segment", "Members"],
      rows: function (d) {
        return d.members.bySegment.map(function (s) { return [named(s.segment), count(s.members)]; });
      }
    },
    {
      name: "campaigns", title: "Campaign results",
      about: "Points each campaign awarded in the range (the chart shows the top 12).",
      columns: ["Campaign", "Status", "Awards", "Members", "Points"],
      rows: function (d) {
        return d.campaigns.map(function (c) {
          return [c.name, c.status, count(c.awards), count(c.members), count(c.points)];
        });
      }
    },
    {
      name: "earnedBySource", title: "Points earned by source",
      about: "Where the points earned in the range came from.",
      columns: ["Source", "Points"],
      rows: function (d) {
        return d.points.earnedBySource.map(function (s) { return [named(s.source), count(s.points)]; });
      }
    },
    {
      name: "spentByUse", title: "Points spent by use",
      about: "What the points spent in the range paid for.",
      columns: ["Use", "Points"],
      rows: function (d) {
        return d.points.spentByUse.map(function (s) { return [named(s.use), count(s.points)]; });
      }
    }
  ];

  function element(tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  function table(panel, insights) {
    var t = element("table");
    t.appendChild(element("caption", panel.title));
    var head = t.createTHead().insertRow();
    panel.columns.forEach(function (c) {
      var th = element("th", c);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = t.createTBody();
    var rows = panel.rows(insights);
    rows.forEach(function (cells) {
      var tr = body.insertRow();
      cells.forEach(function (c) { tr.appendChild(element("td", c)); });
    });
    if (!rows.length) {
      var empty = body.insertRow();
      empty.className = "empty";
      var td = element("td", "No data in this range");
      td.colSpan = panel.columns.length;
      empty.appendChild(td);
    }
    return t;
  }

  function summary(d) {
    return [
      ["Members", count(d.members.total)],
      ["New in range", count(d.members.new)],
      ["Active in range", count(d.members.active)],
      ["Points earned", count(d.points.earned)],
      ["Points spent", count(d.points.spent)],
      ["Points expired", count(d.points.expired)],
      ["Liability", money(d.points.liability.cashValue, d.currency)]
    ];
  }

  window.LoyaltyDashboard = {
    PANELS: PANELS, element: element, table: table, summary: summary
  };
})();

// Drawing one member's figures from the MemberPage query's answer (queries.js). Text is only
// ever set as text: nothing the API returns is parsed as HTML.

let currency = "CNY";
let timeZone; // the programme's: its days are the member's days (check-ins, expiry dates)
let buttons; // { claim(template), redeem(code) }: the action buttons, from member.js

export const $ = (id) => document.getElementById(id);

// A DOM element: h("li", { className: "row" }, "text", child, ...). Text is always text.
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  Object.assign(element, props || {});
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function fill(id, ...children) {
  $(id).replaceChildren(...children.flat());
}

// ---- formatting -----------------------------------------------------------------------

const number = new Intl.NumberFormat();

export function points(n) {
  return number.format(n);
}

function money(minor) {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency, currencyDisplay: "narrowSymbol" });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric", timeZone });
}

// A tier threshold in its unit: spend (minor units), orders or growth points.
function amountIn(unit, amount) {
  if (unit === "ORDERS") return `${number.format(amount)} ${amount === 1 ? "order" : "orders"}`;
  if (unit === "GROWTH_POINTS") return `${number.format(amount)} growth points`;
  return money(amount);
}

const REASONS = {
  BOUGHT_TOGETHER: "Often bought with what you bought",
  POPULAR_IN_CATEGORY: "Popular in a category you shop",
  POPULAR: "Popular in the shop",
  REPLENISH: "Time to stock up again",
};

const KINDS = {
  EARN: "Earned",
  REDEEM: "Spent",
  EXPIRE: "Expired",
  REVERSE: "Reversed",
  ADJUST: "Adjusted",
  TRANSFER_IN: "Received",
  TRANSFER_OUT: "Sent",
  ERASE: "Erased",
};

const STATUSES = [
  ["AVAILABLE", "Ready to use"],
  ["LOCKED", "Held for an order"],
  ["USED", "Used"],
  ["EXPIRED", "Expired"],
];

// ---- rendering ------------------------------------------------------------------------

function renderTier(member) {
  const tier = member.tier || { name: "Member", rank: 0, entryThreshold: 0, thresholdUnit: "MINOR_UNITS" };
  const progress = member.tierProgress;
  const unit = tier.thresholdUnit;
  $("member-name").textContent = member.displayName;
  const badge = $("tier-badge");
  badge.textContent = tier.name;
  badge.className = `tier-badge tier-rank-${Math.min(tier.rank, 5)}`;
  $("tier-valid").textContent = member.tierValidUntil ? `Valid until ${day(member.tierValidUntil)}` : "";

  const next = progress.nextTier;
  const bar = $("progress-bar");
  $("progress-from").textContent = tier.name;
  if (next && progress.amountToNext !== null) {
    const span = Math.max(1, next.entryThreshold - tier.entryThreshold);
    const done = Math.max(0, span - progress.amountToNext);
    bar.max = span;
    bar.value = done;
    $("progress-to").textContent = next.name;
    $("progress-text").textContent = `${amountIn(unit, progress.amountToNext)} more to reach ${next.name}`;
  } else {
    bar.max = 1;
    bar.value = 1;
    $("progress-to").textContent = "";
    $("progress-text").textContent = "You are at the top tier.";
  }

  const warning = $("downgrade");
  if (progress.willDowngradeTo) {
    const by = member.tierValidUntil ? ` by ${day(member.tierValidUntil)}` : "";
    const left = progress.amountToRetain ? `${amountIn(unit, progress.amountToRetain)} more${by}` : `more${by}`;
    warning.textContent = `Keep ${tier.name}: ${left}, or you move to ${progress.willDowngradeTo.name}.`;
    warning.className = "warning";
    warning.hidden = false;
  } else if (progress.amountToRetain && member.tierValidUntil) {
    warning.textContent = `To keep ${tier.name} after ${day(member.tierValidUntil)}: ${amountIn(unit, progress.amountToRetain)} more.`;
    warning.className = "note";
    warning.hidden = false;
  } else {
    warning.hidden = true;
  }

  fill("benefits", member.benefits.length
    ? member.benefits.map((b) => h("li", {}, h("strong", {}, b.title), b.description ? ` ${b.description}` : ""))
    : [h("li", { className: "muted" }, "No benefits at this tier yet.")]);
}

function renderPoints(balances) {
  const expiring = balances.expiringWithin;
  $("points-available").textContent = points(balances.available);
  $("points-pending").textContent = points(balances.pending);
  $("points-spendable").textContent = points(balances.spendable);
  $("points-expiring").textContent = points(expiring.reduce((sum, e) => sum + e.amount, 0));
  fill("expiring", expiring.map((e) =>
    h("li", { className: "warning-text" }, `${points(e.amount)} points expire on ${day(e.expiresAt)}`)));
}

function actionRow(action, unit) {
  switch (action.__typename) {
    case "UseExpiringPointsAction":
      return [`Use ${points(action.points)} points before they expire on ${day(action.expiresAt)}.`];
    case "RedeemPointsAction":
      return [`Swap ${points(action.pointsPrice)} points for “${action.template.title}”.`];
    case "RedeemRewardAction":
      return action.cashPrice
        ? [`Get “${action.title}” for ${points(action.pointsPrice)} points and ${money(action.cashPrice)} at checkout.`]
        : [`Get “${action.title}” for ${points(action.pointsPrice)} points.`, buttons.redeem(action.rewardCode)];
    case "ClaimCouponAction":
      return [`Claim “${action.template.title}”, free.`, buttons.claim(action.template)];
    case "CompleteChallengeAction":
      return [`${action.name}: ${action.current} of ${action.target}, ends ${day(action.endsAt)}.`];
    case "ReachNextTierAction":
      return [`${amountIn(unit, action.amountToNext)} more reaches ${action.tier.name}.`];
    default:
      return null;
  }
}

function renderActions(member) {
  const unit = member.tier ? member.tier.thresholdUnit : "MINOR_UNITS";
  const rows = member.nextBestActions
    .map((action) => actionRow(action, unit))
    .filter(Boolean)
    .map(([text, button]) => h("li", { className: "row" }, h("span", {}, text), button));
  fill("actions", rows.length ? rows : [h("li", { className: "muted" }, "Nothing to do right now.")]);
}

function couponRow(coupon) {
  const when = {
    AVAILABLE: `until ${day(coupon.expiresAt)}`,
    LOCKED: "held for an order",
    USED: "used",
    EXPIRED: `expired ${day(coupon.expiresAt)}`,
  }[coupon.status];
  return h("li", { className: "row coupon" },
    h("span", {}, h("strong", {}, coupon.template.title), h("br"), h("code", {}, coupon.code)),
    h("span", { className: "muted nowrap" }, when));
}

// Ready and held coupons open; used and expired ones folded away (a <details>, no script).
function renderWallet(member, templates) {
  const coupons = member.coupons.edges.map((e) => e.node);
  const groups = STATUSES.map(([status, label]) => {
    const mine = coupons.filter((c) => c.status === status);
    if (!mine.length) return null;
    const open = status === "AVAILABLE" || status === "LOCKED";
    const title = h(open ? "h3" : "summary", { className: "subhead" }, label, " ",
      h("span", { className: "count" }, mine.length));
    const list = h("ul", { className: "rows" }, mine.map(couponRow));
    return open
      ? h("section", { className: `wallet-group wallet-${status.toLowerCase()}` }, title, list)
      : h("details", { className: `wallet-group wallet-${status.toLowerCase()}` }, title, list);
  }).filter(Boolean);
  fill("wallet", groups.length ? groups : [h("p", { className: "muted" }, "Your wallet is empty.")]);

  const claimable = templates.filter((t) => t.claimable);
  fill("claimable", claimable.length
    ? claimable.map((t) => h("li", { className: "row" }, h("span", {}, t.title), buttons.claim(t)))
    : [h("li", { className: "muted" }, "No coupons to claim.")]);
}

function renderRewards(rewards, spendable) {
  fill("rewards", rewards.length ? rewards.map((r) => {
    const price = r.cashPrice
      ? `${points(r.pointsPrice)} pts + ${money(r.cashPrice)}`
      : `${points(r.pointsPrice)} pts`;
    const short = spendable < r.pointsPrice ? h("span", { className: "muted" }, `${points(r.pointsPrice - spendable)} pts short`) : null;
    return h("li", { className: "tile" },
      h("strong", {}, r.title),
      h("span", { className: "muted" }, r.description),
      h("span", { className: "tile-foot" },
        h("span", { className: "price" }, price),
        r.cashPrice ? h("span", { className: "muted" }, "at checkout") : buttons.redeem(r.code)),
      short);
  }) : [h("li", { className: "muted" }, "No rewards on the shelf.")]);
}

function renderChallenges(member) {
  fill("challenges", member.challenges.length ? member.challenges.map((c) =>
    h("li", { className: "challenge" },
      h("span", { className: "row" }, h("strong", {}, c.name),
        h("span", { className: "muted nowrap" }, c.completedAt ? `✓ ${day(c.completedAt)}` : `${c.current} / ${c.target}`)),
      h("span", { className: "muted" }, c.description),
      h("progress", { max: c.target, value: Math.min(c.current, c.target), ariaLabel: `${c.name}: ${c.current} of ${c.target}` }),
      h("span", { className: "small-print" }, `Reward: ${c.reward} · ends ${day(c.deadline)}`))
  ) : [h("li", { className: "muted" }, "No challenges running.")]);
  fill("badges", member.badges.length
    ? member.badges.map((b) => h("li", { className: "badge", title: `Awarded ${day(b.awardedAt)}` }, "🏅 ", b.title))
    : [h("li", { className: "muted" }, "No badges yet: complete a challenge.")]);
}

function renderRecommendations(items) {
  fill("recommendations", items.length ? items.map((r) =>
    h("li", { className: "tile" },
      h("strong", {}, r.title),
      h("span", { className: "price" }, money(r.price)),
      h("span", { className: "reason" }, r.reason === "POPULAR_IN_CATEGORY" ? `Popular in ${r.category}` : REASONS[r.reason] || r.reason))
  ) : [h("li", { className: "muted" }, "Nothing to suggest yet.")]);
}

function renderTransactions(member) {
  const rows = member.transactions.edges.map(({ node }) =>
    h("tr", {},
      h("td", { className: "nowrap" }, day(node.createdAt)),
      h("td", {}, KINDS[node.kind] || node.kind, node.reason ? h("span", { className: "muted" }, ` · ${node.reason}`) : ""),
      h("td", { className: `num ${node.amount < 0 ? "negative" : "positive"}` },
        `${node.amount > 0 ? "+" : ""}${points(node.amount)}`)));
  fill("transactions", rows.length ? rows : [h("tr", {}, h("td", { colSpan: 3, className: "muted" }, "No activity yet."))]);
}

// `actions`: { claim(template), redeem(code) }, each making a button that runs a mutation.
export function render(data, actions) {
  buttons = actions;
  const member = data.viewer;
  currency = data.programme.currency;
  timeZone = data.programme.timezone;
  $("programme-name").textContent = data.programme.name;
  document.title = `${member.displayName} · ${data.programme.name}`;
  renderTier(member);
  renderPoints(member.points);
  renderActions(member);
  renderWallet(member, data.couponTemplates.edges.map((e) => e.node));
  renderRewards(data.rewards.edges.map((e) => e.node), member.points.spendable);
  renderChallenges(member);
  renderRecommendations(member.recommendations);
  renderTransactions(member);
  $("placeholder").hidden = true;
  $("member").hidden = false;
  $("sign-out").hidden = false;
  $("page").setAttribute("aria-busy", "false");
  document.body.dataset.member = member.externalId;
}

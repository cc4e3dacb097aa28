// The member page: one member's loyalty account, read and changed through the public GraphQL
// API with a member token only. The GraphQL documents are in queries.js.
//
// Where the token comes from: sessionStorage (`loyalty.memberToken`), never the URL. In the
// demo (development) the picker asks this server's /demo/member/token for one; a storefront
// puts its own there (minted by its back end with issueMemberToken), or pastes one in the
// form shown in production.

import { CHECK_IN, CLAIM_COUPON, MEMBER_PAGE, REDEEM_REWARD } from "./queries.js";

const config = document.body.dataset;
const TOKEN_KEY = "loyalty.memberToken";
const MEMBER_KEY = "loyalty.demoMember";
const EXPIRING_DAYS = 30;
const picker = config.demoPicker === "on";
let currency = "CNY";

const $ = (id) => document.getElementById(id);

// A DOM element: h("li", { className: "row" }, "text", child, ...). Text is always text.
function h(tag, props, ...children) {
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

function points(n) {
  return number.format(n);
}

function money(minor) {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency, currencyDisplay: "narrowSymbol" });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
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

// ---- the token ------------------------------------------------------------------------

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(MEMBER_KEY);
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `${url} answered ${response.status}`);
  return answer;
}

// Development only: this server mints the token with the demo storefront key it keeps.
async function demoToken(externalId) {
  const answer = await postJson(config.tokenRoute, { externalId });
  sessionStorage.setItem(TOKEN_KEY, answer.token);
  sessionStorage.setItem(MEMBER_KEY, externalId);
}

// ---- GraphQL --------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function graphql(query, variables, retried = false) {
  const current = token();
  if (!current) throw new ApiError("No member token yet.", "UNAUTHENTICATED");
  const response = await fetch(config.endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      Authorization: `Bearer ${current}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json().catch(() => null);
  if (!answer) throw new ApiError(`The API answered ${response.status}.`);
  const errors = answer.errors || [];
  if (errors.length) {
    const code = errors[0].extensions && errors[0].extensions.code;
    // Member tokens last 15 minutes: in the demo, mint a fresh one for the same member.
    const member = sessionStorage.getItem(MEMBER_KEY);
    if (code === "UNAUTHENTICATED" && picker && member && !retried) {
      await demoToken(member);
      return graphql(query, variables, true);
    }
    throw new ApiError(errors.map((e) => e.message).join(" "), code);
  }
  return answer.data;
}

// A fresh key per click: the API answers a repeated key with the first answer.
function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- messages -------------------------------------------------------------------------

let toastTimer = null;

function toast(message, kind) {
  clearTimeout(toastTimer);
  const box = $("toast");
  box.className = `toast toast-${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  $("toast-text").textContent = message;
  box.hidden = false;
  if (kind === "ok") toastTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

function placeholder(message) {
  $("member").hidden = true;
  const text = $("placeholder");
  text.textContent = message;
  text.hidden = false;
  $("page").setAttribute("aria-busy", "false");
}

// ---- actions --------------------------------------------------------------------------

// Runs a mutation from a button: the union error's messages when refused, else the figures
// are read again.
async function act(button, document, field, input, said) {
  button.disabled = true;
  try {
    const data = await graphql(document, { input: { ...input, idempotencyKey: idempotencyKey() } });
    const result = data[field];
    if (result.errors) {
      toast(result.errors.map((e) => e.message).join(" "), "error");
      return;
    }
    toast(said(result), "ok");
    await load();
  } catch (error) {
    toast(error.message, "error");
  } finally {
    button.disabled = false;
  }
}

function checkIn(button) {
  return act(button, CHECK_IN, "checkIn", {}, (r) =>
    `Checked in: +${points(r.points + r.campaignPoints)} points, a ${r.streak}-day streak.`);
}

function claimButton(template) {
  const button = h("button", { type: "button", className: "small" }, "Claim");
  button.dataset.claim = template.code;
  button.addEventListener("click", () =>
    act(button, CLAIM_COUPON, "claimCoupon", { templateCode: template.code }, (r) =>
      `${r.coupon.template.title} is in your wallet (${r.coupon.code}).`));
  return button;
}

function redeemButton(code) {
  const button = h("button", { type: "button", className: "small" }, "Redeem");
  button.dataset.redeem = code;
  button.addEventListener("click", () =>
    act(button, REDEEM_REWARD, "redeemReward", { code, quantity: 1 }, (r) =>
      `Redeemed ${r.redemption.rewardTitle} for ${points(r.redemption.points)} points.`));
  return button;
}

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
        : [`Get “${action.title}” for ${points(action.pointsPrice)} points.`, redeemButton(action.rewardCode)];
    case "ClaimCouponAction":
      return [`Claim “${action.template.title}”, free.`, claimButton(action.template)];
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
    ? claimable.map((t) => h("li", { className: "row" }, h("span", {}, t.title), claimButton(t)))
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
        r.cashPrice ? h("span", { className: "muted" }, "at checkout") : redeemButton(r.code)),
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

function render(data) {
  const member = data.viewer;
  currency = data.programme.currency;
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

async function load() {
  let data;
  try {
    data = await graphql(MEMBER_PAGE, { expiringDays: EXPIRING_DAYS });
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") {
      forgetToken();
      placeholder("The member token is missing or has expired: a new one is needed.");
    } else {
      toast(error.message, "error");
    }
    return;
  }
  if (!data.viewer) {
    placeholder("This token is not a member token: the page needs one from issueMemberToken.");
    return;
  }
  render(data);
}

// ---- start ----------------------------------------------------------------------------

async function openDemoMember(externalId) {
  try {
    await demoToken(externalId);
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  await load();
}

async function startPicker() {
  const form = $("picker");
  const select = $("picker-member");
  let members = [];
  try {
    const response = await fetch(config.membersRoute, { headers: { Accept: "application/json" } });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `${config.membersRoute} answered ${response.status}`);
    members = answer.members;
  } catch (error) {
    placeholder(error.message);
    return;
  }
  select.replaceChildren(...members.map((m) =>
    h("option", { value: m.externalId }, `${m.displayName} · ${m.externalId}`)));
  const chosen = sessionStorage.getItem(MEMBER_KEY);
  if (chosen && members.some((m) => m.externalId === chosen)) select.value = chosen;
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    openDemoMember(select.value);
  });
  if (token()) await load();
  else if (members.length) await openDemoMember(select.value);
  else placeholder("No members yet: run `loyalty seed-demo`.");
}

async function startWithToken() {
  const form = $("token-form");
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const pasted = $("token-input").value.trim();
    if (!pasted) return;
    sessionStorage.setItem(TOKEN_KEY, pasted);
    $("token-input").value = "";
    load();
  });
  if (token()) await load();
  else placeholder("Paste a member token (your storefront mints it with issueMemberToken).");
}

function start() {
  $("check-in").addEventListener("click", (event) => checkIn(event.currentTarget));
  $("toast-close").addEventListener("click", () => { $("toast").hidden = true; });
  $("sign-out").addEventListener("click", () => {
    forgetToken();
    $("sign-out").hidden = true;
    placeholder(picker ? "Token forgotten: pick a member and press Open." : "Token forgotten.");
  });
  return picker ? startPicker() : startWithToken();
}

start();

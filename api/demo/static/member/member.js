// The member page: one member's loyalty account, read and changed through the public GraphQL
// API with a member token only. The GraphQL documents are in queries.js; the token and the
// requests in api.js; drawing the figures in render.js; this file runs the buttons.
//
// Where the token comes from: sessionStorage (`loyalty.memberToken`), never the URL. In the
// demo (development) the picker asks this server's /demo/member/token for one; a storefront
// puts its own there (minted by its back end with issueMemberToken), or pastes one in the
// form shown in production.

import {
  MEMBER_KEY, TOKEN_KEY, demoToken, forgetToken, graphql, idempotencyKey, picker, token,
} from "./api.js";
import { CHECK_IN, CLAIM_COUPON, MEMBER_PAGE, REDEEM_REWARD } from "./queries.js";
import { $, h, points, render } from "./render.js";

const config = document.body.dataset;
const EXPIRING_DAYS = 30;

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
  delete document.body.dataset.member; // no member is shown

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
    if (error.code === "UNAUTHENTICATED") {
      await load(); // says the token has expired and asks for a new one, as a first load does
    } else {
      toast(error.message, "error");
    }
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

async function load() {
  let data;
  try {
    data = await graphql(MEMBER_PAGE, { expiringDays: EXPIRING_DAYS });
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") {
      forgetToken();
      placeholder("The member token is missing or has expired: a new one is needed.");
    } else if (document.body.dataset.member) {
      toast(error.message, "error"); // the figures drawn before stay
    } else {
      placeholder(`The page could not be loaded: ${error.message}`);
    }
    return;
  }
  if (!data.viewer) {
    placeholder("This token is not a member token: the page needs one from issueMemberToken.");
    return;
  }
  try {
    render(data, { claim: claimButton, redeem: redeemButton });
  } catch (error) {
    placeholder(`The page could not be drawn: ${error.message}`);
  }
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

// The member token and the GraphQL requests. The token lives in sessionStorage (this tab,
// until it closes), never in the URL.

const config = document.body.dataset;
export const TOKEN_KEY = "loyalty.memberToken";
export const MEMBER_KEY = "loyalty.demoMember";
// In development the server offers a picker of demo members and mints their tokens.
export const picker = config.demoPicker === "on";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(MEMBER_KEY);
}

export async function postJson(url, body) {
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
export async function demoToken(externalId) {
  const answer = await postJson(config.tokenRoute, { externalId });
  sessionStorage.setItem(TOKEN_KEY, answer.token);
  sessionStorage.setItem(MEMBER_KEY, externalId);
}

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export async function graphql(query, variables, retried = false) {
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
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

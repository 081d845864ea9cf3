// Calls to the imgopt API from the page: same origin, the signed-in key if any, errors as problems.

const KEY_ITEM = "imgopt.apiKey";

export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "http_error";
    this.errors = body.errors || [];
    this.errorCount = body.errorCount ?? this.errors.length;
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY_ITEM),
  set: (value) => sessionStorage.setItem(KEY_ITEM, value),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

// Fired when the API refuses the key, so the page can ask for another.
export const UNAUTHORIZED = "imgopt:unauthorized";

export async function request(path, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set("Accept", "application/json");
  const apiKey = key.get();
  if (apiKey) headers.set("Authorization", `Bearer ${apiKey}`);
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    throw new Problem(0, { code: "unreachable", detail: "The imgopt API could not be reached. Is it running?" });
  }
  if (response.ok) return response;
  const body = await response.json().catch(() => ({ detail: `${response.status} ${response.statusText}` }));
  const problem = new Problem(response.status, body);
  if (response.status === 401) {
    key.clear();
    window.dispatchEvent(new CustomEvent(UNAUTHORIZED, { detail: problem }));
  }
  throw problem;
}

export async function json(path, options) {
  return (await request(path, options)).json();
}

export const FINISHED = new Set(["completed", "completed_with_errors", "failed", "cancelled"]);

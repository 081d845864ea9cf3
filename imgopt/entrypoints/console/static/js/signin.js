// Sign-in: asked only when the server requires a key; the key lives in this tab's session storage.

import { json, key } from "./api.js";

const view = document.getElementById("sign-in");
const form = document.getElementById("sign-in-form");
const input = document.getElementById("api-key");
const signOut = document.getElementById("sign-out");

let required = false;

// What the server says of itself: {"auth": "off" or "required", "apiReference": the docs page or the document}.
export async function loadConfig() {
  const config = await json("/console/config.json").catch(() => ({ auth: "off" }));
  required = config.auth !== "off";
  if (config.apiReference) document.getElementById("api-reference").href = config.apiReference;
  signOut.hidden = !required || !key.get();
}

export function needsSignIn() {
  return required && !key.get();
}

export function showSignIn() {
  view.hidden = false;
  signOut.hidden = true;
  input.value = "";
  input.focus();
}

export function bindSignIn(onSignedIn) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    key.set(value);
    input.value = "";
    signOut.hidden = false;
    onSignedIn();
  });
  signOut.addEventListener("click", () => {
    key.clear();
    window.location.hash = "#/";
    onSignedIn();
  });
}

// The console's entry: which view the address names (#/ or #/requests/{id}), and the notices.

import { UNAUTHORIZED } from "./api.js";
import { bindRecent, loadRecent } from "./recent.js";
import { bindRequest, showRequest, stopRequest } from "./request.js";
import { bindSignIn, loadConfig, needsSignIn, showSignIn } from "./signin.js";
import { bindUpload, resetUpload } from "./upload.js";

const views = ["sign-in", "home", "request"].map((id) => document.getElementById(id));
const notice = document.getElementById("notice");
const REQUEST_ROUTE = /^#\/requests\/([0-9a-fA-F-]{36})$/;

// The upload's answer holds the webhook secret, shown once: kept only until its request is on screen.
let receipt = null;

function say(message) {
  notice.textContent = message;
  notice.hidden = !message;
}

function route() {
  say("");
  for (const view of views) view.hidden = true;
  if (needsSignIn()) {
    stopRequest();
    showSignIn();
    return;
  }
  const match = REQUEST_ROUTE.exec(window.location.hash);
  if (match) {
    const id = match[1].toLowerCase();
    document.getElementById("request").hidden = false;
    showRequest(id, receipt?.requestId === id ? receipt : null, say);
    receipt = null;
  } else {
    stopRequest();
    resetUpload();
    document.getElementById("home").hidden = false;
    loadRecent();
  }
  document.getElementById("main").focus({ preventScroll: true });
}

async function start() {
  await loadConfig();
  bindSignIn(route);
  bindRecent();
  bindRequest({ onError: say });
  bindUpload({
    onAccepted: (accepted) => {
      receipt = accepted;
      window.location.hash = `#/requests/${accepted.requestId}`;
    },
    onError: say,
  });
  window.addEventListener("hashchange", route);
  window.addEventListener(UNAUTHORIZED, (event) => {
    route();
    say(`Sign in again: ${event.detail.message}`);
  });
  route();
}

start();

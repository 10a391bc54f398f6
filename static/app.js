// The dashboard works without this file; it adds live lines, type-to-search, and
// permalinks (#L<n>) that open the folds around their line.
"use strict";

function followLive(container) {
  const note = document.getElementById("live-note");
  const source = new EventSource(container.dataset.live);
  source.addEventListener("lines", (event) => {
    const data = JSON.parse(event.data);
    const empty = container.querySelector(".empty");
    if (empty) empty.remove();
    const nearBottom = window.innerHeight + window.scrollY >= document.body.offsetHeight - 80;
    // The server rendered (and escaped) this fragment with the page's own templates.
    container.insertAdjacentHTML("beforeend", data.html);
    if (nearBottom) window.scrollTo(0, document.body.scrollHeight);
  });
  source.addEventListener("end", () => {
    source.close();
    if (note) note.textContent = "This session is no longer being watched.";
  });
}

function searchAsYouType(form) {
  const search = form.querySelector("input[type=search]");
  let timer = null;
  if (search) {
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => form.requestSubmit(), 300);
    });
  }
  for (const select of form.querySelectorAll("select")) {
    select.addEventListener("change", () => form.requestSubmit());
  }
}

// A sign-in link (`/login#token=...`, printed by --ui-token auto) carries the token in its
// fragment, which browsers never send to a server: take it out of the address bar and
// the history at once, then sign in with it.
function signInFromLink(form) {
  const match = /^#token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  let token;
  try {
    token = decodeURIComponent(match[1]);
  } catch (e) {
    return;
  }
  form.querySelector("input[name=token]").value = token;
  form.requestSubmit();
}

// #L<n>: open the folded groups around that card; a line with no card of its own (a
// bookkeeping line) goes to the nearest card before it.
function showLine() {
  const match = /^#L(\d+)(-\d+)?$/.exec(window.location.hash);
  if (!match) return;
  let target = document.getElementById(window.location.hash.slice(1));
  if (!target) {
    const wanted = Number(match[1]);
    for (const card of document.querySelectorAll("#transcript [data-line]")) {
      if (Number(card.dataset.line) > wanted) break;
      target = card;
    }
  }
  if (!target) return;
  for (let node = target; node; node = node.parentElement) {
    if (node.tagName === "DETAILS") node.open = true;
  }
  target.scrollIntoView({ block: "start" });
}

document.addEventListener("DOMContentLoaded", () => {
  showLine();
  window.addEventListener("hashchange", showLine);
  const login = document.getElementById("login");
  if (login) signInFromLink(login);
  const transcript = document.getElementById("transcript");
  if (transcript && transcript.dataset.live && window.EventSource) followLive(transcript);
  const filters = document.getElementById("filters");
  if (filters) searchAsYouType(filters);
  const search = document.getElementById("search");
  if (search && search.value) {
    search.focus();
    search.setSelectionRange(search.value.length, search.value.length);
  }
});

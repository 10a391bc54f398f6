// The dashboard works without this file; it adds live lines and type-to-search.
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

document.addEventListener("DOMContentLoaded", () => {
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

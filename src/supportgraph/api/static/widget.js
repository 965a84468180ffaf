// The embeddable support chat: plain JavaScript, no build step, no dependency.
// Embed it with <iframe src="https://YOUR-API/widget/?key=CHAT_KEY">. It keeps a random end-user id in
// the browser (the only thing that lets this browser read its own threads) and streams each reply over
// server-sent events from POST /threads/{id}/runs/stream. Text is shown with textContent, never as HTML.
"use strict";

(function () {
  const key = new URLSearchParams(location.search).get("key") || "";
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("ask");
  const input = document.getElementById("message");
  const send = document.getElementById("send");
  const STEP_NAMES = { guard: "Reading your message", summarize: "Understanding the issue", retrieve: "Searching the help centre",
    answer: "Writing the steps", check: "Checking the answer", clarify: "Preparing a question", confirm: "Finishing" };

  function randomId() {
    if (crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const endUser = localStorage.getItem("supportgraph.end_user") || randomId();
  localStorage.setItem("supportgraph.end_user", endUser);
  let threadId = sessionStorage.getItem("supportgraph.thread_id");

  function headers() {
    return { "Content-Type": "application/json", "X-Api-Key": key, "X-End-User": endUser };
  }

  // The reply is markdown; shown as text, so drop the emphasis marks rather than render HTML.
  function plain(markdown) {
    return markdown.replace(/\*\*([^*]+)\*\*/g, "$1").replace(/(^|\s)\*([^*\s][^*]*)\*/g, "$1$2");
  }

  function add(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  async function problem(response) {
    try {
      const body = await response.json();
      return body.error ? `${body.error.message} ${body.error.fix}` : `HTTP ${response.status}`;
    } catch (_) {
      return `HTTP ${response.status}`;
    }
  }

  async function ensureThread() {
    if (threadId) return threadId;
    const response = await fetch("../threads", { method: "POST", headers: headers(), body: "{}" });
    if (!response.ok) throw new Error(await problem(response));
    threadId = (await response.json()).thread_id;
    sessionStorage.setItem("supportgraph.thread_id", threadId);
    return threadId;
  }

  function feedback(item, turnId) {
    const row = document.createElement("div");
    row.className = "feedback";
    const label = document.createElement("span");
    label.textContent = "Did this help?";
    row.appendChild(label);
    for (const [thumb, text] of [["up", "👍 Yes"], ["down", "👎 No"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text;
      button.setAttribute("aria-label", thumb === "up" ? "Thumbs up" : "Thumbs down");
      button.addEventListener("click", async () => {
        const response = await fetch(`../threads/${threadId}/turns/${turnId}/feedback`,
          { method: "POST", headers: headers(), body: JSON.stringify({ thumb }) });
        label.textContent = response.ok ? "Thanks, your feedback was saved." : await problem(response);
        row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      });
      row.appendChild(button);
    }
    item.appendChild(row);
  }

  function handle(event, data, state) {
    if (event === "step") {
      status.textContent = (STEP_NAMES[data.node] || "Working") + "…";
    } else if (event === "reply") {
      state.item = add("agent", plain(data.reply));
      state.turnId = data.turn_id;
    } else if (event === "citation" && state.item) {
      if (!state.list) {
        state.list = document.createElement("ul");
        state.list.className = "citations";
        state.item.appendChild(state.list);
      }
      const entry = document.createElement("li");
      entry.textContent = `📄 ${data.title} · ${data.id}`;
      state.list.appendChild(entry);
    } else if (event === "escalation") {
      status.textContent = "A person from our team will take over this conversation.";
    } else if (event === "error") {
      add("error", `${data.message} ${data.fix}`);
    } else if (event === "end") {
      if (state.item && state.turnId) feedback(state.item, state.turnId);
      if (!status.textContent.startsWith("A person")) status.textContent = "";
    }
  }

  async function ask(message) {
    const id = await ensureThread();
    const response = await fetch(`../threads/${id}/runs/stream`, {
      method: "POST", headers: headers(),
      body: JSON.stringify({ assistant_id: "support", input: { message }, multitask_strategy: "reject" }),
    });
    if (!response.ok) throw new Error(await problem(response));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const state = {};
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) handle(event, JSON.parse(data.join("\n")), state);
      }
    }
  }

  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    add("user", message);
    input.value = "";
    send.disabled = true;
    try {
      await ask(message);
    } catch (error) {
      add("error", error.message);
      status.textContent = "";
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  document.getElementById("new-conversation").addEventListener("click", () => {
    threadId = null;
    sessionStorage.removeItem("supportgraph.thread_id");
    log.replaceChildren();
    status.textContent = "";
  });

  if (!key) add("error", "This chat page needs a chat key: open it as /widget/?key=sgk_... (supportgraph keys create).");
})();

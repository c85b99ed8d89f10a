// Web chat for the local Telegram emulator: pick a person, talk to the bot, press buttons.
"use strict";
const $ = (id) => document.getElementById(id);
let current = null;     // selected person's id
let version = -1;       // last chat version rendered
let seenAnswers = 0;    // callback answers already shown
let pollToken = 0;

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(await response.text());
  return response.json();
}

async function loadPeople() {
  const people = await api("/api/users");
  const list = $("people-list");
  list.replaceChildren();
  for (const person of people) {
    const item = document.createElement("li");
    item.textContent = `${person.first_name} · ${person.phone || "без телефона"}`;
    item.dataset.id = person.id;
    if (person.id === current) item.classList.add("active");
    item.addEventListener("click", () => select(person.id, person.first_name));
    list.append(item);
  }
  return people;
}

function select(id, name) {
  current = id;
  version = -1;
  seenAnswers = 0;
  $("chat-title").textContent = name;
  $("text").disabled = false;
  $("send").disabled = false;
  document.body.classList.remove("people-open");
  history.replaceState(null, "", `?user=${id}`);
  loadPeople();
  poll();
}

// Telegram's entities (UTF-16 offsets, as JavaScript strings count) → DOM: the text is cut
// at every entity boundary and each piece is wrapped in the entities that cover it.
const TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  spoiler: "span", blockquote: "blockquote", text_link: "a",
};

function formatted(text, entities) {
  const cuts = new Set([0, text.length]);
  for (const e of entities) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  const nodes = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const [start, end] = [points[k], points[k + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of entities) {
      if (!(e.offset <= start && end <= e.offset + e.length) || !TAGS[e.type]) continue;
      const wrapper = document.createElement(TAGS[e.type]);
      if (e.type === "spoiler") wrapper.className = "spoiler";
      if (e.type === "text_link") {
        if (!/^https?:\/\//.test(e.url || "")) continue;  // no javascript: links
        wrapper.href = e.url;
        wrapper.target = "_blank";
        wrapper.rel = "noopener";
      }
      wrapper.append(node);
      node = wrapper;
    }
    nodes.push(node);
  }
  return nodes;
}

function renderMessage(message) {
  const bubble = document.createElement("div");
  bubble.className = `msg ${message.from}`;
  bubble.dataset.messageId = message.message_id;
  if (message.kind === "invoice" || message.kind === "successful_payment") {
    // Telegram Payments: the invoice and the buyer's payment, shown with their text.
    const span = document.createElement("span");
    span.className = "kind";
    span.textContent = message.kind === "invoice" ? "🧾 Счёт" : "✅ Оплачено";
    bubble.append(span, document.createElement("br"), ...formatted(message.text || "", []));
  } else if (message.kind !== "text") {
    const kinds = {sticker: "🖼 стикер", photo: "📷 фото", voice: "🎤 голосовое", contact: "📱 контакт"};
    const span = document.createElement("span");
    span.className = "kind";
    span.textContent = kinds[message.kind] || message.kind;
    bubble.append(span);
  } else {
    bubble.append(...formatted(message.text || "", message.entities || []));
  }
  if (message.inline_keyboard) {
    const keyboard = document.createElement("div");
    keyboard.className = "inline-keyboard";
    for (const row of message.inline_keyboard) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        let element;
        if (button.url) {
          element = document.createElement("a");
          element.href = button.url;
          element.target = "_blank";
          element.rel = "noopener";
        } else if (button.pay) {
          element = document.createElement("button");
          element.type = "button";
          element.className = "pay";
          element.addEventListener("click", () => payInvoice(message.message_id));
        } else {
          element = document.createElement("button");
          element.type = "button";
          element.addEventListener("click", () => press(message.message_id, button.callback_data));
        }
        element.textContent = button.text;
        line.append(element);
      }
      keyboard.append(line);
    }
    bubble.append(keyboard);
  }
  if (message.edited) {
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = "изменено";
    bubble.append(meta);
  }
  return bubble;
}

function renderReplyKeyboard(keyboard) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  if (!keyboard || !keyboard.keyboard) return;
  for (const row of keyboard.keyboard) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = text;
      element.addEventListener("click", () => {
        if (button.request_contact) api(`/api/users/${current}/contact`, {});
        else api(`/api/users/${current}/send`, {text});
      });
      line.append(element);
    }
    box.append(line);
  }
}

function showToast(answer) {
  if (!answer.text) return;
  const toast = $("toast");
  toast.textContent = answer.text;
  toast.className = answer.show_alert ? "alert" : "";
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, answer.show_alert ? 6000 : 2500);
}

function render(chat) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...chat.messages.map(renderMessage));
  renderReplyKeyboard(chat.reply_keyboard);
  const answers = chat.callback_answers;
  // Answers given before the chat was opened are old news: only new ones pop up.
  if (version === -1) seenAnswers = answers.length;
  for (const answer of answers.slice(seenAnswers)) showToast(answer);
  seenAnswers = answers.length;
  if (atBottom || version === -1) box.scrollTop = box.scrollHeight;
  version = chat.version;
}

async function poll() {
  const token = ++pollToken;
  while (token === pollToken && current !== null) {
    try {
      const chat = await api(`/api/users/${current}/messages?wait=25&version=${version}`);
      if (token !== pollToken) return;
      render(chat);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function payInvoice(messageId) {
  // The emulated payment form: a test card that goes through.
  api(`/api/users/${current}/pay`, {message_id: messageId});
}

function press(messageId, data) {
  api(`/api/users/${current}/press`, {message_id: messageId, callback_data: data});
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("text");
  const text = input.value.trim();
  if (!text || current === null) return;
  input.value = "";
  api(`/api/users/${current}/send`, {text});
});

$("attach").addEventListener("click", () => { $("attach-menu").hidden = !$("attach-menu").hidden; });
for (const button of document.querySelectorAll("#attach-menu button")) {
  button.addEventListener("click", () => {
    $("attach-menu").hidden = true;
    if (current !== null) api(`/api/users/${current}/send`, {kind: button.dataset.kind});
  });
}
$("show-people").addEventListener("click", () => document.body.classList.toggle("people-open"));

$("new-person").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const id = 100000 + Math.floor(Math.random() * 900000);
  const person = await api("/api/users", {
    id, first_name: form.get("first_name"), phone: form.get("phone") || null,
    language_code: form.get("language_code"),
  });
  select(person.id, person.first_name);
});

(async function boot() {
  const people = await loadPeople();
  const wanted = Number(new URLSearchParams(location.search).get("user"));
  const person = people.find((p) => p.id === wanted) || people[0];
  if (person) select(person.id, person.first_name);
  else document.body.classList.add("people-open");
})();

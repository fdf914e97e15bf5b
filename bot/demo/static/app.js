// The demo's chat client. Plain JavaScript, no build step: it draws what the server says the
// chats hold, sends what the person does, and refetches when the server says something changed.
"use strict";

(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const S = boot.strings;
  const PLACES = boot.places;
  const FA_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  const fa = (v) => String(v).replace(/[0-9]/g, (d) => FA_DIGITS[d]);
  const ascii = (v) =>
    String(v)
      .replace(/[۰-۹]/g, (d) => String(FA_DIGITS.indexOf(d)))
      .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660))
      .replace(/[٫،,]/g, ".");
  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // The page's own Persian lines name commands and flags (/report, --fresh --seed): each is
  // isolated left to right and kept on one line, or a right-to-left line mirrors or splits it.
  const LATIN_CODE = /\u200e?((?<![\w/:.])(?:--[a-z][a-z-]*|\/[a-z_]+)(?: --[a-z][a-z-]*)*)\u200e?/;

  function prose(tag, cls, text) {
    const node = el(tag, cls);
    String(text)
      .split(LATIN_CODE)
      .forEach((part, i) => {
        if (!part) return;
        if (i % 2 === 0) node.append(part);
        else node.append(Object.assign(el("bdi", "code-name", part), { dir: "ltr" }));
      });
    return node;
  }

  const BOT_ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M12 2l8 3v6c0 5-3.4 9.4-8 11-4.6-1.6-8-6-8-11V5z" opacity=".35"/><path fill="currentColor" d="M8.5 12.2l2.3 2.3 4.7-4.8 1.1 1.1-5.8 5.9-3.4-3.4z"/></svg>';
  const PIN =
    '<svg class="pin" viewBox="0 0 24 24" aria-hidden="true"><path fill="#e53935" d="M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7z"/><circle cx="12" cy="9" r="2.6" fill="#fff"/></svg>';
  const FILE_ICON =
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="currentColor" d="M6 2h8l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V8h4.5z"/></svg>';
  const REPLY_ICON =
    '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="currentColor" d="M14 9V5l7 7-7 7v-4.1c-5 0-8.5 1.6-11 5.1 1-5 4-10 11-11z"/></svg>';

  const state = {
    persona: null,
    personas: [],
    chats: [],
    chat: null,
    view: null,
    replyTo: null,
    dismissedForce: {},
    kbHidden: false,
    kbSig: "",
    readPosted: {},
    lastChat: {},
    nodes: new Map(),
    seeding: false,
  };

  // ---------------------------------------------------------------- talking to the server

  async function get(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(String(r.status));
    return r.json();
  }

  async function post(path, body, form) {
    const opts = form
      ? { method: "POST", body: form }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      toast(S.offline, "error");
      return null;
    }
    let data = null;
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
    if (!r.ok || !data || data.ok === false) {
      const reason = data && data.reason;
      toast(fmt(S.send_failed, { reason: S["refusal_" + reason] || fa(r.status) }), "error");
      return null;
    }
    return data;
  }

  const who = () => ({ persona: state.persona, chat: state.chat });

  // ---------------------------------------------------------------- refreshing

  let refreshing = false;
  let dirty = false;
  let timer = null;

  function scheduleRefresh() {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      refresh();
    }, 40);
  }

  async function refresh() {
    if (refreshing) {
      dirty = true;
      return;
    }
    refreshing = true;
    try {
      do {
        dirty = false;
        await refreshOnce();
      } while (dirty);
    } catch (e) {
      // the server went away for a moment: the event stream's reconnect refreshes again
    } finally {
      refreshing = false;
    }
  }

  async function refreshOnce() {
    const st = await get(`/api/state?persona=${state.persona}`);
    state.personas = st.personas;
    state.chats = st.chats;
    if (st.seeding !== state.seeding) {
      state.seeding = st.seeding;
      $("seed").disabled = st.seeding;
    }
    drawRail();
    drawMe();
    drawChats();
    if (state.chat !== null) {
      const chatId = state.chat;
      const view = await get(`/api/chat?persona=${state.persona}&chat=${chatId}`);
      if (state.chat !== chatId) return;
      state.view = view;
      drawConversation();
      markRead();
    }
  }

  function markRead() {
    const msgs = state.view ? state.view.messages : [];
    if (!msgs.length) return;
    const last = msgs[msgs.length - 1].id;
    const key = `${state.persona}:${state.chat}`;
    const summary = state.chats.find((c) => c.id === state.chat);
    if ((state.readPosted[key] || 0) >= last && !(summary && summary.unread)) return;
    state.readPosted[key] = last;
    post("/api/read", who());
  }

  // ---------------------------------------------------------------- the persona rail

  const colour = (id) => `c${Math.abs(Number(id)) % 7}`;

  function avatar(initial, id, extra) {
    const a = el("div", `avatar ${colour(id)} ${extra || ""}`);
    a.textContent = initial;
    return a;
  }

  function botAvatar() {
    const a = el("div", "avatar bot");
    a.innerHTML = BOT_ICON;
    return a;
  }

  function drawRail() {
    const box = $("personas");
    box.replaceChildren();
    let part = null;
    for (const p of state.personas) {
      if (p.part !== part) {
        part = p.part;
        box.append(el("div", "rail-part", S["part_" + part]));
      }
      const b = el("button", "persona" + (p.id === state.persona ? " active" : ""));
      b.type = "button";
      b.dataset.persona = p.id;
      b.title = `${p.name} (${p.role})`;
      b.append(avatar(p.initial, p.id), el("span", "persona-name", p.name.split(" ")[0]));
      b.append(el("span", "persona-role", p.role));
      if (p.unread && p.id !== state.persona) b.append(el("span", "badge", fa(p.unread)));
      b.addEventListener("click", () => switchPersona(p.id));
      box.append(b);
    }
  }

  function drawMe() {
    const p = state.personas.find((x) => x.id === state.persona);
    if (!p) return;
    const a = $("me-avatar");
    a.className = `avatar ${colour(p.id)}`;
    a.textContent = p.initial;
    $("me-name").textContent = p.name;
    $("me-role").textContent = p.role;
  }

  function switchPersona(id) {
    if (id === state.persona) return;
    if (state.chat !== null) state.lastChat[state.persona] = state.chat;
    state.persona = id;
    state.nodes.clear();
    // the previous person's toasts are not this one's (the bot's refused calls stay)
    document.querySelectorAll("#toasts .toast:not(.error)").forEach((t) => t.remove());
    const chat = state.lastChat[id];
    if (chat !== undefined) openChat(chat);
    else if (!$("tour").hidden) refresh();
    else openChat(id); // a persona's private chat has their id
  }

  // ---------------------------------------------------------------- the chat list

  function drawChats() {
    const list = $("chats");
    list.replaceChildren();
    for (const c of state.chats) {
      const li = el("li", "chat-item" + (c.id === state.chat ? " active" : ""));
      li.dataset.chat = c.id;
      li.append(c.kind === "private" ? botAvatar() : avatar(c.title.slice(0, 1), c.id));
      const body = el("div", "chat-body");
      const top = el("div", "chat-row");
      top.append(el("span", "chat-title", c.title), el("span", "chat-time", c.time));
      const bottom = el("div", "chat-row");
      const preview = el("span", "chat-preview", c.preview || "\u00a0");
      preview.dir = "auto";
      bottom.append(preview);
      // the open chat is being read: its count goes as soon as the server hears so
      if (c.unread && c.id !== state.chat) bottom.append(el("span", "badge", fa(c.unread)));
      body.append(top, bottom);
      li.append(body);
      li.addEventListener("click", () => openChat(c.id));
      list.append(li);
    }
  }

  function openChat(id) {
    const changed = state.chat !== id;
    state.chat = id;
    if (changed) {
      state.view = null;
      state.nodes.clear();
      state.replyTo = null;
      state.kbHidden = false;
      $("messages").replaceChildren();
    }
    $("tour").hidden = true;
    $("conversation").hidden = false;
    stickToBottom = true;
    refresh().then(() => $("composer-input").focus());
  }

  // ---------------------------------------------------------------- formatted text

  function safeUrl(url) {
    try {
      const u = new URL(url, location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function entityNode(e, slice) {
    switch (e.type) {
      case "bold":
        return el("b");
      case "italic":
        return el("i");
      case "underline":
        return el("u");
      case "strikethrough":
        return el("s");
      case "code":
        return el("code");
      case "pre": {
        const pre = el("pre");
        if (e.language) pre.dataset.language = e.language;
        return pre;
      }
      case "blockquote":
        return el("blockquote");
      case "expandable_blockquote": {
        const q = el("blockquote", "expandable");
        q.addEventListener("click", () => q.classList.add("open"));
        return q;
      }
      case "spoiler": {
        const s = el("span", "spoiler");
        s.addEventListener("click", () => s.classList.toggle("shown"));
        return s;
      }
      case "text_link":
      case "url": {
        const href = safeUrl(e.type === "url" ? slice : e.url);
        if (!href) return el("span");
        const a = el("a");
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        return a;
      }
      case "bot_command": {
        const c = el("a", "command");
        c.href = "#";
        c.addEventListener("click", (ev) => {
          ev.preventDefault();
          sendText(slice);
        });
        return c;
      }
      case "text_mention":
      case "mention":
        return el("span", "mention");
      default:
        return el("span");
    }
  }

  function renderText(text, entities) {
    const frag = document.createDocumentFragment();
    if (!text) return frag;
    const ents = (entities || [])
      .filter((e) => e.length > 0)
      .slice()
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    const build = (parent, start, end, list) => {
      let pos = start;
      let i = 0;
      while (i < list.length) {
        const e = list[i];
        if (e.offset < pos) {
          i++;
          continue;
        }
        if (e.offset > pos) parent.append(text.slice(pos, e.offset));
        const eEnd = Math.min(e.offset + e.length, end);
        const inner = [];
        let j = i + 1;
        while (j < list.length && list[j].offset < eEnd) {
          if (list[j].offset + list[j].length <= eEnd) inner.push(list[j]);
          j++;
        }
        const node = entityNode(e, text.slice(e.offset, eEnd));
        build(node, e.offset, eEnd, inner);
        parent.append(node);
        pos = eEnd;
        i = j;
      }
      if (pos < end) parent.append(text.slice(pos, end));
    };
    build(frag, 0, text.length, ents);
    return frag;
  }

  // ---------------------------------------------------------------- messages

  let stickToBottom = true;

  function items(messages, isGroup) {
    // Consecutive messages of one album become one item; a day line comes before a new day.
    const out = [];
    let day = null;
    for (const m of messages) {
      if (m.day !== day) {
        day = m.day;
        out.push({ kind: "day", key: `day:${m.day}`, text: m.day });
      }
      const prev = out[out.length - 1];
      if (m.album && prev && prev.kind === "msg" && prev.album === m.album) {
        prev.parts.push(m);
        continue;
      }
      out.push({ kind: "msg", key: `m:${m.id}`, album: m.album, parts: [m] });
    }
    const msgs = out.filter((x) => x.kind === "msg");
    msgs.forEach((it, i) => {
      const first = it.parts[0];
      const prev = msgs[i - 1];
      const next = msgs[i + 1];
      it.showName = isGroup && !first.out && (!prev || prev.parts[0].from_id !== first.from_id);
      it.showAvatar = isGroup && !first.out && (!next || next.parts[0].from_id !== first.from_id);
    });
    return out;
  }

  function drawConversation() {
    const view = state.view;
    const chat = state.chats.find((c) => c.id === state.chat);
    if (!view || !chat) return;
    const isGroup = chat.kind === "group";
    const head = $("chat-avatar");
    head.replaceWith(
      Object.assign(chat.kind === "private" ? botAvatar() : avatar(chat.title.slice(0, 1), chat.id), {
        id: "chat-avatar",
      })
    );
    $("chat-title").textContent = chat.title;
    $("chat-subtitle").textContent =
      chat.kind === "private" ? S.private_subtitle : fmt(S.group_subtitle, { n: fa(chat.members) });

    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 90;
    const list = items(view.messages, isGroup);
    const nodes = [];
    const fresh = new Map();
    for (const it of list) {
      const sig = JSON.stringify([it.parts, it.showName, it.showAvatar, it.text]);
      const old = state.nodes.get(it.key);
      const node = old && old.sig === sig ? old.node : it.kind === "day" ? el("div", "day", it.text) : drawItem(it);
      fresh.set(it.key, { sig, node });
      nodes.push(node);
    }
    state.nodes = fresh;
    if (!nodes.length) {
      const empty = el("div", "empty", S.no_messages);
      if (chat.kind === "private" && !view.started) empty.append(el("div", "", S.start_hint));
      nodes.push(empty);
    }
    box.replaceChildren(...nodes);
    drawBottom(); // the keyboard's height changes the list's: scroll after it is drawn
    if (stickToBottom || atBottom) box.scrollTop = box.scrollHeight;
    stickToBottom = false;
  }

  function drawItem(it) {
    const first = it.parts[0];
    const row = el("div", `row ${first.out ? "out" : "in"}`);
    row.dataset.id = first.id;
    row.dataset.ids = it.parts.map((p) => p.id).join(" ");
    if (state.chats.find((c) => c.id === state.chat && c.kind === "group") && !first.out) {
      row.append(
        it.showAvatar
          ? first.is_bot
            ? botAvatar()
            : avatar(first.name.slice(0, 1), first.from_id)
          : el("div", "avatar ghost")
      );
    }
    const stack = el("div", "stack");
    const bubble = el("div", "bubble");
    bubble.dataset.id = first.id;
    if (it.showName) {
      const name = el("div", `sender ${first.is_bot ? "bot" : colour(first.from_id)}`, first.name);
      if (first.is_bot) name.append(el("span", "bot-tag", S.bot_tag));
      bubble.append(name);
    }
    if (first.reply_to) bubble.append(quote(first.reply_to));
    const captioned = it.parts.find((p) => p.text) || first;
    const visual = (p) => p.media && (p.media.kind === "photo" || p.media.kind === "sticker");
    if (it.parts.length > 1 && it.parts.every(visual)) {
      const grid = el("div", `album n${it.parts.length}`);
      for (const p of it.parts) grid.append(picture(p.media, false));
      bubble.append(grid);
    } else if (it.parts.length > 1) {
      for (const p of it.parts) if (p.media) bubble.append(media(p)); // a group of files
    } else if (first.media) {
      bubble.append(media(first));
    }
    if (first.location) bubble.append(locationCard(first.location));
    if (first.contact) bubble.append(contactCard(first.contact));
    if (captioned.text) {
      const text = el("div", "text");
      text.dir = "auto";
      text.append(renderText(captioned.text, captioned.entities));
      bubble.append(text);
    }
    const onlyPicture =
      !captioned.text && first.media && first.media.kind === "photo" && !first.reply_to && !it.showName;
    if (onlyPicture) bubble.classList.add("photo-only");
    const meta = el("span", "meta");
    if (it.parts.some((p) => p.edited)) meta.append(el("span", "edited", S.edited), " ");
    meta.append(it.parts[it.parts.length - 1].time);
    // the time floats at the end of the text's last line, as in Telegram
    const textNode = bubble.querySelector(".text");
    (textNode || bubble).append(meta);
    stack.append(bubble);
    const keyboard = first.inline_keyboard || [];
    if (keyboard.length) stack.append(inlineKeyboard(first.id, keyboard));
    row.append(stack);
    const reply = el("button", "reply-btn");
    reply.type = "button";
    reply.title = S.reply;
    reply.setAttribute("aria-label", S.reply);
    reply.innerHTML = REPLY_ICON;
    reply.addEventListener("click", () => setReply(first));
    row.append(reply);
    bubble.addEventListener("dblclick", () => setReply(first));
    return row;
  }

  function quote(r) {
    const q = el("div", "quote");
    const text = el("div", "quote-text", r.text);
    text.dir = "auto";
    q.append(el("div", "quote-name", r.name), text);
    q.addEventListener("click", () => {
      const target = document.querySelector(`.bubble[data-id="${r.id}"]`);
      if (!target) return;
      target.scrollIntoView({ block: "center", behavior: "smooth" });
      target.classList.remove("flash");
      void target.offsetWidth;
      target.classList.add("flash");
    });
    return q;
  }

  function picture(m, chart) {
    const img = el("img");
    img.src = m.url;
    img.alt = S.photo;
    img.loading = "eager";
    img.addEventListener("load", () => {
      const box = $("messages");
      if (box.scrollHeight - box.scrollTop - box.clientHeight < img.height + 120) box.scrollTop = box.scrollHeight;
    });
    img.addEventListener("click", () => {
      $("lightbox-img").src = m.url;
      $("lightbox").hidden = false;
    });
    if (chart) img.classList.add("chart-img");
    return img;
  }

  function media(msg) {
    const m = msg.media;
    if (m.kind === "photo" || m.kind === "sticker") {
      const box = el("div", "media" + (msg.is_bot ? " chart" : ""));
      box.append(picture(m, msg.is_bot));
      return box;
    }
    const doc = el("div", "doc");
    const icon = el("div", "doc-icon");
    icon.innerHTML = FILE_ICON;
    const info = el("div", "doc-info");
    info.append(el("div", "doc-name", m.name));
    const line = el("div", "doc-size", m.size + " ");
    const a = el("a", "download", S.download);
    a.href = m.url;
    a.setAttribute("download", m.name);
    line.append("· ", a);
    info.append(line);
    doc.append(icon, info);
    return doc;
  }

  function locationCard(loc) {
    const wrap = el("div", "loc");
    const map = el("div", "map");
    map.innerHTML = PIN;
    wrap.append(map);
    if (loc.place) wrap.append(el("div", "loc-text", loc.place));
    wrap.append(el("div", "loc-coords", `${fa(loc.lat.toFixed(4))}, ${fa(loc.lon.toFixed(4))}`));
    return wrap;
  }

  // +989121234567 as Telegram's apps show a shared number: +98 912 123 4567
  const phoneShown = (p) => p.replace(/^\+98(\d{3})(\d{3})(\d{4})$/, "+98 $1 $2 $3");

  function contactCard(c) {
    const box = el("div", "contact");
    box.append(avatar((c.name || "?").slice(0, 1), c.phone.length));
    const info = el("div");
    info.append(el("div", "contact-name", c.name || S.contact), el("div", "contact-phone", fa(phoneShown(c.phone))));
    box.append(info);
    return box;
  }

  function inlineKeyboard(messageId, rows) {
    const box = el("div", "ikb");
    rows.forEach((row, r) => {
      const line = el("div", "ikb-row");
      row.forEach((b, c) => {
        const btn = el("button", "", b.text);
        btn.type = "button";
        btn.dataset.row = r;
        btn.dataset.col = c;
        if (b.kind === "url") {
          btn.append(el("span", "url-mark", "↗"));
          btn.addEventListener("click", () => {
            const href = safeUrl(b.url);
            if (href) window.open(href, "_blank", "noopener,noreferrer");
          });
        } else {
          btn.addEventListener("click", async () => {
            btn.classList.add("pending");
            await post("/api/press", { ...who(), message: messageId, row: r, col: c });
            setTimeout(() => btn.classList.remove("pending"), 600);
          });
        }
        line.append(btn);
      });
      box.append(line);
    });
    return box;
  }

  // ---------------------------------------------------------------- composer and keyboards

  function setReply(msg) {
    state.replyTo = { id: msg.id, name: msg.name, text: msg.text || (msg.media ? S.photo : "") };
    drawReplyBar();
    $("composer-input").focus();
  }

  function drawReplyBar() {
    const r = state.replyTo;
    $("replybar").hidden = !r;
    if (!r) return;
    $("replybar-name").textContent = fmt(S.replying_to, { name: r.name });
    $("replybar-text").textContent = r.text;
  }

  function drawBottom() {
    const view = state.view;
    const chat = state.chats.find((c) => c.id === state.chat);
    const isPrivate = chat && chat.kind === "private";
    const notStarted = isPrivate && view && !view.started;
    $("composer-input").hidden = notStarted;
    $("send").hidden = notStarted;
    $("attach").hidden = notStarted;
    $("start").hidden = !notStarted;
    $("attach-location").disabled = !isPrivate;
    $("attach-contact").disabled = !isPrivate;

    // ForceReply: open the reply to the prompt, as Telegram's apps do
    const force = view ? view.force_reply : null;
    const key = `${state.persona}:${state.chat}`;
    if (force && state.dismissedForce[key] !== force && (!state.replyTo || state.replyTo.id !== force)) {
      const msg = view.messages.find((m) => m.id === force);
      if (msg) setReply(msg);
    }
    drawReplyBar();

    const kb = view ? view.keyboard : null;
    const sig = JSON.stringify(kb);
    if (sig !== state.kbSig) {
      state.kbSig = sig;
      state.kbHidden = false;
    }
    const box = $("reply-keyboard");
    $("kb-toggle").hidden = !kb;
    $("kb-toggle").title = state.kbHidden ? S.show_keyboard : S.hide_keyboard;
    $("kb-toggle").classList.toggle("on", !!kb && !state.kbHidden);
    box.hidden = !kb || state.kbHidden || notStarted;
    box.replaceChildren();
    $("composer-input").placeholder = (kb && kb.placeholder) || S.composer;
    if (!kb) return;
    for (const row of kb.rows) {
      const line = el("div", "rkb-row");
      for (const b of row) {
        const btn = el("button", b.kind === "text" ? "" : "request", b.text);
        btn.type = "button";
        btn.addEventListener("click", () => keyboardPress(b, kb));
        line.append(btn);
      }
      box.append(line);
    }
  }

  async function keyboardPress(b, kb) {
    if (kb.one_time) state.kbHidden = true;
    if (b.kind === "contact") await post("/api/contact", who());
    else if (b.kind === "location") openLocation();
    else await sendText(b.text, true);
    drawBottom();
  }

  async function sendText(text, fromKeyboard) {
    const body = { ...who(), text };
    if (!fromKeyboard && state.replyTo) body.reply_to = state.replyTo.id;
    const sent = await post("/api/send", body);
    if (sent && !fromKeyboard) {
      if (state.replyTo) state.dismissedForce[`${state.persona}:${state.chat}`] = state.replyTo.id;
      state.replyTo = null;
      drawReplyBar();
    }
    stickToBottom = true;
    return sent;
  }

  async function sendComposer() {
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    const sent = await sendText(text, false);
    if (!sent) input.value = text;
  }

  function autosize() {
    const input = $("composer-input");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
  }

  async function uploadFiles(files) {
    if (!files.length) return;
    const form = new FormData();
    form.append("persona", state.persona);
    form.append("chat", state.chat);
    const input = $("composer-input");
    if (input.value.trim()) form.append("caption", input.value.trim());
    for (const f of files) form.append("file", f, f.name);
    const done = await post("/api/upload", null, form);
    if (done) {
      input.value = "";
      autosize();
    }
    stickToBottom = true;
  }

  // ---------------------------------------------------------------- location dialog

  let chosenPlace = null;

  function openLocation() {
    chosenPlace = null;
    $("loc-lat").value = "";
    $("loc-lon").value = "";
    $("loc-error").hidden = true;
    const box = $("loc-presets");
    box.replaceChildren();
    for (const p of PLACES) {
      const b = el("button", "", p.name);
      b.type = "button";
      b.dataset.place = p.key;
      b.addEventListener("click", () => {
        chosenPlace = p;
        box.querySelectorAll("button").forEach((x) => x.classList.toggle("chosen", x === b));
        $("loc-lat").value = fa(p.lat);
        $("loc-lon").value = fa(p.lon);
      });
      box.append(b);
    }
    $("location-dialog").hidden = false;
  }

  async function sendLocation() {
    const lat = Number(ascii($("loc-lat").value.trim()));
    const lon = Number(ascii($("loc-lon").value.trim()));
    const valid =
      $("loc-lat").value.trim() !== "" &&
      $("loc-lon").value.trim() !== "" &&
      Number.isFinite(lat) &&
      Number.isFinite(lon) &&
      Math.abs(lat) <= 90 &&
      Math.abs(lon) <= 180;
    if (!valid) {
      $("loc-error").textContent = S.location_invalid;
      $("loc-error").hidden = false;
      return;
    }
    $("location-dialog").hidden = true;
    await post("/api/location", { ...who(), lat, lon });
    stickToBottom = true;
  }

  // ---------------------------------------------------------------- toasts and alerts

  function toast(text, kind, detail) {
    const t = prose("div", "toast" + (kind ? ` ${kind}` : ""), text);
    t.dir = "auto";
    if (detail) t.append(el("span", "detail", detail));
    $("toasts").append(t);
    setTimeout(() => t.remove(), kind === "error" ? 9000 : 3500);
  }

  function alertBox(text) {
    $("modal-body").textContent = text;
    $("modal-body").dir = "auto"; // a phone number alone reads left to right
    $("modal").hidden = false;
    $("modal-ok").focus();
  }

  // ---------------------------------------------------------------- the event stream

  let offline = false;

  function onEvent(ev) {
    switch (ev.type) {
      case "changed":
        scheduleRefresh();
        break;
      case "answer":
        // a press's answer shows on the presser's screen only, as on their phone
        if (ev.persona !== state.persona) break;
        if (ev.missing) toast(S.no_answer, "error");
        else if (ev.alert) alertBox(ev.text);
        else toast(ev.text);
        break;
      case "api_error": {
        const method = `\u2066${ev.method}\u2069`; // a Latin name inside a Persian line
        if (ev.code === 429) {
          toast(fmt(S.api_429, { seconds: fa(ev.retry_after || "?"), method }), "error", ev.description);
        } else {
          toast(fmt(S.api_refused, { method, code: fa(ev.code) }), "error", ev.description);
        }
        break;
      }
      case "seed":
        seedState(ev);
        break;
      default:
        break;
    }
  }

  function seedState(ev) {
    const status = $("seed-status");
    state.seeding = ev.state === "running";
    $("seed").disabled = state.seeding;
    let text = fmt(S.seed_failed, { error: ev.error || "" });
    if (ev.state === "running") text = S.seed_running;
    else if (ev.state === "done") text = fmt(S.seed_done, { n: fa(ev.count) });
    else if (ev.state === "refused") text = S.seed_refused;
    status.replaceChildren(...prose("span", "", text).childNodes);
    if (ev.state !== "running") toast(text, ev.state === "done" ? "" : "error");
    scheduleRefresh();
  }

  function connect() {
    const es = new EventSource("/api/events");
    es.onmessage = (m) => onEvent(JSON.parse(m.data));
    es.onopen = () => {
      if (offline) {
        offline = false;
        scheduleRefresh();
      }
    };
    es.onerror = () => {
      if (!offline) {
        offline = true;
        toast(S.offline, "error");
      }
    };
  }

  // ---------------------------------------------------------------- the guided tour

  function drawTour() {
    $("tour-title").textContent = S.tour_title;
    $("tour-intro").textContent = S.tour_intro;
    $("tour-path").textContent = S.tour_path;
    const steps = $("tour-steps");
    steps.replaceChildren();
    for (let i = 1; S[`tour_${i}`]; i++) steps.append(prose("li", "", S[`tour_${i}`]));
    $("tour-start").textContent = S.tour_start;
    $("seed").textContent = S.seed;
    $("seed-hint").textContent = S.seed_hint;
  }

  function showTour() {
    if (state.chat !== null) state.lastChat[state.persona] = state.chat;
    state.chat = null;
    state.view = null;
    $("conversation").hidden = true;
    $("tour").hidden = false;
    refresh();
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    document.title = S.title;
    $("rail-title").textContent = S.play_as;
    $("rail").setAttribute("aria-label", S.play_as);
    $("chats-title").textContent = S.chats;
    $("note").textContent = S.tour_note;
    $("guide").textContent = S.guide;
    $("attach-file").textContent = S.attach_file;
    $("attach-location").textContent = S.attach_location;
    $("attach-contact").textContent = S.attach_contact;
    $("attach").title = S.attach;
    $("attach").setAttribute("aria-label", S.attach);
    $("send").title = S.send;
    $("send").setAttribute("aria-label", S.send);
    $("start").textContent = S.start;
    $("replybar-cancel").setAttribute("aria-label", S.cancel);
    $("modal-ok").textContent = S.ok;
    $("loc-title").textContent = S.location_title;
    $("loc-presets-title").textContent = S.location_presets;
    $("loc-typed-title").textContent = S.location_typed;
    $("loc-lat-label").textContent = S.latitude;
    $("loc-lon-label").textContent = S.longitude;
    $("loc-send").textContent = S.location_send;
    $("loc-cancel").textContent = S.cancel;
    drawTour();

    const input = $("composer-input");
    input.placeholder = S.composer;
    input.addEventListener("input", autosize);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        sendComposer();
      }
    });
    $("send").addEventListener("click", sendComposer);
    $("start").addEventListener("click", () => sendText("/start", true));
    $("replybar-cancel").addEventListener("click", () => {
      if (state.replyTo) state.dismissedForce[`${state.persona}:${state.chat}`] = state.replyTo.id;
      state.replyTo = null;
      drawReplyBar();
    });
    $("attach").addEventListener("click", (ev) => {
      ev.stopPropagation();
      $("attach-menu").hidden = !$("attach-menu").hidden;
    });
    document.addEventListener("click", () => ($("attach-menu").hidden = true));
    $("attach-file").addEventListener("click", () => $("file-input").click());
    $("attach-location").addEventListener("click", openLocation);
    $("attach-contact").addEventListener("click", () => post("/api/contact", who()));
    $("file-input").addEventListener("change", async (ev) => {
      const files = Array.from(ev.target.files || []);
      ev.target.value = "";
      await uploadFiles(files);
    });
    $("kb-toggle").addEventListener("click", () => {
      state.kbHidden = !state.kbHidden;
      drawBottom();
    });
    $("modal-ok").addEventListener("click", () => ($("modal").hidden = true));
    $("loc-cancel").addEventListener("click", () => ($("location-dialog").hidden = true));
    $("loc-send").addEventListener("click", sendLocation);
    $("lightbox").addEventListener("click", () => ($("lightbox").hidden = true));
    $("guide").addEventListener("click", showTour);
    $("tour-start").addEventListener("click", () => {
      const citizen = state.personas.find((p) => p.part === "citizen");
      if (citizen) {
        state.persona = citizen.id;
        openChat(citizen.id);
      }
    });
    $("seed").addEventListener("click", async () => {
      $("seed").disabled = true;
      const ok = await post("/api/seed", { persona: state.persona });
      if (!ok) $("seed").disabled = false;
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        $("modal").hidden = true;
        $("location-dialog").hidden = true;
        $("lightbox").hidden = true;
      }
    });
  }

  async function main() {
    wire();
    state.persona = boot.first;
    $("tour").hidden = false;
    await refresh();
    connect();
  }

  main();
})();

// Lumetrix learner console: a small client of the /training API, with no framework and no
// build step. Every piece of API data reaches the page through textContent or a data
// attribute, never as markup, so a sample's text cannot inject anything.
"use strict";

(() => {
  const STORE = "lumetrix.console";
  const PAGE_SIZE = 12;
  const BOARD_SIZE = 10;
  const MAX_TIME_SPENT = 3600; // the API accepts 1..3600 seconds per mark-read

  const state = {
    token: "",
    client: "",
    language: "c",
    chapter: "",
    page: 1,
    chaptersOf: "", // the language whose chapters fill the chapter picker
    open: null, // {id, spent, since}: the sample being read and the time spent on it
    seq: { samples: 0, detail: 0, progress: 0, board: 0 }, // drop answers that came too late
  };

  const $ = (id) => document.getElementById(id);

  /** An element with a class and text; never parses markup. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // --- the API -------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, detail, retryAfter) {
      super(detail);
      this.status = status;
      this.code = code;
      this.detail = detail;
      this.retryAfter = retryAfter;
    }
  }

  /** Call the API as the signed-in learner; resolves to the JSON body or throws ApiError. */
  async function api(method, path, params, body) {
    // Relative to the page (/console), so a path prefix in front of the service still works.
    const url = new URL("training/" + path, document.baseURI);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
    }
    const headers = {
      Accept: "application/json",
      Authorization: "Bearer " + state.token,
      "X-Client-Id": state.client,
    };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, "network_error", "cannot reach the service (" + err.message + ")");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null; // a proxy's HTML error page, or no body at all
    }
    if (!response.ok) {
      // The service answers {"status": "error", "code": ..., "detail": ...}.
      let detail = data && data.detail !== undefined ? data.detail : response.statusText;
      if (typeof detail !== "string") detail = JSON.stringify(detail);
      const code = (data && data.code) || "http_" + response.status;
      throw new ApiError(response.status, code, detail || "request failed",
        response.headers.get("Retry-After"));
    }
    return data;
  }

  // --- errors --------------------------------------------------------------------------

  /** Show what went wrong; a refused token also brings the sign-in form back. */
  function showError(context, err) {
    if (!(err instanceof ApiError)) {
      console.error(err);
      err = new ApiError(0, "client_error", String(err && err.message ? err.message : err));
    }
    let detail = err.detail;
    if (err.status) detail += " (" + err.code + ", HTTP " + err.status + ")";
    if (err.retryAfter) detail += "; retry in " + err.retryAfter + " s";
    $("error-title").textContent = context + ":";
    $("error-detail").textContent = detail;
    $("error").hidden = false;
    $("error").dataset.code = err.code;
    if (err.status === 401) {
      // The token is no good (expired, wrong secret, wrong client): forget it and ask again.
      sessionStorage.removeItem(STORE);
      state.token = "";
      showSignIn();
    }
  }

  function clearError() {
    $("error").hidden = true;
    $("error").dataset.code = "";
  }

  // --- credentials ---------------------------------------------------------------------

  /** Credentials from `#token=...&client=...`, removed from the address bar at once. */
  function fromFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const token = params.get("token");
    if (!token) return null;
    // Out of the address bar and history: a token should not outlive the tab by accident.
    history.replaceState(null, "", location.pathname + location.search);
    return { token: token.trim(), client: (params.get("client") || "web").trim() };
  }

  function fromStorage() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
      return saved && saved.token ? saved : null;
    } catch (_) {
      return null;
    }
  }

  function save() {
    sessionStorage.setItem(STORE, JSON.stringify({
      token: state.token, client: state.client, language: state.language,
    }));
  }

  /** The token's `sub`, for display only: the server is what checks the token. */
  function studentOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).sub || "";
    } catch (_) {
      return "";
    }
  }

  function showSignIn() {
    stopTimer();
    $("console").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    $("client-input").value = state.client || "web";
    document.body.dataset.view = "signin";
  }

  function start(creds) {
    state.token = creds.token;
    state.client = creds.client || "web";
    if (["c", "cpp", "python"].includes(creds.language)) state.language = creds.language;
    save();
    $("signin").hidden = true;
    $("console").hidden = false;
    $("who").hidden = false;
    $("who-student").textContent = (studentOf(state.token) || "student") + " · " + state.client;
    $("language").value = state.language;
    document.body.dataset.view = "console";
    loadAll();
  }

  // --- samples -------------------------------------------------------------------------

  function badge(node, isRead) {
    node.textContent = isRead ? "read" : "unread";
    node.className = "badge " + (isRead ? "read" : "unread");
  }

  function sampleItem(sample) {
    const item = el("li", "sample");
    item.dataset.sampleId = sample.sample_id;
    item.dataset.read = String(Boolean(sample.isRead));
    if (state.open && state.open.id === sample.sample_id) item.setAttribute("aria-current", "true");
    const open = el("button", "sample-open");
    open.type = "button";
    const head = el("span", "sample-head");
    head.append(el("span", "sample-id", sample.sample_id));
    head.append(el("span", "meta",
      "ch " + sample.chapter + " · " + sample.type + " · " + sample.difficulty));
    const mark = el("span");
    badge(mark, sample.isRead);
    head.append(mark);
    open.append(head);
    const question = String(sample.question || "");
    open.append(el("span", "preview", question.length > 110 ? question.slice(0, 110) + "…" : question));
    open.addEventListener("click", () => openSample(sample.sample_id));
    item.append(open);
    return item;
  }

  async function loadSamples() {
    const seq = ++state.seq.samples;
    const list = $("samples");
    list.dataset.loading = "true";
    try {
      const body = await api("GET", "samples", {
        language: state.language, chapter: state.chapter, page: state.page, limit: PAGE_SIZE,
      });
      if (seq !== state.seq.samples) return;
      list.replaceChildren(...body.data.map(sampleItem));
      if (!body.data.length) list.append(el("li", "hint", "No samples here."));
      const p = body.pagination;
      $("page-info").textContent =
        "page " + p.page + " of " + Math.max(1, p.total_pages) + " · " + p.total + " samples";
      $("prev").disabled = !p.has_prev;
      $("next").disabled = !p.has_next;
    } catch (err) {
      if (seq === state.seq.samples) showError("Could not load the samples", err);
    } finally {
      if (seq === state.seq.samples) list.dataset.loading = "false";
    }
  }

  /** Flip a listed sample's badge once the server has confirmed the read. */
  function markListed(id) {
    for (const item of $("samples").children) {
      if (item.dataset.sampleId === id) {
        item.dataset.read = "true";
        badge(item.querySelector(".badge"), true);
      }
    }
  }

  // --- one sample and its reading time -------------------------------------------------

  function elapsed() {
    const open = state.open;
    if (!open) return 0;
    return open.spent + (open.since === null ? 0 : (performance.now() - open.since) / 1000);
  }

  function tick() {
    if (state.open) $("timer").textContent = "reading for " + Math.floor(elapsed()) + " s";
  }

  let ticker = null;

  function startTimer(id) {
    stopTimer();
    state.open = { id, spent: 0, since: document.hidden ? null : performance.now() };
    tick();
    ticker = setInterval(tick, 1000);
  }

  function stopTimer() {
    if (ticker !== null) clearInterval(ticker);
    ticker = null;
    state.open = null;
    $("timer").textContent = "";
  }

  // Time counts only while the page is visible: a tab left in the background is not reading.
  document.addEventListener("visibilitychange", () => {
    const open = state.open;
    if (!open) return;
    if (document.hidden && open.since !== null) {
      open.spent += (performance.now() - open.since) / 1000;
      open.since = null;
    } else if (!document.hidden && open.since === null) {
      open.since = performance.now();
    }
  });

  function renderDetail(sample) {
    $("detail").dataset.sampleId = sample.sample_id;
    $("detail").dataset.read = String(Boolean(sample.isRead));
    $("detail-empty").hidden = true;
    $("detail-body").hidden = false;
    $("detail-title").textContent = sample.sample_id;
    badge($("detail-badge"), sample.isRead);
    const parts = [
      "chapter " + sample.chapter,
      sample.knowledge_area || "",
      sample.type,
      sample.difficulty,
      (sample.read_points || 1) + " pt",
    ];
    if (sample.isRead) {
      parts.push("read " + String(sample.readAt || "").slice(0, 10));
      parts.push(sample.timeSpent + " s over " + sample.revisitedCount + " visit(s)");
    }
    $("detail-meta").textContent = parts.filter(Boolean).join(" · ");
    $("detail-question").textContent = sample.question;
    $("detail-answer").textContent = sample.answer;
    $("mark-read").textContent = sample.isRead ? "Read again" : "Mark as read";
  }

  async function openSample(id) {
    const seq = ++state.seq.detail;
    try {
      const body = await api("GET", "samples/" + encodeURIComponent(id));
      if (seq !== state.seq.detail) return;
      for (const item of $("samples").children) {
        if (item.dataset.sampleId === id) item.setAttribute("aria-current", "true");
        else item.removeAttribute("aria-current");
      }
      $("mark-result").textContent = "";
      renderDetail(body.data);
      startTimer(id);
    } catch (err) {
      if (seq === state.seq.detail) showError("Could not open " + id, err);
    }
  }

  async function markRead() {
    const open = state.open;
    if (!open) return;
    const id = open.id;
    const seconds = Math.min(MAX_TIME_SPENT, Math.max(1, Math.round(elapsed())));
    const button = $("mark-read");
    button.disabled = true;
    try {
      const result = await api("POST", "samples/" + encodeURIComponent(id) + "/mark-read",
        undefined, { time_spent: seconds });
      clearError();
      markListed(id);
      $("mark-result").textContent = result.is_first_read
        ? "+" + result.points_awarded + " point(s) · " + seconds + " s recorded"
        : "read again · " + seconds + " s added";
      const seq = ++state.seq.detail;
      const body = await api("GET", "samples/" + encodeURIComponent(id));
      if (seq === state.seq.detail) {
        renderDetail(body.data);
        startTimer(id); // a further "read again" counts from now
      }
      loadProgress();
      loadBoard();
    } catch (err) {
      showError("Could not mark " + id + " read", err);
    } finally {
      button.disabled = false;
    }
  }

  // --- progress, streak, points, leaderboard -------------------------------------------

  function fillChapterPicker(chapters) {
    const select = $("chapter");
    const options = [el("option", "", "all")];
    options[0].value = "";
    for (const row of chapters) {
      const option = el("option", "", row.chapter + " · " + row.knowledge_area);
      option.value = String(row.chapter);
      options.push(option);
    }
    select.replaceChildren(...options);
    select.value = state.chapter;
    state.chaptersOf = state.language;
  }

  function chapterBar(row) {
    const item = el("li", "bar-row");
    item.dataset.chapter = String(row.chapter);
    item.dataset.read = String(row.read);
    item.dataset.total = String(row.total);
    const label = el("span", "bar-label", row.chapter + " " + row.knowledge_area);
    const track = el("span", "bar-track");
    const fill = el("span", "bar-fill");
    // Any read shows: a sliver rather than nothing for 1 of 200.
    fill.style.width = row.read ? Math.max(1.5, row.percentage) + "%" : "0";
    track.append(fill);
    const count = el("span", "bar-count", row.read + " / " + row.total);
    item.append(label, track, count);
    item.title = row.percentage + "% of chapter " + row.chapter;
    return item;
  }

  async function loadProgress() {
    const seq = ++state.seq.progress;
    try {
      const body = await api("GET", "my-progress", { language: state.language });
      if (seq !== state.seq.progress) return;
      const o = body.overview;
      const s = body.streak;
      $("stat-points").textContent = String(o.points);
      $("stat-streak").textContent = String(s.current);
      $("stat-read").textContent = String(o.samples_read);
      $("stat-extra").textContent =
        o.samples_read + " of " + o.samples_total + " samples (" + o.progress_percentage + "%) · " +
        "longest streak " + s.longest + " · " + o.total_time_minutes + " min reading · " + s.tz;
      $("chapters").replaceChildren(...body.by_chapter.map(chapterBar));
      if (state.chaptersOf !== state.language) fillChapterPicker(body.by_chapter);
    } catch (err) {
      if (seq === state.seq.progress) showError("Could not load your progress", err);
    }
  }

  async function loadBoard() {
    const seq = ++state.seq.board;
    try {
      const body = await api("GET", "leaderboard", {
        language: state.language, period: $("period").value, limit: BOARD_SIZE,
      });
      if (seq !== state.seq.board) return;
      const rows = body.top.map((entry) => {
        // Others are shown by name only (the API never sends their ids); el() sets textContent.
        const item = el("li", entry.is_me ? "me" : "");
        item.append(el("span", "rank", "#" + entry.rank), el("span", "name", entry.name),
          el("span", "pts", entry.points + " pt"));
        return item;
      });
      if (!rows.length) rows.push(el("li", "hint empty", "Nobody has read anything yet."));
      $("board").replaceChildren(...rows);
      const me = body.me;
      $("board-me").textContent = "You (" + me.name + "): " +
        (me.rank ? "#" + me.rank + " with " + me.points + " pt" : "not ranked yet") +
        (me.hidden ? " (hidden from others)" : "") + " · " + body.period_key;
    } catch (err) {
      if (seq === state.seq.board) showError("Could not load the leaderboard", err);
    }
  }

  function loadAll() {
    clearError();
    loadSamples();
    loadProgress();
    loadBoard();
  }

  // --- wiring --------------------------------------------------------------------------

  function closeDetail() {
    stopTimer();
    state.seq.detail++;
    $("detail").dataset.sampleId = "";
    $("detail-body").hidden = true;
    $("detail-empty").hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearError();
      start({ token: $("token-input").value.trim(), client: $("client-input").value.trim() });
      $("token-input").value = "";
    });
    $("sign-out").addEventListener("click", () => {
      sessionStorage.removeItem(STORE);
      state.token = "";
      closeDetail();
      clearError();
      showSignIn();
    });
    $("error-close").addEventListener("click", clearError);
    $("language").addEventListener("change", () => {
      state.language = $("language").value;
      state.chapter = "";
      state.page = 1;
      save();
      closeDetail();
      loadAll();
    });
    $("chapter").addEventListener("change", () => {
      state.chapter = $("chapter").value;
      state.page = 1;
      loadSamples();
    });
    $("prev").addEventListener("click", () => {
      state.page = Math.max(1, state.page - 1);
      loadSamples();
    });
    $("next").addEventListener("click", () => {
      state.page += 1;
      loadSamples();
    });
    $("period").addEventListener("change", loadBoard);
    $("mark-read").addEventListener("click", markRead);

    const creds = fromFragment() || fromStorage();
    if (creds) start(creds);
    else showSignIn();
  });
})();

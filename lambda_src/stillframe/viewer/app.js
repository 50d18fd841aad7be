// Stillframe viewer: the KVS JSON API (ListStreams, ListFragments, GetImages) drawn as a timeline, a filmstrip
// and a still you can step through, and video played from any time or live (playback.js, over the vendored
// hls.js). Plain browser JavaScript, no build step.
"use strict";

const MIN_GAP_MS = 100;          // shorter holes between fragments are not drawn as gaps
const MIN_VIEW_MS = 2000;        // zoomed in furthest: 2 s across the timeline
const MAX_VIEW_MS = 60 * 86400e3;
const MAX_SLOTS = 240;           // thumbnails in the filmstrip at most
const THUMB_HEIGHT = 72;
const MAX_SAMPLING_MS = 20000;   // GetImages' SamplingInterval range is 200..20000 ms
const MAX_WINDOW_MS = 300000;    // and End - Start at most 300 s
const PAGE = 25;
const POLL_MS = 2000;
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  172800, 604800].map((s) => s * 1000);

const $ = (id) => document.getElementById(id);
const state = {
  stream: null, fragments: new Map(), spans: [], view: { start: 0, end: 1 }, cursor: null,
  stillRequest: 0, stripVersion: 0, pollTimer: null, playback: null,
};

// ---- API ---------------------------------------------------------------------------------------------------

async function call(operation, body) {
  const response = await fetch(operation, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = data.__type || (response.headers.get("x-amzn-ErrorType") || "").split(":")[0] || response.status;
    throw new Error(`${operation}: ${type}: ${data.message || response.statusText}`);
  }
  return data;
}

async function listStreams() {
  const names = [];
  let token;
  do {
    const page = await call("listStreams", token ? { NextToken: token } : { MaxResults: 1000 });
    for (const info of page.StreamInfoList || []) names.push(info.StreamName);
    token = page.NextToken;
  } while (token);
  return names.sort();
}

async function listFragments(range) {
  const found = [];
  let token;
  do {
    const body = { StreamName: state.stream, MaxResults: 1000 };
    if (token) body.NextToken = token;
    if (range) body.FragmentSelector = { FragmentSelectorType: selector(), TimestampRange: range };
    const page = await call("listFragments", body);
    found.push(...(page.Fragments || []));
    token = page.NextToken;
  } while (token);
  return found;
}

async function getImages(startMs, endMs, intervalMs, height) {
  const body = {
    StreamName: state.stream, ImageSelectorType: selector(), StartTimestamp: startMs / 1000,
    EndTimestamp: endMs / 1000, SamplingInterval: intervalMs, Format: "JPEG", MaxResults: PAGE,
  };
  if (height) body.HeightPixels = height;
  const page = await call("getImages", body);
  return (page.Images || []).map((image) => ({
    t: Math.round(image.TimeStamp * 1000), content: image.ImageContent, error: image.Error || "NO_MEDIA",
  }));
}

// ---- helpers -----------------------------------------------------------------------------------------------

const selector = () => $("selector").value;
const interval = () => Number($("interval").value);
const iso = (ms) => new Date(ms).toISOString();
const clockText = (ms, withDate) => (withDate ? iso(ms).replace("T", " ") : iso(ms).slice(11));
const fileStamp = (ms) => iso(ms).replace(/:/g, "-");
const plural = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const dataUrl = (content) => `data:image/jpeg;base64,${content}`;

function duration(ms) {
  if (ms < 60e3) return `${(ms / 1000).toFixed(ms < 10e3 ? 3 : 1)} s`;
  if (ms < 3600e3) return `${(ms / 60e3).toFixed(1)} min`;
  if (ms < 86400e3) return `${(ms / 3600e3).toFixed(1)} h`;
  return `${(ms / 86400e3).toFixed(1)} days`;
}

function status(text) {
  $("status").textContent = text || "";
}

function fragmentStart(fragment) {
  const seconds = selector() === "SERVER_TIMESTAMP" ? fragment.ServerTimestamp : fragment.ProducerTimestamp;
  return Math.round(seconds * 1000);
}

function mergeSpans() {
  const fragments = [...state.fragments.values()]
    .map((f) => ({ start: fragmentStart(f), end: fragmentStart(f) + f.FragmentLengthInMilliseconds,
      size: f.FragmentSizeInBytes }))
    .sort((a, b) => a.start - b.start);
  const spans = [];
  for (const f of fragments) {
    const last = spans[spans.length - 1];
    if (last && f.start - last.end < MIN_GAP_MS) {
      last.end = Math.max(last.end, f.end);
      last.fragments += 1;
      last.size += f.size;
    } else {
      spans.push({ start: f.start, end: f.end, fragments: 1, size: f.size });
    }
  }
  state.spans = spans;
}

function spanAt(ms) {
  return state.spans.find((span) => span.start <= ms && ms < span.end) || null;
}

function extent() {
  if (!state.spans.length) return null;
  return { start: state.spans[0].start, end: state.spans[state.spans.length - 1].end };
}

// ---- timeline ----------------------------------------------------------------------------------------------

function fitView() {
  const all = extent();
  if (!all) return setView(Date.now() - 60e3, Date.now());
  const pad = Math.max((all.end - all.start) * 0.02, 500);
  setView(all.start - pad, all.end + pad);
}

function setView(start, end) {
  const width = Math.min(Math.max(end - start, MIN_VIEW_MS), MAX_VIEW_MS);
  const middle = (start + end) / 2;
  state.view = { start: Math.round(middle - width / 2), end: Math.round(middle + width / 2) };
  drawTimeline();
  scheduleFilmstrip();
}

function zoom(factor, aroundMs) {
  const { start, end } = state.view;
  const around = aroundMs ?? (start + end) / 2;
  setView(around - (around - start) * factor, around + (end - around) * factor);
}

function position(ms) {
  const { start, end } = state.view;
  return ((ms - start) / (end - start)) * 100;
}

function placed(element, fromMs, toMs) {
  const left = Math.max(position(fromMs), -1);
  const right = Math.min(position(toMs), 101);
  element.style.left = `${left}%`;
  element.style.width = `${Math.max(right - left, 0.15)}%`;
  return element;
}

function drawTimeline() {
  const timeline = $("timeline");
  const { start, end } = state.view;
  const parts = [];
  state.spans.forEach((span, index) => {
    const previous = state.spans[index - 1];
    if (previous && span.start > start && previous.end < end) {
      const gap = placed(document.createElement("div"), previous.end, span.start);
      gap.className = "gap";
      gap.dataset.start = previous.end;
      gap.dataset.end = span.start;
      gap.title = `gap of ${duration(span.start - previous.end)}: ${clockText(previous.end, true)} to ` +
        `${clockText(span.start, true)}`;
      parts.push(gap);
    }
    if (span.end > start && span.start < end) {
      const covered = placed(document.createElement("div"), span.start, span.end);
      covered.className = "covered";
      covered.dataset.start = span.start;
      covered.dataset.end = span.end;
      covered.title = `${clockText(span.start, true)} to ${clockText(span.end, true)}: ${duration(span.end - span.start)}` +
        `, ${span.fragments} fragments`;
      parts.push(covered);
    }
  });
  if (state.cursor !== null && state.cursor >= start && state.cursor <= end) {
    const cursor = document.createElement("div");
    cursor.className = "cursor";
    cursor.style.left = `${position(state.cursor)}%`;
    parts.push(cursor);
  }
  timeline.replaceChildren(...parts);
  drawTicks();
  $("view-label").textContent = `${clockText(start, true)} to ${clockText(end, true)} (${duration(end - start)})`;
  $("view-label").dataset.span = end - start;
  const covered = state.spans.reduce((sum, span) => sum + span.end - span.start, 0);
  const gaps = Math.max(state.spans.length - 1, 0);
  $("coverage-label").textContent = state.spans.length
    ? `${duration(covered)} of video in ${plural(state.spans.length, "range")}, ${plural(gaps, "gap")}, ` +
      `${plural(state.fragments.size, "fragment")}`
    : "no fragments";
}

function drawTicks() {
  const { start, end } = state.view;
  const step = TICK_STEPS.find((s) => (end - start) / s <= 8) || TICK_STEPS[TICK_STEPS.length - 1];
  const withDate = end - start > 86400e3 || new Date(start).getUTCDate() !== new Date(end).getUTCDate();
  const ticks = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    const label = document.createElement("span");
    label.style.left = `${position(t)}%`;
    const text = clockText(t, withDate && step >= 3600e3);
    label.textContent = step >= 1000 ? text.replace(/\.000Z$/, "Z") : text;
    ticks.push(label);
  }
  $("ticks").replaceChildren(...ticks);
}

function timeAtPointer(event) {
  const box = $("timeline").getBoundingClientRect();
  const share = (event.clientX - box.left) / box.width;
  return state.view.start + share * (state.view.end - state.view.start);
}

function wireTimeline() {
  const timeline = $("timeline");
  let drag = null;
  timeline.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoom(event.deltaY > 0 ? 1.25 : 0.8, timeAtPointer(event));
  }, { passive: false });
  timeline.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, view: { ...state.view }, moved: false };
    timeline.setPointerCapture(event.pointerId);
  });
  timeline.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved) return;
    const shift = (dx / timeline.clientWidth) * (drag.view.end - drag.view.start);
    setView(drag.view.start - shift, drag.view.end - shift);
  });
  timeline.addEventListener("pointerup", (event) => {
    const clicked = drag && !drag.moved;
    drag = null;
    if (clicked) chooseStill(snap(Math.round(timeAtPointer(event))));
  });
  $("zoom-in").addEventListener("click", () => zoom(0.5, state.cursor ?? undefined));
  $("zoom-out").addEventListener("click", () => zoom(2, state.cursor ?? undefined));
  $("zoom-fit").addEventListener("click", fitView);
}

// A time picked on the timeline lands on the step grid of its covered range, so stepping stays aligned.
function snap(ms) {
  const span = spanAt(ms);
  if (!span) return ms;
  return span.start + Math.floor((ms - span.start) / interval()) * interval();
}

// ---- filmstrip ---------------------------------------------------------------------------------------------

let filmstripTimer = null;
function scheduleFilmstrip() {
  clearTimeout(filmstripTimer);
  filmstripTimer = setTimeout(buildFilmstrip, 150);
}

function slotTimes() {
  const { start, end } = state.view;
  const visible = state.spans
    .map((span) => ({ span, from: Math.max(span.start, start), to: Math.min(span.end, end) }))
    .filter((part) => part.to > part.from);
  const coveredMs = visible.reduce((sum, part) => sum + part.to - part.from, 0);
  const step = interval() * Math.max(1, Math.ceil(coveredMs / (interval() * MAX_SLOTS)));
  return {
    step,
    parts: visible.map(({ span, from, to }) => {
      const times = [];
      for (let t = span.start + Math.ceil((from - span.start) / step) * step; t < to; t += step) times.push(t);
      return { span, times };
    }),
  };
}

function buildFilmstrip() {
  const strip = $("filmstrip");
  const version = ++state.stripVersion;
  const { step, parts } = slotTimes();
  const children = [];
  let previous = null;
  for (const { span, times } of parts) {
    if (previous) {
      const marker = document.createElement("div");
      marker.className = "gap-marker";
      marker.textContent = `gap ${duration(span.start - previous.end)}`;
      children.push(marker);
    }
    previous = span;
    for (const t of times) children.push(thumbSlot(t, step));
  }
  strip.replaceChildren(...children);
  const observer = new IntersectionObserver((entries) => {
    const wanted = entries.filter((entry) => entry.isIntersecting).map((entry) => entry.target);
    wanted.forEach((slot) => observer.unobserve(slot));
    if (wanted.length) loadThumbs(wanted, version);
  }, { root: strip, rootMargin: "0px 400px" });
  strip.querySelectorAll(".thumb").forEach((slot) => observer.observe(slot));
  markSelected();
}

function thumbSlot(t, step) {
  const slot = document.createElement("button");
  slot.className = "thumb";
  slot.dataset.t = t;
  slot.dataset.step = step;
  const image = document.createElement("img");
  image.alt = `thumbnail at ${iso(t)}`;
  const label = document.createElement("span");
  label.className = "time";
  label.textContent = clockText(t).replace(/Z$/, "");
  slot.append(image, label);
  slot.addEventListener("click", () => chooseStill(t));
  return slot;
}

// Consecutive slots of one range become one GetImages request (at most 25 samples, 300 s, 20 s apart).
function batches(slots) {
  const sorted = slots.map((slot) => ({ slot, t: Number(slot.dataset.t), step: Number(slot.dataset.step) }))
    .sort((a, b) => a.t - b.t);
  const groups = [];
  for (const item of sorted) {
    const group = groups[groups.length - 1];
    const last = group && group[group.length - 1];
    const fits = last && item.step <= MAX_SAMPLING_MS && item.t - last.t === item.step &&
      group.length < PAGE && item.t - group[0].t <= MAX_WINDOW_MS;
    if (fits) group.push(item); else groups.push([item]);
  }
  return groups;
}

let thumbQueue = Promise.resolve();
function loadThumbs(slots, version) {
  for (const group of batches(slots)) {
    thumbQueue = thumbQueue.then(async () => {
      if (version !== state.stripVersion) return;
      const first = group[0].t;
      const last = group[group.length - 1].t;
      const step = Math.max(200, Math.min(group[0].step, MAX_SAMPLING_MS));
      try {
        const images = await getImages(first, last, step, THUMB_HEIGHT);
        const byTime = new Map(images.map((image) => [image.t, image]));
        for (const { slot, t } of group) {
          const image = byTime.get(t);
          if (image && image.content) slot.querySelector("img").src = dataUrl(image.content);
          else slot.classList.add("missing");
          slot.dataset.loaded = image ? (image.content ? "image" : image.error) : "none";
        }
      } catch (error) {
        status(error.message);
      }
    });
  }
}

function markSelected() {
  document.querySelectorAll("#filmstrip .thumb.selected").forEach((slot) => slot.classList.remove("selected"));
  const slot = document.querySelector(`#filmstrip .thumb[data-t="${state.cursor}"]`);
  if (slot) {
    slot.classList.add("selected");
    slot.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
}

// ---- the still ---------------------------------------------------------------------------------------------

async function showStill(t) {
  state.cursor = t;
  const request = ++state.stillRequest;
  const { start, end } = state.view;
  if (t < start || t > end) {
    const width = end - start;
    setView(t - width / 2, t + width / 2);
  } else {
    drawTimeline();
  }
  markSelected();
  $("still-time").textContent = clockText(t, true);
  $("still-time").dataset.t = t;
  try {
    const [image] = await getImages(t, t, Math.max(interval(), 200));
    if (request !== state.stillRequest) return; // a later step won
    const still = $("still-image");
    const link = $("download");
    if (image && image.content) {
      still.src = dataUrl(image.content);
      still.classList.remove("missing");
      $("still-error").textContent = "";
      link.href = still.src;
      link.download = `${fileStamp(t)}.jpg`;
      link.hidden = false;
    } else {
      still.removeAttribute("src");
      still.classList.add("missing");
      const why = image ? image.error : "NO_MEDIA";
      $("still-error").textContent = why === "NO_MEDIA" ? "NO_MEDIA: no video at this time" : why;
      link.hidden = true;
    }
    still.dataset.t = t;
    status("");
  } catch (error) {
    status(error.message);
  }
}

// A still the user picks ends the video (and following live, when that was video).
function chooseStill(t) {
  if (stopVideo() && $("follow").checked) {
    $("follow").checked = false;
    follow(false);
  }
  showStill(t);
}

function step(direction) {
  if (state.cursor === null) return;
  const from = state.playback.active ? snap(state.cursor) : state.cursor; // video stops between steps
  chooseStill(from + direction * interval());
}

function wireKeys() {
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) return;
    if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === "+" || event.key === "=") zoom(0.5, state.cursor ?? undefined);
    else if (event.key === "-") zoom(2, state.cursor ?? undefined);
    else if (event.key === "0") fitView();
  });
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
}

// ---- video -------------------------------------------------------------------------------------------------

// The start of the fragment on screen at `ms`, or null: a session holds only fragments starting in its range, so
// playing from inside one asks from its start and seeks to `ms`.
function fragmentHolding(ms) {
  for (const fragment of state.fragments.values()) {
    const start = fragmentStart(fragment);
    if (start <= ms && ms < start + fragment.FragmentLengthInMilliseconds) return start;
  }
  return null;
}

function playFrom(t) {
  startVideo(playbackFrom(state.stream, selector(), t, fragmentHolding(t), state.view.end));
}

function startVideo(request) {
  if (!Playback.supported()) {
    status(NO_VIDEO);
    return;
  }
  videoShown(true);
  state.playback.play(request);
}

// Back to stills; false when no video was playing.
function stopVideo() {
  if (!state.playback.active) return false;
  state.playback.stop();
  videoShown(false);
  return true;
}

function videoShown(on) {
  $("still").classList.toggle("playing", on);
  $("play").textContent = on ? "Stills" : "Play";
}

function togglePlay() {
  if (state.playback.active) {
    chooseStill(snap(state.cursor ?? state.view.start));
  } else if ($("follow").checked) {
    startVideo({ stream: state.stream, selector: selector(), mode: "LIVE" });
  } else if (state.cursor !== null || state.spans.length) {
    playFrom(state.cursor ?? state.spans[0].start);
  }
}

// The frame on screen is at `ms`: the timeline's cursor and the time above the video follow it.
function videoTime(ms) {
  state.cursor = ms;
  const { start, end } = state.view;
  if (ms < start || ms > end) setView(ms - (end - start) / 2, ms + (end - start) / 2);
  else drawTimeline();
  $("still-time").textContent = clockText(ms, true);
  $("still-time").dataset.t = ms;
}

function videoError(message) {
  status(message);
  if (!state.playback.active) videoShown(false); // it stopped: the still at the cursor is still there
}

const NO_VIDEO = "this browser cannot play video here (no Media Source Extensions for hls.js): stills only";

function wireVideo() {
  state.playback = new Playback($("video"), { call, onTime: videoTime, onError: videoError });
  $("play").addEventListener("click", togglePlay);
  if (!Playback.supported()) $("video-note").textContent = NO_VIDEO;
}

// ---- loading a stream, following it live -------------------------------------------------------------------

async function loadStream(name) {
  stopVideo();
  state.stream = name;
  state.cursor = null;
  state.fragments = new Map();
  history.replaceState(null, "", `#stream=${encodeURIComponent(name)}`);
  try {
    for (const fragment of await listFragments()) state.fragments.set(fragment.FragmentNumber, fragment);
    status("");
  } catch (error) {
    status(error.message);
  }
  mergeSpans();
  fitView();
  if (state.spans.length) showStill(state.spans[0].start);
}

async function poll() {
  const all = extent();
  const from = all ? all.end - 30e3 : Date.now() - 3600e3;
  try {
    const until = Math.max(from, Date.now()) + 3650 * 86400e3; // producer clocks may run ahead of this one
    const range = { StartTimestamp: Math.max(from, 0) / 1000, EndTimestamp: until / 1000 };
    for (const fragment of await listFragments(range)) state.fragments.set(fragment.FragmentNumber, fragment);
  } catch (error) {
    status(error.message);
    return;
  }
  mergeSpans();
  const now = extent();
  if (!now) return;
  const grew = !all || now.end > all.end;
  const latest = now.end - 1; // the last frame is on screen until the end of the last fragment
  if (state.playback.active) {
    if (grew) followView(all, now); // the live video moves the cursor itself
  } else if (grew || state.cursor !== latest) {
    followView(all, now);
    showStill(latest);
  }
}

// Looking at the whole stream: keep doing so as it grows; zoomed in: slide along with the newest video.
function followView(before, now) {
  const width = state.view.end - state.view.start;
  if (!before || state.view.start <= before.start) fitView();
  else setView(now.end + width * 0.05 - width, now.end + width * 0.05);
}

// Following live plays LIVE video and keeps the timeline growing; without video playback, the newest still.
function follow(on) {
  clearInterval(state.pollTimer);
  state.pollTimer = null;
  if (on) {
    if (Playback.supported()) startVideo({ stream: state.stream, selector: selector(), mode: "LIVE" });
    poll();
    state.pollTimer = setInterval(poll, POLL_MS);
  } else if (state.playback.mode === "LIVE") {
    stopVideo();
    if (state.cursor !== null) showStill(snap(state.cursor));
  }
}

async function start() {
  wireTimeline();
  wireKeys();
  wireVideo();
  $("stream").addEventListener("change", async (event) => {
    await loadStream(event.target.value);
    if ($("follow").checked) follow(true);
  });
  $("selector").addEventListener("change", () => {
    stopVideo();
    mergeSpans();
    fitView();
    if (state.spans.length) showStill(state.spans[0].start);
  });
  $("interval").addEventListener("change", () => scheduleFilmstrip());
  $("follow").addEventListener("change", (event) => follow(event.target.checked));
  let names = [];
  try {
    names = await listStreams();
  } catch (error) {
    status(error.message);
  }
  const select = $("stream");
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  if (!names.length) {
    status("no streams yet: add video with `stillframe put-media --create-stream`");
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get("stream");
  select.value = names.includes(wanted) ? wanted : names[0];
  await loadStream(select.value);
}

start();

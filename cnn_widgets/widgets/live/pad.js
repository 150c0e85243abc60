// DigitPad's drawing surface (anywidget module, no build step).
//
// The ink is drawn here, in the browser, on every pointer event (mouse, touch,
// pen; coalesced events for fast strokes), so it stays under the pen whatever the
// distance to the kernel. Stroke points are batched and sent to the kernel at most
// once per animation frame (and no more often than the kernel updates its image,
// the `rate` trait); the kernel rasterises them (Ink / to_mnist) and stays
// the single source of truth: its `strokes` and `base` traits are what a (re)loaded
// page shows, and they replace the local drawing whenever they change.
//
// Messages to the kernel (custom messages):
//   {type: "stroke", id, width, points: [x0, y0, x1, y1, ...], start, end}
//   {type: "undo"}   {type: "clear"}   {type: "brush", value}
// Messages from the kernel: what changed, not everything:
//   {type: "committed", stroke}  a stroke this page finished is in the kernel's drawing
//   {type: "removed", id}        a stroke was undone
//   {type: "rejected", id}       a stroke message was refused (the status line says why)
// and the `strokes` / `base` traits for changes made elsewhere (code, a loaded image).
//
// Where the browser computes the model (the `network` trait names the shared
// BrowserNetwork), the pad keeps its own raster of the ink (Ink's arithmetic),
// makes the network's image from it once per animation frame (to_mnist) and has
// the network compute every layer: the live views repaint with no kernel message.
// The strokes are kept in localStorage (keyed by the page): a reloaded page gives
// them to its new kernel.

const MAX_POINTS = 2048; // points per message; the rest go in the next frames

function cssSize(model) {
  return Math.max(1, Number(model.get("size")) || 280);
}

function render({ model, el, host }) {
  const root = document.createElement("div");
  root.className = "cnnw-pad-js";
  const canvas = document.createElement("canvas");
  canvas.className = "cnnw-pad-canvas";
  const ctx = canvas.getContext("2d");

  const tools = document.createElement("div");
  tools.className = "cnnw-pad-tools";
  const brushLabel = document.createElement("label");
  brushLabel.className = "cnnw-pad-brush";
  brushLabel.textContent = "brush ";
  const brushInput = document.createElement("input");
  brushInput.type = "range";
  brushInput.min = String(model.get("brush_min"));
  brushInput.max = String(model.get("brush_max"));
  brushInput.step = "1";
  const brushValue = document.createElement("span");
  brushValue.className = "cnnw-pad-brush-value";
  brushLabel.append(brushInput, brushValue);
  const undoButton = document.createElement("button");
  undoButton.className = "cnnw-undo";
  undoButton.textContent = "undo";
  const clearButton = document.createElement("button");
  clearButton.className = "cnnw-clear";
  clearButton.textContent = "clear";
  for (const button of [undoButton, clearButton]) {
    button.type = "button";
    button.classList.add("jupyter-button", "widget-button");
  }
  tools.append(brushLabel, undoButton, clearButton);
  root.append(canvas, tools);
  el.append(root);

  // ------------------------------------------------------------------ state
  const prefix = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  let committed = []; // the kernel's strokes: [{id, width, points}]
  let pending = []; // finished here, not yet in the kernel's strokes
  let live = null; // the stroke under the pen: {id, width, points, sent, started, ended}
  let pointerId = null;
  let rect = null;
  let baseBitmap = null;
  let baseSource = null;
  let frame = 0;
  let brush = Number(model.get("brush"));
  let sent = 0;

  // ------------------------------------------------------------------ the network's image, in the browser
  const image = padImage(model, canvas, () => ({ committed, pending, live }));

  function store() {
    saveStrokes(committed.concat(pending));
  }

  function restore() {
    // a reloaded page: its new kernel has no drawing; the browser still has the strokes
    if (committed.length || pending.length || live || (model.get("base") || {}).byteLength || image.state.exact) return;
    const stored = loadStrokes();
    if (!stored.length) return;
    for (const s of stored) {
      pending.push({ id: s.id, width: Number(s.width) || brush, points: s.points.slice(), sent: 0,
                     started: false, finished: true, ended: false });
    }
    paint();
    image.rebuild();
    send();
  }

  function setupCanvas() {
    const size = cssSize(model);
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = canvas.style.height = `${size}px`;
    canvas.width = canvas.height = Math.round(size * ratio);
    ctx.setTransform(canvas.width / size, 0, 0, canvas.height / size, 0, 0);
    root.style.width = tools.style.width = `${size}px`;
  }

  function dot(x, y, width) {
    ctx.beginPath();
    ctx.arc(x, y, width / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  function segment(x0, y0, x1, y1, width) {
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  }

  function drawStroke(stroke) {
    const p = stroke.points;
    if (p.length < 2) return;
    dot(p[0], p[1], stroke.width);
    if (p.length >= 4) {
      ctx.lineWidth = stroke.width;
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      for (let i = 2; i < p.length; i += 2) ctx.lineTo(p[i], p[i + 1]);
      ctx.stroke();
    }
  }

  function paint() {
    const size = cssSize(model);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, size, size);
    if (baseBitmap) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(baseBitmap, 0, 0, size, size);
    }
    ctx.fillStyle = ctx.strokeStyle = "#fff";
    ctx.lineCap = ctx.lineJoin = "round";
    for (const stroke of committed) drawStroke(stroke);
    for (const stroke of pending) drawStroke(stroke);
    if (live) drawStroke(live);
  }

  function loadBase() {
    const data = model.get("base");
    if (data === baseSource) return;
    baseSource = data;
    const bytes = data && data.byteLength ? data : null;
    if (!bytes) {
      baseBitmap = null;
      image.state.baseRaster = null;
      paint();
      image.rebuild();
      return;
    }
    image.loadBaseInk();
    image.rebuild();
    const blob = new Blob([bytes], { type: "image/png" });
    createImageBitmap(blob).then((bitmap) => {
      if (baseSource === data) {
        baseBitmap = bitmap;
        paint();
      }
    }, () => { baseBitmap = null; paint(); });
  }

  function adopt() {
    const incoming = model.get("strokes") || [];
    if (incoming.length === committed.length && incoming.every((s, k) => s.id === committed[k].id)) {
      image.state.exact = Boolean(model.get("exact")); // this page's own copy (keepLocal), or nothing new
      return;
    }
    committed = (model.get("strokes") || []).map((s) => ({ id: s.id, width: s.width, points: s.points }));
    const known = new Set(committed.map((s) => s.id));
    pending = pending.filter((s) => !known.has(s.id));
    if (live && known.has(live.id)) live = null;
    image.state.exact = Boolean(model.get("exact"));
    paint();
    image.rebuild();
    store();
  }

  // Keep this page's copy of the model's strokes current (other views of the pad, and
  // views made later, read it) without sending anything to the kernel.
  function keepLocal() {
    model.set("strokes", committed.map((s) => ({ id: s.id, width: s.width, points: s.points })));
  }

  function showBrush() {
    brushInput.value = String(brush);
    brushValue.textContent = String(brush);
  }

  // ------------------------------------------------------------------ sending
  // At most one message per animation frame, and no more often than the kernel
  // updates its image (`rate` a second: every message also costs the page two kernel
  // status messages). The first points after a pause leave at once.
  let frameUsed = false;
  let lastSent = -Infinity;
  const gap = () => 1000 / Math.max(1, Number(model.get("rate")) || 30) - 2;

  function schedule() {
    if (!frame) frame = requestAnimationFrame(tick);
  }

  function trySend() {
    if (frameUsed || performance.now() - lastSent < gap()) return false;
    if (!flush()) return false;
    frameUsed = true;
    lastSent = performance.now();
    return true;
  }

  function tick() {
    frame = 0;
    frameUsed = false;
    trySend();
    if (frameUsed || hasUnsent()) schedule(); // the next frame: reset, or send the rest
  }

  function send() {
    trySend();
    schedule(); // the next frame frees the frame's message, or sends what waits
  }

  function hasUnsent() {
    return pending.some((s) => !s.ended) || Boolean(live && (live.sent < live.points.length || !live.started));
  }

  function flush() {
    // the oldest stroke with points still to send: finished ones first, in order
    const stroke = pending.find((s) => !s.ended) || (live && !live.ended ? live : null);
    if (!stroke) return false;
    const from = stroke.sent;
    const to = Math.min(stroke.points.length, from + 2 * MAX_POINTS);
    const done = stroke.finished && to === stroke.points.length;
    if (to === from && !done && stroke.started) return false;
    model.send({
      type: "stroke", id: stroke.id, width: stroke.width,
      points: stroke.points.slice(from, to), start: !stroke.started, end: done,
    });
    sent += 1;
    canvas.dataset.sent = String(sent);
    stroke.sent = to;
    stroke.started = true;
    if (done) stroke.ended = true;
    return true;
  }

  // ------------------------------------------------------------------ pointer
  function position(event) {
    const size = cssSize(model);
    return [
      Math.round(((event.clientX - rect.left) * size / rect.width) * 100) / 100,
      Math.round(((event.clientY - rect.top) * size / rect.height) * 100) / 100,
    ];
  }

  function onDown(event) {
    if (pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    pointerId = event.pointerId;
    try { canvas.setPointerCapture(pointerId); } catch (error) { /* synthetic events have no capture */ }
    rect = canvas.getBoundingClientRect();
    const [x, y] = position(event);
    counter += 1;
    live = { id: `${prefix}-${counter}`, width: brush, points: [x, y], sent: 0,
             started: false, finished: false, ended: false };
    image.state.exact = false;
    image.state.liveDrawn = 0;
    ctx.fillStyle = ctx.strokeStyle = "#fff";
    ctx.lineCap = ctx.lineJoin = "round";
    dot(x, y, live.width);
    image.extendLive();
    send();
  }

  function onMove(event) {
    if (event.pointerId !== pointerId || !live) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const p = live.points;
    for (const e of events.length ? events : [event]) {
      const [x, y] = position(e);
      const n = p.length;
      if (x === p[n - 2] && y === p[n - 1]) continue;
      segment(p[n - 2], p[n - 1], x, y, live.width);
      p.push(x, y);
    }
    image.extendLive();
    send();
  }

  function onUp(event) {
    if (event.pointerId !== pointerId) return;
    if (event.type === "pointerup") onMove(event);
    pointerId = null;
    if (live) {
      live.finished = true;
      pending.push(live);
      live = null;
      image.state.liveDrawn = 0;
      store();
      send();
    }
  }

  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("lostpointercapture", onUp);
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());

  // ------------------------------------------------------------------ tools
  undoButton.addEventListener("click", () => {
    if (live) return;
    if (pending.length) pending.pop();
    else committed.pop();
    paint();
    image.rebuild();
    store();
    model.send({ type: "undo" });
  });
  clearButton.addEventListener("click", () => {
    live = null;
    pending = [];
    committed = [];
    baseBitmap = null;
    image.state.baseRaster = null;
    image.state.exact = false;
    paint();
    image.rebuild();
    store();
    model.send({ type: "clear" });
  });
  brushInput.addEventListener("input", () => {
    brush = Number(brushInput.value);
    brushValue.textContent = String(brush);
  });
  brushInput.addEventListener("change", () => {
    brush = Number(brushInput.value);
    model.send({ type: "brush", value: brush });
  });

  const onStrokes = () => adopt();
  // The kernel refused a stroke message (it says why in the pad's status line):
  // drop that stroke here too, so both places show the same ink.
  const onMessage = (message) => {
    if (!message) return;
    if (message.type === "committed" && message.stroke) {
      const stroke = message.stroke;
      const mine = pending.find((s) => s.id === stroke.id);
      pending = pending.filter((s) => s.id !== stroke.id);
      if (!committed.some((s) => s.id === stroke.id)) {
        committed.push({ id: stroke.id, width: stroke.width, points: stroke.points });
        paint(); // the kernel's points, drawn as any committed stroke is (the same pixels on every view)
        if (!mine) image.rebuild(); // drawn in another view of this pad
      }
      keepLocal();
      store();
      return;
    }
    if (message.type === "removed") {
      const before = committed.length + pending.length;
      committed = committed.filter((s) => s.id !== message.id);
      pending = pending.filter((s) => s.id !== message.id);
      if (committed.length + pending.length !== before) { paint(); image.rebuild(); store(); }
      keepLocal();
      return;
    }
    if (message.type !== "rejected") return;
    pending = pending.filter((s) => s.id !== message.id);
    if (live && live.id === message.id) live = null; // the rest of this stroke is not drawn
    paint();
    image.rebuild();
    store();
  };
  model.on("msg:custom", onMessage);
  const onBase = () => loadBase();
  const onBrush = () => { brush = Number(model.get("brush")); showBrush(); };
  const onSize = () => { setupCanvas(); paint(); };
  model.on("change:strokes", onStrokes);
  model.on("change:base", onBase);
  model.on("change:brush", onBrush);
  model.on("change:size", onSize);

  // a served dashboard's page had a plain pad while the kernel started: its strokes are
  // kept where restore() finds them (assets/voila/early_pad.js)
  if (window.cnnwEarlyPad) window.cnnwEarlyPad.handOver();
  setupCanvas();
  showBrush();
  adopt();
  loadBase();
  canvas.dataset.ready = "1";
  const ref = model.get("network");
  if (ref && host) {
    host.getWidget(ref).then(({ exports }) => {
      if (!exports) return;
      image.attach(exports);
      restore();
      canvas.dataset.network = "1";
    }, (error) => console.error("cnn_widgets pad: no browser network", error));
  } else {
    restore();
  }

  return () => {
    if (frame) cancelAnimationFrame(frame);
    image.cancel();
    model.off("msg:custom", onMessage);
    model.off("change:strokes", onStrokes);
    model.off("change:base", onBase);
    model.off("change:brush", onBrush);
    model.off("change:size", onSize);
  };
}

export default { render };

// The dashboard's pad before the kernel is ready (inlined by index.html.j2, no module).
//
// Voila sends its page at once but shows the widgets only when the kernel has run the
// dashboard (TensorFlow's import and the model: seconds on a small machine). Meanwhile this
// plain canvas takes ink: the same pad size, brush and stroke format as DigitPad, kept in
// the same localStorage entry the pad restores a reloaded page from. When DigitPad renders
// it calls `window.cnnwEarlyPad.handOver()`: a stroke under the pen is finished and kept,
// this pad goes, and DigitPad gives every kept stroke to its kernel. Nothing is computed
// here: the caption says the network is still starting, and no prediction is shown. If no
// DigitPad comes within 20 s of the notebook's end (it failed), the pad says so and stops.
(function () {
  const SIZE = 280; // DigitPad's default side (Drawing's size), pad pixels
  const BRUSH = 20; // DigitPad's default brush, pad pixels
  const key = `cnn_widgets.pad:${window.location.pathname}`; // pad_image.js's storageKey()
  const prefix = `early-${Math.random().toString(36).slice(2, 8)}`;

  const root = document.createElement("div");
  root.className = "cnnw-early-pad";
  root.style.cssText = "margin:12px 16px;font-family:sans-serif;color:var(--jp-content-font-color1,#222)";
  const caption = document.createElement("div");
  caption.className = "cnnw-early-pad-caption";
  caption.style.cssText = "font-size:13px;margin-bottom:6px;max-width:420px";
  caption.textContent = "Draw a digit: the network is starting (its maps and prediction follow in a few "
    + "seconds, with what you drew).";
  const canvas = document.createElement("canvas");
  canvas.className = "cnnw-early-pad-canvas";
  canvas.style.cssText = `width:${SIZE}px;height:${SIZE}px;background:#000;touch-action:none;cursor:crosshair;`
    + "display:block;border:1px solid #888";
  const ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.height = Math.round(SIZE * ratio);
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = "clear";
  clear.className = "cnnw-early-pad-clear";
  clear.style.cssText = "margin-top:6px";
  root.append(caption, canvas, clear);

  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  let strokes = [];
  let live = null;
  let counter = 0;

  function load() {
    try {
      const stored = JSON.parse(window.localStorage.getItem(key) || "null");
      if (Array.isArray(stored)) {
        strokes = stored.filter((s) => s && typeof s.id === "string" && Array.isArray(s.points)
                                     && s.points.length >= 2 && s.points.every((v) => Number.isFinite(v)));
      }
    } catch (error) { strokes = []; }
  }

  function save() {
    try {
      const kept = live ? strokes.concat([live]) : strokes;
      if (kept.length) window.localStorage.setItem(key, JSON.stringify(kept));
      else window.localStorage.removeItem(key);
    } catch (error) { /* no storage: what is drawn here stays here */ }
  }

  function draw(stroke, from) {
    const p = stroke.points;
    ctx.fillStyle = ctx.strokeStyle = "#fff";
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = stroke.width;
    if (!from) {
      ctx.beginPath();
      ctx.arc(p[0], p[1], stroke.width / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    for (let k = Math.max(2, from || 0); k + 1 < p.length; k += 2) {
      ctx.beginPath();
      ctx.moveTo(p[k - 2], p[k - 1]);
      ctx.lineTo(p[k], p[k + 1]);
      ctx.stroke();
    }
  }

  function position(event) {
    const rect = canvas.getBoundingClientRect();
    return [Math.round(((event.clientX - rect.left) * SIZE / rect.width) * 100) / 100,
            Math.round(((event.clientY - rect.top) * SIZE / rect.height) * 100) / 100];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (live || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* synthetic event */ }
    counter += 1;
    live = { id: `${prefix}-${counter}`, width: BRUSH, points: position(event), pointer: event.pointerId };
    draw(live, 0);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!live || event.pointerId !== live.pointer) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const n = live.points.length;
      const [x, y] = position(e);
      if (x === live.points[n - 2] && y === live.points[n - 1]) continue;
      live.points.push(x, y);
      draw(live, n);
    }
  });
  function finish() {
    if (!live) return;
    strokes.push({ id: live.id, width: live.width, points: live.points });
    live = null;
    save();
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => {
    strokes = [];
    live = null;
    ctx.clearRect(0, 0, SIZE, SIZE);
    save();
  });

  load();
  strokes.forEach((s) => draw(s, 0));
  document.body.insertBefore(root, document.getElementById("loading"));
  canvas.dataset.ready = "1";

  // The notebook ran to its end (Voila's voila_finish): DigitPad renders in the next seconds.
  // If it never does (the notebook failed), this pad says so instead of taking ink in vain.
  const GIVE_UP_MS = 20000;
  const finished = window.voila_finish;
  window.voila_finish = function (...args) {
    setTimeout(() => {
      if (!window.cnnwEarlyPad) return;
      caption.textContent = "The dashboard did not start (see the message on this page). What you drew "
        + "is kept in this browser: reload to try again.";
      caption.style.color = "#b00020";
      canvas.style.opacity = "0.4";
      canvas.style.pointerEvents = "none";
      clear.disabled = true;
      root.dataset.gaveUp = "1";
    }, GIVE_UP_MS);
    return typeof finished === "function" ? finished.apply(this, args) : undefined;
  };

  window.cnnwEarlyPad = {
    /** Finish a stroke under the pen, keep every stroke, and leave the page to DigitPad. */
    handOver() {
      finish();
      root.remove();
      delete window.cnnwEarlyPad;
      return strokes.length;
    },
  };
})();

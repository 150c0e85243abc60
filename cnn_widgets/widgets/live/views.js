// The live views, drawn in the browser from the shared front-end model (BrowserNetwork's
// hub): a layer's maps as one mosaic, a dense layer's units, the class probabilities,
// and the image the network gets. Each repaints on every computation of the hub (every
// frame of a stroke) with no kernel message; hover is answered here; a click sets the
// `map_index` and `cell` traits, which reach the kernel (the selection). anywidget
// module, no build step.
//
// The layout equals the kernel's pictures (render/mosaic.py): tiles of the maps at
// native resolution, `columns` a row, a 1-pixel gap in the palette's last colour,
// values to 255 levels of the colour map, over [min(0, low), high] of the layer
// ("layer") or of each map ("map").

const LEVELS = 255;

function element(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.append(node);
  return node;
}

function level(value, low, span) {
  const unit = Math.min(Math.max((value - low) / span, 0), 1);
  return Math.round(unit * (LEVELS - 1));
}

function fmt(value) {
  return Number(value).toFixed(3);
}

// ------------------------------------------------------------------ maps
function mapsView(model, el, hub) {
  const root = element("div", "cnnw-live cnnw-live-maps", el);
  const holder = element("div", "cnnw-live-holder", root);
  const picture = element("canvas", "cnnw-live-picture", holder);
  const overlay = element("canvas", "cnnw-live-overlay", holder);
  const hover = element("div", "cnnw-live-hover", root);
  hover.innerHTML = "&nbsp;";
  const ctx = picture.getContext("2d");
  const octx = overlay.getContext("2d");
  let layout = null; // {h, w, count, columns, gap, width, height, zoom}
  let values = null;
  let painted = 0;

  function geometry(shape) {
    const [h, w, count] = shape;
    const columns = Math.min(Math.max(1, model.get("columns") || 1), count);
    const gap = 1;
    const rows = Math.ceil(count / columns);
    const width = columns * (w + gap) - gap, height = rows * (h + gap) - gap;
    const zoom = Math.max(1, Number(model.get("zoom")) || 1);
    return { h, w, count, columns, gap, width, height, zoom };
  }

  function paint(result) {
    const layer = model.get("layer");
    if (!result || !result.activations[layer]) return;
    values = result.activations[layer];
    const next = geometry(result.shapes[layer]);
    if (!layout || ["width", "height", "zoom"].some((k) => layout[k] !== next[k])) {
      picture.width = next.width;
      picture.height = next.height;
      overlay.width = next.width * next.zoom;
      overlay.height = next.height * next.zoom;
      for (const c of [picture, overlay]) {
        c.style.width = `${next.width * next.zoom}px`;
        c.style.height = `${next.height * next.zoom}px`;
      }
      holder.style.width = `${next.width * next.zoom}px`;
      holder.style.height = `${next.height * next.zoom}px`;
    }
    layout = next;
    const { h, w, count, columns, gap, width, height } = layout;
    const table = hub.palettes[model.get("colormap")] || hub.palettes.grey;
    const image = ctx.createImageData(width, height);
    const data = image.data;
    for (let i = 0; i < width * height; i++) {
      data[4 * i] = table[3 * 255]; data[4 * i + 1] = table[3 * 255 + 1]; data[4 * i + 2] = table[3 * 255 + 2];
      data[4 * i + 3] = 255;
    }
    const perMap = model.get("normalize") === "map";
    let low = 0, high = -Infinity;
    if (!perMap) for (let i = 0; i < values.length; i++) { const v = values[i]; if (v < low) low = v; if (v > high) high = v; }
    for (let m = 0; m < count; m++) {
      let mlow = low, mhigh = high;
      if (perMap) {
        mlow = 0; mhigh = -Infinity;
        for (let p = 0; p < h * w; p++) { const v = values[p * count + m]; if (v < mlow) mlow = v; if (v > mhigh) mhigh = v; }
      }
      const span = Math.max(mhigh - mlow, 1e-12);
      const x0 = (m % columns) * (w + gap), y0 = Math.floor(m / columns) * (h + gap);
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const k = 3 * level(values[(r * w + c) * count + m], mlow, span);
          const at = 4 * ((y0 + r) * width + x0 + c);
          data[at] = table[k]; data[at + 1] = table[k + 1]; data[at + 2] = table[k + 2];
        }
      }
    }
    ctx.putImageData(image, 0, 0);
    outline();
    painted += 1;
    root.dataset.painted = String(painted);
    if (lastHover) describe(lastHover[0], lastHover[1]);
  }

  function locate(x, y) {
    if (!layout) return null;
    const { h, w, gap, columns, count, zoom } = layout;
    const px = Math.floor(x / zoom), py = Math.floor(y / zoom);
    const col = Math.floor(px / (w + gap)), dx = px % (w + gap);
    const row = Math.floor(py / (h + gap)), dy = py % (h + gap);
    if (px < 0 || py < 0 || dx >= w || dy >= h || col >= columns) return null;
    const index = row * columns + col;
    return index < count ? [index, dy, dx] : null;
  }

  function outline() {
    octx.clearRect(0, 0, overlay.width, overlay.height);
    const index = model.get("map_index");
    if (!layout || index < 0 || index >= layout.count) return;
    const { h, w, gap, columns, zoom } = layout;
    const x = (index % columns) * (w + gap), y = Math.floor(index / columns) * (h + gap);
    octx.strokeStyle = "#ff00ff";
    octx.lineWidth = 2;
    octx.strokeRect(x * zoom - 1, y * zoom - 1, w * zoom + 2, h * zoom + 2);
  }

  let lastHover = null;
  function describe(x, y) {
    const where = locate(x, y);
    if (!where || !values) { hover.innerHTML = "&nbsp;"; return; }
    const [index, row, col] = where;
    hover.textContent = `${model.get("layer")} · map ${index} · cell (${row}, ${col}) · ${fmt(values[(row * layout.w + col) * layout.count + index])}`;
  }
  function point(event) {
    const rect = overlay.getBoundingClientRect();
    return [(event.clientX - rect.left) * overlay.width / rect.width, (event.clientY - rect.top) * overlay.height / rect.height];
  }
  overlay.addEventListener("pointermove", (event) => { lastHover = point(event); describe(...lastHover); });
  overlay.addEventListener("pointerleave", () => { lastHover = null; hover.innerHTML = "&nbsp;"; });
  overlay.addEventListener("pointerdown", (event) => {
    const where = locate(...point(event));
    if (!where) return;
    model.set("map_index", where[0]);
    model.set("cell", [where[1], where[2]]);
    model.save_changes();
    outline();
  });
  const repaint = () => paint(hub.latest);
  model.on("change:layer", repaint);
  model.on("change:colormap", repaint);
  model.on("change:normalize", repaint);
  model.on("change:columns", repaint);
  model.on("change:zoom", repaint);
  model.on("change:map_index", outline);
  return hub.subscribe(paint);
}

// ------------------------------------------------------------------ dense units
function denseView(model, el, hub) {
  const root = element("div", "cnnw-live cnnw-live-dense", el);
  const picture = element("canvas", "cnnw-live-picture", root);
  const hover = element("div", "cnnw-live-hover", root);
  hover.innerHTML = "&nbsp;";
  const ctx = picture.getContext("2d");
  let values = null, painted = 0, zoom = 1, columns = 1;
  function paint(result) {
    const layer = model.get("layer");
    if (!result || !result.activations[layer]) return;
    values = result.activations[layer];
    columns = Math.max(1, model.get("columns") || 1);
    zoom = Math.max(1, Number(model.get("zoom")) || 1);
    const rows = Math.ceil(values.length / columns);
    if (picture.width !== columns || picture.height !== rows) {
      picture.width = columns;
      picture.height = rows;
    }
    picture.style.width = `${columns * zoom}px`;
    picture.style.height = `${rows * zoom}px`;
    const table = hub.palettes[model.get("colormap")] || hub.palettes.jet;
    let low = 0, high = -Infinity;
    for (const v of values) { if (v < low) low = v; if (v > high) high = v; }
    const span = Math.max(high - low, 1e-12);
    const image = ctx.createImageData(columns, rows);
    for (let i = 0; i < columns * rows; i++) {
      const k = 3 * (i < values.length ? level(values[i], low, span) : 255);
      image.data.set([table[k], table[k + 1], table[k + 2], 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
    painted += 1;
    root.dataset.painted = String(painted);
  }
  picture.addEventListener("pointermove", (event) => {
    const rect = picture.getBoundingClientRect();
    const x = Math.floor((event.clientX - rect.left) / zoom), y = Math.floor((event.clientY - rect.top) / zoom);
    const index = y * columns + x;
    if (!values || x < 0 || x >= columns || index < 0 || index >= values.length) { hover.innerHTML = "&nbsp;"; return; }
    hover.textContent = `${model.get("layer")} · unit ${index} · ${fmt(values[index])}`;
  });
  picture.addEventListener("pointerleave", () => { hover.innerHTML = "&nbsp;"; });
  const repaint = () => paint(hub.latest);
  model.on("change:layer", repaint);
  model.on("change:colormap", repaint);
  model.on("change:columns", repaint);
  return hub.subscribe(paint);
}

// ------------------------------------------------------------------ probabilities
function barsView(model, el, hub) {
  const root = element("div", "cnnw-live cnnw-live-bars", el);
  const label = element("div", "cnnw-live-prediction", root);
  const chart = element("div", "cnnw-live-chart", root);
  const tip = element("div", "cnnw-live-hover", root);
  tip.innerHTML = "&nbsp;";
  let bars = [], names = [], painted = 0, shown = null;
  function build() {
    names = hub.classNames || [];
    chart.replaceChildren();
    bars = names.map((name, k) => {
      const column = element("div", "cnnw-live-bar-column", chart);
      const bar = element("div", "cnnw-live-bar", column);
      const text = element("div", "cnnw-live-bar-label", column);
      text.textContent = name;
      column.title = name;
      column.addEventListener("pointerenter", () => {
        tip.textContent = shown ? `class ${name} · probability ${fmt(shown[k])}` : `class ${name}`;
      });
      column.addEventListener("pointerleave", () => { tip.innerHTML = "&nbsp;"; });
      return bar;
    });
  }
  function paint(result) {
    if (!result) return;
    if (names !== hub.classNames) build();
    if (result.blank) {
      shown = null;
      label.textContent = result.origin === "pad" ? "draw a digit: a blank pad predicts nothing"
        : "no image in front of the network yet: nothing predicted";
      label.classList.add("cnnw-live-blank");
      for (const bar of bars) { bar.style.height = "0%"; bar.classList.remove("cnnw-live-best"); }
    } else {
      const p = result.probabilities;
      shown = p;
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
      label.classList.remove("cnnw-live-blank");
      label.replaceChildren("prediction: ", Object.assign(document.createElement("b"), {
        className: "cnnw-live-predicted-class", textContent: names[best] }), ` (${(100 * p[best]).toFixed(1)} %)`);
      bars.forEach((bar, k) => {
        bar.style.height = `${(100 * p[k]).toFixed(2)}%`;
        bar.classList.toggle("cnnw-live-best", k === best);
      });
    }
    painted += 1;
    root.dataset.painted = String(painted);
  }
  return hub.subscribe(paint);
}

// ------------------------------------------------------------------ the image the network gets
function imageView(model, el, hub) {
  const root = element("div", "cnnw-live cnnw-live-image", el);
  const picture = element("canvas", "cnnw-live-picture", root);
  const ctx = picture.getContext("2d");
  let painted = 0;
  function paint(result) {
    if (!result || !hub.inputShape) return;
    const [h, w, c] = hub.inputShape;
    const size = Number(model.get("zoom")) || 4;
    if (picture.width !== w || picture.height !== h) { picture.width = w; picture.height = h; }
    picture.style.width = `${w * size}px`;
    picture.style.height = `${h * size}px`;
    const image = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) {
        const v = result.image[i * c + (c === 3 ? k : 0)];
        image.data[4 * i + k] = Math.round(Math.min(Math.max(v, 0), 1) * 255);
      }
      image.data[4 * i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    painted += 1;
    root.dataset.painted = String(painted);
  }
  return hub.subscribe(paint);
}

const KINDS = { maps: mapsView, dense: denseView, bars: barsView, image: imageView };

export async function renderView({ model, el, host }) {
  const ref = model.get("network");
  if (!ref || !host) return undefined;
  const { exports: hub } = await host.getWidget(ref);
  if (!hub) return undefined;
  const view = KINDS[model.get("kind")];
  if (!view) throw new Error(`unknown live view ${model.get("kind")}`);
  el.classList.add("cnnw-live-on");
  return view(model, el, hub);
}

export default { render: renderView };

// The network in the browser: every layer's activations of one image, and the
// image itself made from the pad's strokes the way the kernel makes it.
//
// Plain JavaScript loops, no dependency and no build step, on purpose:
// - TensorFlow.js's model loader does not read Keras 3 configs, and would add
//   ~1 MB of library for a model whose whole forward pass is < 3 M multiply-adds;
// - onnxruntime-web ships a 13–26 MB wasm that an anywidget cannot carry as a file;
// - plain loops compute the embedded MNIST CNN in a few ms, equal Keras to 1e-4 on
//   every layer (tests/browser/test_network_parity.py) and run in a page opened
//   from disk with no server (cnn-widgets export).
//
// The model comes as a portable spec (cnn_widgets/model/portable.py): a JSON header
// (layers, configs, output shapes, where each weight lies) and one float32 buffer.
// The preprocessing mirrors cnn_widgets/drawing: Ink's round-brush raster (float32
// arithmetic, as NumPy does it), then to_mnist: crop to the ink, Pillow's bilinear
// resize (its anti-aliasing filter widened when shrinking), centre of mass at (14, 14).

const f = Math.fround;

// ------------------------------------------------------------------ the model
export function loadNetwork(header, buffer) {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes); // aligned, owned
  const layers = header.layers.map((layer) => ({
    ...layer,
    arrays: layer.weights.map(([offset, length]) => copy.subarray(offset, offset + length)),
  }));
  return { ...header, layers, values: copy };
}

const ACTIVATE = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  hard_sigmoid: (x) => Math.min(Math.max(x + 3, 0), 6) / 6,
  tanh: Math.tanh,
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  selu: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x)),
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  softsign: (x) => x / (1 + Math.abs(x)),
  silu: (x) => x / (1 + Math.exp(-x)),
  leaky_relu: (x) => (x > 0 ? x : 0.2 * x),
  exponential: Math.exp,
};

function activate(values, name, channels) {
  if (name === "linear") return values;
  if (name === "softmax") {
    for (let start = 0; start < values.length; start += channels) {
      let top = -Infinity;
      for (let i = 0; i < channels; i++) top = Math.max(top, values[start + i]);
      let sum = 0;
      const e = new Float64Array(channels);
      for (let i = 0; i < channels; i++) { e[i] = Math.exp(values[start + i] - top); sum += e[i]; }
      for (let i = 0; i < channels; i++) values[start + i] = e[i] / sum;
    }
    return values;
  }
  const fn = ACTIVATE[name];
  if (!fn) throw new Error(`unknown activation ${name}`);
  for (let i = 0; i < values.length; i++) values[i] = fn(values[i]);
  return values;
}

function window1d(size, k, stride, padding) {
  // output length and padding before, as TensorFlow computes them
  if (padding === "same") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return [out, Math.floor(total / 2)];
  }
  return [Math.floor((size - k) / stride) + 1, 0];
}

function transposed(layer, size, cout) {
  // the kernel as (out, kh·kw·in): each output's weights one contiguous row
  if (!layer.rows) {
    const k = layer.arrays[0];
    const rows = new Float32Array(k.length);
    for (let i = 0; i < size; i++) for (let o = 0; o < cout; o++) rows[o * size + i] = k[i * cout + o];
    layer.rows = rows;
  }
  return layer.rows;
}

function conv(x, [h, w, cin], layer) {
  const { kernel: [kh, kw], strides: [sy, sx], dilation: [dy, dx], padding } = layer.config;
  const [oh, top] = window1d(h, (kh - 1) * dy + 1, sy, padding);
  const [ow, left] = window1d(w, (kw - 1) * dx + 1, sx, padding);
  const size = kh * kw * cin;
  const cout = layer.arrays[0].length / size;
  const rows = transposed(layer, size, cout);
  const bias = layer.config.bias ? layer.arrays[1] : null;
  const out = new Float32Array(oh * ow * cout);
  const patch = new Float64Array(size);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let i = 0;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sy + ky * dy - top;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sx + kx * dx - left;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
            for (let c = 0; c < cin; c++) patch[i++] = 0;
          } else {
            const row = (iy * w + ix) * cin;
            for (let c = 0; c < cin; c++) patch[i++] = x[row + c];
          }
        }
      }
      const at = (oy * ow + ox) * cout;
      for (let o = 0; o < cout; o++) {
        const base = o * size;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
        for (; j + 3 < size; j += 4) {
          s0 += patch[j] * rows[base + j];
          s1 += patch[j + 1] * rows[base + j + 1];
          s2 += patch[j + 2] * rows[base + j + 2];
          s3 += patch[j + 3] * rows[base + j + 3];
        }
        for (; j < size; j++) s0 += patch[j] * rows[base + j];
        out[at + o] = (bias ? bias[o] : 0) + ((s0 + s1) + (s2 + s3));
      }
    }
  }
  return [activate(out, layer.config.activation, cout), [oh, ow, cout]];
}

function pool(x, [h, w, c], layer, max) {
  const { pool: [ph, pw], strides: [sy, sx], padding } = layer.config;
  const [oh, top] = window1d(h, ph, sy, padding);
  const [ow, left] = window1d(w, pw, sx, padding);
  const out = new Float32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const y0 = Math.max(oy * sy - top, 0), y1 = Math.min(oy * sy - top + ph, h);
      const x0 = Math.max(ox * sx - left, 0), x1 = Math.min(ox * sx - left + pw, w);
      const count = (y1 - y0) * (x1 - x0);
      for (let ch = 0; ch < c; ch++) {
        let value = max ? -Infinity : 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = x[(iy * w + ix) * c + ch];
            if (max) { if (v > value) value = v; } else value += v;
          }
        }
        out[(oy * ow + ox) * c + ch] = max ? value : value / count;
      }
    }
  }
  return [out, [oh, ow, c]];
}

function globalPool(x, shape, max) {
  const c = shape[shape.length - 1];
  const n = x.length / c;
  const out = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    let value = max ? -Infinity : 0;
    for (let i = 0; i < n; i++) {
      const v = x[i * c + ch];
      if (max) { if (v > value) value = v; } else value += v;
    }
    out[ch] = max ? value : value / n;
  }
  return [out, [c]];
}

function dense(x, layer) {
  const k = layer.arrays[0];
  const n = x.length;
  const units = k.length / n;
  const acc = new Float64Array(units);
  if (layer.config.bias) for (let o = 0; o < units; o++) acc[o] = layer.arrays[1][o];
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v === 0) continue;
    const base = i * units;
    for (let o = 0; o < units; o++) acc[o] += v * k[base + o];
  }
  return [activate(Float32Array.from(acc), layer.config.activation, units), [units]];
}

function relu(x, { max_value: top, negative_slope: slope, threshold }) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    let r = v >= threshold ? v : slope * (v - threshold);
    if (top !== null && r > top) r = top;
    out[i] = r;
  }
  return out;
}

function scaleShift(x, scale, shift) {
  const c = scale.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * scale[i % c] + shift[i % c];
  return out;
}

// Every layer's activations of one image: pixels in [0, 1], (height, width, channels)
// flattened channels last (a grey image may be height × width). Returns
// {activations: {name: Float32Array}, shapes: {name: [...]}, probabilities: Float64Array}.
export function forward(net, image) {
  const [h, w, c] = net.input_shape;
  if (image.length !== h * w * c) throw new Error(`the network takes ${h}×${w}×${c} values; got ${image.length}`);
  let x = new Float32Array(image.length);
  for (let i = 0; i < x.length; i++) x[i] = (image[i] - net.mean[i % c]) / net.std[i % c];
  let shape = [h, w, c];
  const activations = {}, shapes = {};
  for (const layer of net.layers) {
    const channels = shape[shape.length - 1];
    switch (layer.type) {
      case "conv": [x, shape] = conv(x, shape, layer); break;
      case "maxpool": [x, shape] = pool(x, shape, layer, true); break;
      case "avgpool": [x, shape] = pool(x, shape, layer, false); break;
      case "globalavg": [x, shape] = globalPool(x, shape, false); break;
      case "globalmax": [x, shape] = globalPool(x, shape, true); break;
      case "flatten": x = x.slice(); shape = [x.length]; break;
      case "dense": [x, shape] = dense(x, layer); break;
      case "scale": x = scaleShift(x, layer.arrays[0], layer.arrays[1]); break;
      case "identity": x = x.slice(); break;
      case "relu": x = relu(x, layer.config); break;
      case "activation": x = activate(x.slice(), layer.config.activation, channels); break;
      default: throw new Error(`layer ${layer.name}: unknown type ${layer.type}`);
    }
    activations[layer.name] = x;
    shapes[layer.name] = shape;
  }
  const last = net.layers[net.layers.length - 1].name;
  const out = activations[last];
  let probabilities = Float64Array.from(out);
  if (!net.probabilities) activate(probabilities, "softmax", out.length);
  return { activations, shapes, probabilities };
}

// ------------------------------------------------------------------ the raster (drawing/ink.py)
// One piece of a round-brush stroke into `raster` (Float32Array, height × width), in
// place: coverage 1 inside the brush, fading over one pixel, the maximum kept. The
// same float32 arithmetic as NumPy's in draw_segment / draw_polyline.
export function drawSegment(raster, height, width, x0, y0, x1, y1, brush) {
  const radius = brush / 2;
  const cLo = Math.max(Math.floor(Math.min(x0, x1) - radius - 1), 0);
  const cHi = Math.min(Math.ceil(Math.max(x0, x1) + radius + 1), width);
  const rLo = Math.max(Math.floor(Math.min(y0, y1) - radius - 1), 0);
  const rHi = Math.min(Math.ceil(Math.max(y0, y1) + radius + 1), height);
  if (cLo >= cHi || rLo >= rHi) return;
  const dxd = x1 - x0, dyd = y1 - y0;
  const length2 = dxd * dxd + dyd * dyd;
  const fx0 = f(x0), fy0 = f(y0), dx = f(dxd), dy = f(dyd), fl = f(length2);
  const edge = f(radius + 0.5);
  const still = length2 < 1e-12;
  for (let r = rLo; r < rHi; r++) {
    const py = r + 0.5;
    const ry = f(py - fy0);
    for (let c = cLo; c < cHi; c++) {
      const px = c + 0.5;
      const rx = f(px - fx0);
      let t = 0;
      if (!still) {
        t = f(f(f(rx * dx) + f(ry * dy)) / fl);
        t = t < 0 ? 0 : t > 1 ? 1 : t;
      }
      const ex = f(px - f(fx0 + f(t * dx)));
      const ey = f(py - f(fy0 + f(t * dy)));
      let coverage = f(edge - f(Math.hypot(ex, ey)));
      if (coverage <= 0) continue;
      if (coverage > 1) coverage = 1;
      const at = r * width + c;
      if (coverage > raster[at]) raster[at] = coverage;
    }
  }
}

// A stroke {width, points: [x0, y0, x1, y1, ...]} into the raster: a dot at its start,
// then each segment (what Ink.begin and Ink.extend_many draw). `from` (a point index)
// draws only the segments after it: the points added since the last call.
export function drawStroke(raster, height, width, stroke, from = 0) {
  const p = stroke.points;
  if (p.length < 2) return;
  if (from === 0) drawSegment(raster, height, width, p[0], p[1], p[0], p[1], stroke.width);
  for (let i = Math.max(from, 1) * 2; i + 1 < p.length; i += 2) {
    drawSegment(raster, height, width, p[i - 2], p[i - 1], p[i], p[i + 1], stroke.width);
  }
}

// ------------------------------------------------------------------ to_mnist (drawing/preprocess.py)
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

// Pillow's precompute_coeffs for its bilinear filter (support 1, widened when shrinking).
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const u = Math.abs((x + xmin - center + 0.5) * ss);
      const weight = u < 1 ? 1 - u : 0;
      kk[xx * ksize + x] = weight;
      ww += weight;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) kk[xx * ksize + x] /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

// Pillow's Image.resize(size, BILINEAR) of a mode "F" image (float32, rows × cols).
export function resizeBilinear(src, rows, cols, outRows, outCols) {
  const horizontal = coefficients(cols, outCols);
  const vertical = coefficients(rows, outRows);
  let image = src, width = cols;
  let first = 0;
  let used = rows;
  if (outCols !== cols) {
    first = vertical.bounds[0];
    const last = vertical.bounds[outRows * 2 - 2] + vertical.bounds[outRows * 2 - 1];
    used = last - first;
    const temp = new Float32Array(used * outCols);
    for (let y = 0; y < used; y++) {
      for (let xx = 0; xx < outCols; xx++) {
        const xmin = horizontal.bounds[xx * 2], xmax = horizontal.bounds[xx * 2 + 1];
        let ss = 0;
        for (let x = 0; x < xmax; x++) ss += image[(y + first) * cols + x + xmin] * horizontal.kk[xx * horizontal.ksize + x];
        temp[y * outCols + xx] = ss;
      }
    }
    image = temp;
    width = outCols;
  } else {
    first = 0;
  }
  if (outRows === rows && outCols === cols) return Float32Array.from(image);
  if (outRows === rows && first === 0 && used === rows) return image;
  const out = new Float32Array(outRows * width);
  for (let yy = 0; yy < outRows; yy++) {
    const ymin = vertical.bounds[yy * 2] - (outCols !== cols ? first : 0), ymax = vertical.bounds[yy * 2 + 1];
    for (let x = 0; x < width; x++) {
      let ss = 0;
      for (let y = 0; y < ymax; y++) ss += image[(y + ymin) * width + x] * vertical.kk[yy * vertical.ksize + y];
      out[yy * width + x] = ss;
    }
  }
  return out;
}

export const FIELD = 28, BOX = 20, CENTRE = 14.0;

// A drawing (Float32Array, rows × cols, ink ≥ 0) → the 28×28 MNIST-style image.
export function toMnist(ink, rows, cols) {
  const out = new Float32Array(FIELD * FIELD);
  let peak = 0, r0 = rows, r1 = -1, c0 = cols, c1 = -1;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = ink[r * cols + c];
      if (v !== 0) {
        if (v > peak) peak = v;
        if (r < r0) r0 = r;
        if (r > r1) r1 = r;
        if (c < c0) c0 = c;
        if (c > c1) c1 = c;
      }
    }
  }
  if (peak === 0) return out;
  const height = r1 - r0 + 1, width = c1 - c0 + 1;
  const crop = new Float32Array(height * width);
  const fpeak = f(peak);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) crop[r * width + c] = ink[(r + r0) * cols + c + c0] / fpeak;
  }
  const scale = BOX / Math.max(height, width);
  const sw = Math.max(1, roundHalfEven(width * scale)), sh = Math.max(1, roundHalfEven(height * scale));
  const patch = resizeBilinear(crop, height, width, sh, sw);
  let mass = 0, my = 0, mx = 0;
  for (let r = 0; r < sh; r++) {
    for (let c = 0; c < sw; c++) {
      let v = patch[r * sw + c];
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      patch[r * sw + c] = v;
      mass += v;
      my += v * r;
      mx += v * c;
    }
  }
  mass = f(mass);
  if (mass === 0) return out;
  const top = roundHalfEven(CENTRE - my / mass), left = roundHalfEven(CENTRE - mx / mass);
  for (let r = Math.max(top, 0); r < Math.min(top + sh, FIELD); r++) {
    for (let c = Math.max(left, 0); c < Math.min(left + sw, FIELD); c++) {
      out[r * FIELD + c] = patch[(r - top) * sw + (c - left)];
    }
  }
  return out;
}

// A picture (Float32Array, rows × cols) scaled to size × size by Pillow's NEAREST
// (what Drawing._scaled puts under the strokes).
export function scaleNearest(picture, rows, cols, size) {
  const out = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    const sr = Math.min(Math.floor((r + 0.5) * rows / size), rows - 1);
    for (let c = 0; c < size; c++) {
      out[r * size + c] = picture[sr * cols + Math.min(Math.floor((c + 0.5) * cols / size), cols - 1)];
    }
  }
  return out;
}

// Image resampled to another size by area average (Drawing.image for grey inputs that are not 28×28: BOX).
export function resizeBox(src, rows, cols, outRows, outCols) {
  const out = new Float32Array(outRows * outCols);
  for (let r = 0; r < outRows; r++) {
    const y0 = r * rows / outRows, y1 = (r + 1) * rows / outRows;
    for (let c = 0; c < outCols; c++) {
      const x0 = c * cols / outCols, x1 = (c + 1) * cols / outCols;
      let sum = 0, area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += src[y * cols + x] * wy * wx;
          area += wy * wx;
        }
      }
      out[r * outCols + c] = Math.min(Math.max(sum / area, 0), 1);
    }
  }
  return out;
}

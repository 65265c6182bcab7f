// ONNX Runtime (onnxruntime-node, CPU execution provider) worker for bench/peers/peers.py.
//
//   ORT_NODE_MODULE=/path/to/node_modules/onnxruntime-node node bench/peers/ort_worker.js
//
// Reads one JSON request per line on stdin, answers one JSON object per line on stdout, in order:
//   {"op": "info"} -> {"versions": ort.env.versions, "node": process.version}
//   {"op": "bench", "onnx": F, "threads": T, "input_ids": [[..]], "attention_mask": [[..]], "iters": N}
//       -> {"median_ms", "min_ms", "tokens" (real tokens), "tokens_per_s", "iters"}
//       warm-up max(2, N/10) runs (or "warmup": W, when given), then N timed session.run calls (wall
//       clock around each await)
//   {"op": "forward", ... same inputs ..., "out": F.bin} -> writes the float32 output, {"dims": [..]}
//   {"op": "profile", ... same inputs ..., "iters": N, "dir": D}
//       -> ORT's own profiler on a fresh session: per op type, total microseconds over the N runs
//          after one warm-up run, and the number of kernels of each type in the optimized graph
// Sessions: intra-op threads T, inter-op 1, sequential execution, graph optimization level "all";
// cached per (model file, T), so only the first request for a pair pays for loading and optimizing.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');

const sessions = new Map();

function sessionOptions(threads) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

async function session(file, threads) {
  const key = `${file}|${threads}`;
  if (!sessions.has(key)) {
    sessions.set(key, await ort.InferenceSession.create(file, sessionOptions(threads)));
  }
  return sessions.get(key);
}

function feeds(r) {
  const batch = r.input_ids.length;
  const seq = r.input_ids[0].length;
  const ids = new BigInt64Array(batch * seq);
  const mask = new BigInt64Array(batch * seq);
  let tokens = 0;
  for (let b = 0; b < batch; ++b) {
    for (let s = 0; s < seq; ++s) {
      ids[b * seq + s] = BigInt(r.input_ids[b][s]);
      mask[b * seq + s] = BigInt(r.attention_mask[b][s]);
      tokens += r.attention_mask[b][s];
    }
  }
  return {
    tokens,
    inputs: {
      input_ids: new ort.Tensor('int64', ids, [batch, seq]),
      attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
    },
  };
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

async function bench(r) {
  const s = await session(r.onnx, r.threads);
  const { tokens, inputs } = feeds(r);
  const iters = r.iters;
  const warmup = r.warmup !== undefined ? r.warmup : Math.max(2, Math.floor(iters / 10));
  for (let i = 0; i < warmup; ++i) await s.run(inputs);
  const ms = [];
  for (let i = 0; i < iters; ++i) {
    const start = process.hrtime.bigint();
    await s.run(inputs);
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const med = median(ms);
  return { median_ms: med, min_ms: Math.min(...ms), tokens, tokens_per_s: tokens / (med / 1000), iters };
}

async function forward(r) {
  const s = await session(r.onnx, r.threads);
  const out = await s.run(feeds(r).inputs);
  const y = out[s.outputNames[0]];
  fs.writeFileSync(r.out, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  return { dims: y.dims };
}

async function profile(r) {
  fs.mkdirSync(r.dir, { recursive: true });
  const prefix = path.join(r.dir, 'ort_profile');
  const options = { ...sessionOptions(r.threads), enableProfiling: true, profileFilePrefix: prefix };
  const s = await ort.InferenceSession.create(r.onnx, options);
  const { inputs } = feeds(r);
  await s.run(inputs);  // warm-up, excluded below
  for (let i = 0; i < r.iters; ++i) await s.run(inputs);
  await s.endProfiling();
  await s.release();
  const files = fs.readdirSync(r.dir).filter((f) => f.startsWith('ort_profile') && f.endsWith('.json'));
  files.sort((a, b) => fs.statSync(path.join(r.dir, b)).mtimeMs - fs.statSync(path.join(r.dir, a)).mtimeMs);
  const events = JSON.parse(fs.readFileSync(path.join(r.dir, files[0]), 'utf8'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const timedRuns = runs.slice(1);
  const firstTimed = timedRuns.length ? timedRuns[0].ts : 0;
  const byOp = {};
  const kernels = {};
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args || !e.args.op_name) continue;
    const op = e.args.op_name;
    if (e.ts >= firstTimed) byOp[op] = (byOp[op] || 0) + e.dur;
    if (runs.length && e.ts >= runs[0].ts && e.ts < runs[0].ts + runs[0].dur) kernels[op] = (kernels[op] || 0) + 1;
  }
  return {
    runs: timedRuns.length,
    run_us: timedRuns.map((e) => e.dur),
    op_us: byOp,
    kernels,
    file: path.join(r.dir, files[0]),
  };
}

async function handle(r) {
  switch (r.op) {
    case 'info': return { versions: ort.env.versions, node: process.version };
    case 'bench': return bench(r);
    case 'forward': return forward(r);
    case 'profile': return profile(r);
    default: throw new Error(`unknown op ${r.op}`);
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer;
    try {
      answer = await handle(JSON.parse(line));
    } catch (e) {
      answer = { error: String(e && e.stack ? e.stack : e) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
  for (const s of sessions.values()) await s.release();
}

main();

// The closest peer of `vecformer serve` on this machine: ONNX Runtime (onnxruntime-node, CPU) behind Node's
// http module, answering TEI's POST /embed with mean-pooled, normalized embeddings, for bench/serve/bench_serve.py.
//
//   ORT_NODE_MODULE=.../onnxruntime-node TOKENIZERS_MODULE=.../tokenizers \
//   node bench/serve/ort_server.js --onnx encoder.onnx --tokenizer tokenizer.json --threads 2 \
//       --mode batched|per-request [--max-batch-tokens 16384] [--port 0]
//
// Prints "listening PORT" on stdout when ready. Inputs are tokenized with Hugging Face's tokenizers (the
// Rust library's Node binding), as text-embeddings-inference does. Two ways to run the model:
//   per-request: one session.run per request on its inputs padded to its longest (what transformers.js or a
//                plain ONNX Runtime handler does);
//   batched:     every input goes into one queue; whenever the session is idle, a batch is taken from the
//                queue's front up to --max-batch-tokens *padded* tokens (count × longest: the tensor ONNX
//                Runtime computes on) and run at once — vecformer's batcher without packing, as TEI's ONNX
//                backend batches.
// Session: intra-op threads --threads, inter-op 1, sequential, graph optimization "all" (as the peers script).
'use strict';

const http = require('http');
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');
const { Tokenizer } = require(process.env.TOKENIZERS_MODULE || 'tokenizers');

function parseArgs(argv) {
  const args = { port: 0, threads: 2, mode: 'batched', maxBatchTokens: 16384 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === '--onnx') args.onnx = value;
    else if (key === '--tokenizer') args.tokenizer = value;
    else if (key === '--threads') args.threads = Number(value);
    else if (key === '--port') args.port = Number(value);
    else if (key === '--mode') args.mode = value;
    else if (key === '--max-batch-tokens') args.maxBatchTokens = Number(value);
    else throw new Error(`unknown option ${key}`);
  }
  if (!args.onnx || !args.tokenizer || !['batched', 'per-request'].includes(args.mode)) {
    throw new Error('usage: ort_server.js --onnx F --tokenizer F [--threads T] [--mode batched|per-request]');
  }
  return args;
}

// Mean over each sequence's real tokens, then L2-normalized (TEI's /embed default normalize=true).
function poolRows(hidden, dims, lengths) {
  const [batch, seq, width] = dims;
  const out = [];
  for (let b = 0; b < batch; ++b) {
    const v = new Float64Array(width);
    for (let t = 0; t < lengths[b]; ++t) {
      const row = (b * seq + t) * width;
      for (let c = 0; c < width; ++c) v[c] += hidden[row + c];
    }
    let norm = 0;
    for (let c = 0; c < width; ++c) {
      v[c] /= lengths[b];
      norm += v[c] * v[c];
    }
    norm = Math.sqrt(norm) || 1;
    out.push(Array.from(v, (x) => x / norm));
  }
  return out;
}

async function runBatch(session, idsList) {
  const batch = idsList.length;
  const seq = Math.max(...idsList.map((ids) => ids.length));
  const ids = new BigInt64Array(batch * seq);
  const mask = new BigInt64Array(batch * seq);
  idsList.forEach((row, b) => row.forEach((id, t) => {
    ids[b * seq + t] = BigInt(id);
    mask[b * seq + t] = 1n;
  }));
  const out = await session.run({
    input_ids: new ort.Tensor('int64', ids, [batch, seq]),
    attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
  });
  const y = out[session.outputNames[0]];
  return poolRows(y.data, y.dims, idsList.map((row) => row.length));
}

class Batcher {
  constructor(session, maxBatchTokens) {
    this.session = session;
    this.maxBatchTokens = maxBatchTokens;
    this.queue = [];  // {ids, resolve, reject}
    this.running = false;
  }

  submit(ids) {
    return new Promise((resolve, reject) => {
      this.queue.push({ ids, resolve, reject });
      this.pump();
    });
  }

  async pump() {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const items = [];
    let longest = 0;
    while (this.queue.length) {
      const next = this.queue[0];
      const padded = (items.length + 1) * Math.max(longest, next.ids.length);
      if (items.length && padded > this.maxBatchTokens) break;
      longest = Math.max(longest, next.ids.length);
      items.push(this.queue.shift());
    }
    try {
      const vectors = await runBatch(this.session, items.map((item) => item.ids));
      items.forEach((item, i) => item.resolve(vectors[i]));
    } catch (e) {
      items.forEach((item) => item.reject(e));
    }
    this.running = false;
    this.pump();
  }
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const tokenizer = Tokenizer.fromFile(args.tokenizer);
  const session = await ort.InferenceSession.create(args.onnx, {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const batcher = new Batcher(session, args.maxBatchTokens);
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return reply(res, 200, {});
    if (req.method !== 'POST' || req.url !== '/embed') return reply(res, 404, { error: 'not found' });
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const inputs = typeof body.inputs === 'string' ? [body.inputs] : body.inputs;
        if (!Array.isArray(inputs) || inputs.length === 0) return reply(res, 400, { error: 'inputs' });
        const encodings = await Promise.all(inputs.map((text) => tokenizer.encode(text)));
        const idsList = encodings.map((e) => e.getIds());
        const vectors = args.mode === 'batched'
          ? await Promise.all(idsList.map((ids) => batcher.submit(ids)))
          : await runBatch(session, idsList);
        reply(res, 200, vectors);
      } catch (e) {
        reply(res, 500, { error: String(e) });
      }
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(args.port, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`ort_server: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

#!/usr/bin/env node
// Writes what Hugging Face's own Rust `tokenizers` (npm `tokenizers` 0.23.2, its Node binding) gives for
// every test tokenizer folder and every test text, so tests/tokenizer/test_tokenizer_reference.py
// compares `vecformer tokenize --json` against it without Node:
//
//   tests/tokenizer/data/reference/<folder>/<run>.jsonl
//
// One line per input line, exactly the line `vecformer tokenize --json` must print:
//   {"ids":[..],"type_ids":[..],"tokens":[..],"offsets":[[s,e],..],"special_tokens_mask":[..]}
// offsets in Unicode code points of the input line, as the Python and Node bindings report them.
// The runs (RUNS below) name the text file, --pairs, --max-length and --no-special-tokens.
//
// Usage (node_modules holding tokenizers@0.23.2: by default tools/node/node_modules, which
// scripts/install-deps.sh fills):
//   /usr/bin/python3 tools/make_test_tokenizers.py --out /tmp/tok
//   node tools/make_tokenizer_reference.mjs --repo . --folders /tmp/tok
//       [--node-modules DIR]  another node_modules holding tokenizers@0.23.2
//       [--out DIR]           write there instead of tests/tokenizer/data/reference (the regeneration test)
//
// Input lines are split on "\n" only (a text line may hold \r, \v, \f, U+0085, U+2028: they are text).
// A run with pairs: a line holding a TAB is text TAB pair (the first TAB splits), others are single.
// Truncation: tok.setTruncation(N, {strategy: 'LongestFirst'}), N counting the special tokens, as
// `vecformer tokenize --max-length N`.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

// Folders and where their tokenizer.json is: the generated folders, and the WordPiece folder committed
// in tests/tokenizer/data. roberta-files has no tokenizer.json: its reference is roberta-json's.
const FOLDERS = [
  'bert-base-uncased-json', 'gpt2-bpe', 'roberta-json', 'xlmr-like', 'e5-like', 'unigram-bytefallback',
  'xlmr-current-converter', 'synthetic-bpe', 'synthetic-wordpiece',
];
const COMMITTED = new Set(['bert-base-uncased-json']);

// name, text file, pairs, max_length (0: none), add_special_tokens
const RUNS = [
  ['hand', 'hand.txt', false, 0, true],
  ['manpages', 'manpages.txt', false, 0, true],
  ['locales', 'locales.txt', false, 0, true],
  ['pairs', 'pairs.txt', true, 0, true],
  ['hand.nospecial', 'hand.txt', false, 0, false],
  ['pairs.nospecial', 'pairs.txt', true, 0, false],
  ['hand.max8', 'hand.txt', false, 8, true],
  ['hand.max32', 'hand.txt', false, 32, true],
  ['pairs.max8', 'pairs.txt', true, 8, true],
  ['pairs.max32', 'pairs.txt', true, 32, true],
];

function parse_args(argv) {
  const args = { repo: null, folders: null, node_modules: null, out: null };
  for (let i = 2; i < argv.length; ++i) {
    const key = argv[i].replace(/^--/, '').replace(/-/g, '_');
    if (!(key in args) || i + 1 >= argv.length) throw new Error(`unknown argument ${argv[i]}`);
    args[key] = argv[++i];
  }
  if (!args.repo || !args.folders) {
    throw new Error('usage: make_tokenizer_reference.mjs --repo DIR --folders DIR [--node-modules DIR] [--out DIR]');
  }
  args.node_modules = args.node_modules ?? path.join(args.repo, 'tools', 'node', 'node_modules');
  args.out = args.out ?? path.join(args.repo, 'tests', 'tokenizer', 'data', 'reference');
  return args;
}

function read_lines(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function line_json(encoding) {
  // Key order fixed: the committed files are compared as text by the regeneration test.
  return JSON.stringify({
    ids: encoding.getIds(),
    type_ids: encoding.getTypeIds(),
    tokens: encoding.getTokens(),
    offsets: encoding.getOffsets(),
    special_tokens_mask: encoding.getSpecialTokensMask(),
  });
}

async function main() {
  const args = parse_args(process.argv);
  const require = createRequire(path.join(path.resolve(args.node_modules), 'resolve.js'));
  const pkg = require('tokenizers/package.json');
  if (pkg.version !== '0.23.2') throw new Error(`tokenizers ${pkg.version}; the reference is 0.23.2`);
  const { Tokenizer } = require('tokenizers');
  const texts = path.join(args.repo, 'tests', 'tokenizer', 'data', 'texts');

  const manifest = {
    comment: 'Written by tools/make_tokenizer_reference.mjs: the sha256 of each tokenizer.json the ' +
             'reference was made from (tests/tokenizer/test_tokenizer_reference.py checks that ' +
             'tools/make_test_tokenizers.py still writes exactly these).',
    tokenizers_version: pkg.version,
    tokenizer_json_sha256: {},
  };
  for (const folder of FOLDERS) {
    const dir = COMMITTED.has(folder) ? path.join(args.repo, 'tests', 'tokenizer', 'data', folder)
                                      : path.join(args.folders, folder);
    const json_path = path.join(dir, 'tokenizer.json');
    manifest.tokenizer_json_sha256[folder] =
        crypto.createHash('sha256').update(fs.readFileSync(json_path)).digest('hex');
    const out_dir = path.join(args.out, folder);
    fs.mkdirSync(out_dir, { recursive: true });
    for (const [name, file, pairs, max_length, add_special_tokens] of RUNS) {
      const tok = Tokenizer.fromFile(json_path);
      if (max_length > 0) tok.setTruncation(max_length, { strategy: 'LongestFirst' });
      const out = [];
      for (const line of read_lines(path.join(texts, file))) {
        const tab = pairs ? line.indexOf('\t') : -1;
        const encoding = tab >= 0
          ? await tok.encode(line.slice(0, tab), line.slice(tab + 1), { addSpecialTokens: add_special_tokens })
          : await tok.encode(line, null, { addSpecialTokens: add_special_tokens });
        out.push(line_json(encoding));
      }
      fs.writeFileSync(path.join(out_dir, `${name}.jsonl`), out.join('\n') + '\n');
    }
    console.log(`${folder}: ${RUNS.length} runs written to ${out_dir}`);
  }
  fs.writeFileSync(path.join(args.out, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
}

main().catch((error) => {
  console.error(`make_tokenizer_reference: ${error.message}`);
  process.exit(1);
});

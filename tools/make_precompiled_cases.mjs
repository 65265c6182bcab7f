#!/usr/bin/env node
// Writes what Hugging Face's Precompiled normalizer (the spm_precompiled crate inside the Rust
// `tokenizers`, through its Node binding) makes of test texts with a SentencePiece charsmap, for
// the C++ tests of src/tokenizer/precompiled.cpp:
//
//   tests/tokenizer/data/precompiled/nmt_nfkc_cases.jsonl    {"text": ..., "normalized": ...}
//
// The charsmap is tests/tokenizer/data/precompiled/nmt_nfkc.bin (tools/make_charsmap.py). Texts:
// hand-picked hard cases (fullwidth forms, ligatures, combining marks, Hangul, emoji with ZWJ and
// skin tones, control characters, spaces), lines of Debian's translated manual pages (ja, ko, ru,
// pl, ... when installed; another machine gives other lines, the committed file is the
// reference) and random strings from the ranges the charsmap touches (seeded).
//
// npm package needed (no dependency of the project), in a scratch folder:
//   mkdir -p /tmp/npmtest && cd /tmp/npmtest && npm init -y
//   npm install --ignore-scripts tokenizers@0.23.2
//   node /path/to/repo/tools/make_precompiled_cases.mjs --repo /path/to/repo

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'index.js'));
const { precompiled } = require('tokenizers');

let repo = null;
for (let i = 2; i < process.argv.length; ++i) {
  if (process.argv[i] === '--repo') repo = process.argv[++i];
}
if (!repo) {
  console.error('usage: make_precompiled_cases.mjs --repo PATH');
  process.exit(2);
}

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

const dir = path.join(repo, 'tests/tokenizer/data/precompiled');
const blob = fs.readFileSync(path.join(dir, 'nmt_nfkc.bin'));
const normalizer = precompiled([...blob]);

const texts = [
  '', 'hello world', 'Hello   World', 'ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３', 'ﬁﬂﬃ ﬀ', '① ⑴ ⒈ ㈱ ㍿', '™ ℡ ℃ ℉',
  'café', 'cafe\u0301', 'e\u0301\u0301\u0301', 'a\u0300\u0316', 'ñ n\u0303', 'Å A\u030a Å',
  '한국어 텍스트', '\u1100\u1161\u11a8', 'ｶﾞｷﾞ ｱｲｳ', 'ガギグ', 'カ\u3099', '日本語のテキスト。',
  '中文，标点！', 'Ελληνικά ΐ ΰ', 'Русский текст Ё й', 'العربية ﻻ ﷺ', 'עברית שָׁלוֹם', 'हिन्दी क्षत्रिय',
  'ภาษาไทย กำ', '👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️', '🇫🇷🇩🇪', 'a\u200db\u200cc\ufeffd', 'tab\there\r\nline\nend',
  '\u0001\u0002\u001f\u007f\u0080\u009f', 'nbsp\u00a0thin\u2009ideo\u3000em\u2003', '\u2028\u2029\u0085',
  '…‥ ‼ ⁇ ¼ ½ ²³ ₁', 'Ⅻ ⅻ ㎏ ㎞', 'ǅ ǈ ǋ Ǳ', 'ſt ß ẞ', 'Ⓐⓑ', '\u0345\u0300', 'x\ud83d\ude00y',
  '\u0e01\u0e33\u0e33', 'A\u0301\u0302\u0303\u0304\u0305\u0306', '\u00e9\u0301', '\ufdfa', '\u3250 \u32ff',
];

// Lines of translated manual pages: varied real text in several scripts.
for (const lang of ['ja', 'ko', 'ru', 'pl', 'de', 'fr', 'cs', 'tr', 'zh_CN', 'uk', 'vi']) {
  const man = `/usr/share/man/${lang}/man1`;
  if (!fs.existsSync(man)) continue;
  const files = fs.readdirSync(man).filter((f) => f.endsWith('.gz')).sort().slice(0, 3);
  for (const f of files) {
    const lines = zlib.gunzipSync(fs.readFileSync(path.join(man, f))).toString('utf8').split('\n')
      .filter((l) => l && !l.startsWith('.') && !l.startsWith("'")).slice(0, 8);
    texts.push(...lines);
  }
}

// Random strings from ranges with many charsmap entries, mixed with combining marks and ASCII.
const ranges = [[0x20, 0x7e], [0xa0, 0x24f], [0x300, 0x36f], [0x1100, 0x11ff], [0x2000, 0x215f],
                [0x2460, 0x24ff], [0x3000, 0x30ff], [0x3200, 0x33ff], [0xac00, 0xac40], [0xf900, 0xfaff],
                [0xfb00, 0xfb4f], [0xfe30, 0xfe4f], [0xff00, 0xffef], [0x1d400, 0x1d4ff], [0x1f100, 0x1f1ff],
                [0x1f3fb, 0x1f3ff], [0x200b, 0x200f], [0x0, 0x1f]];
const r = rng(7);
for (let i = 0; i < 300; ++i) {
  let s = '';
  const n = 1 + Math.floor(r() * 12);
  for (let k = 0; k < n; ++k) {
    const [lo, hi] = ranges[Math.floor(r() * ranges.length)];
    const c = lo + Math.floor(r() * (hi - lo + 1));
    if (c >= 0xd800 && c <= 0xdfff) continue;
    s += String.fromCodePoint(c);
  }
  texts.push(s);
}

const out = texts.map((text) => JSON.stringify({ text, normalized: normalizer.normalizeString(text) }));
fs.writeFileSync(path.join(dir, 'nmt_nfkc_cases.jsonl'), out.join('\n') + '\n');
console.log(`${texts.length} texts`);

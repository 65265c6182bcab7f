#!/usr/bin/env node
// Writes the token ids Hugging Face's own tokenizer (transformers.js, the JavaScript port of
// `tokenizers`) produces for bert-base-uncased, so the C++ tests compare against them without Node:
//
//   tests/tokenizer/data/bert-base-uncased-json/   tokenizer.json + tokenizer_config.json, built
//                                                  here from the shipped vocab.txt as
//                                                  BertTokenizerFast would save them
//   tests/tokenizer/data/expected_ids.jsonl        hand-picked cases, then random strings (seed 1)
//   tests/tokenizer/data/heldout_ids.jsonl         lines of Debian's license texts and copyright
//                                                  files, then random strings (seed 2); generated
//                                                  once and only ever run, never used for tuning
//
// Each output line is {"text": ..., "ids": [...]}, the ids of [CLS] text [SEP].
//
// transformers.js is no dependency of the project: install it in a scratch folder and run this
// script from there (its module is resolved from the working directory). Last run with 4.3.2:
//
//   mkdir -p /tmp/npmwork && cd /tmp/npmwork && npm init -y
//   npm install --ignore-scripts @huggingface/transformers
//   node /path/to/repo/tools/make_tokenizer_expectations.mjs --repo /path/to/repo \
//       [--set expected|heldout|all]
//
// The held-out set reads /usr/share/common-licenses and /usr/share/doc/*/copyright, so another
// machine gives other lines; the committed file is the reference.
//
// The inputs avoid three places where transformers.js differs from Python's BertTokenizer and the
// Rust `tokenizers` (vecformer follows those two; its unit tests cover the cases directly): CJK
// ideographs outside the BMP (transformers.js tests UTF-16 code units, so it never spaces them),
// unassigned code points (Python and Rust drop them as control characters, transformers.js keeps
// them) and characters assigned after Unicode 14 (vecformer's tables come from Python's Unicode 14
// data, Node 20 has Unicode 15 or later).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

function parse_args(argv) {
  const args = { repo: null, set: 'all' };
  for (let i = 2; i < argv.length; ++i) {
    if (argv[i] === '--repo') args.repo = argv[++i];
    else if (argv[i] === '--set') args.set = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.repo) {
    throw new Error('usage: make_tokenizer_expectations.mjs --repo DIR [--set SET]');
  }
  if (!['expected', 'heldout', 'all'].includes(args.set)) {
    throw new Error(`unknown set ${args.set} (expected, heldout or all)`);
  }
  return args;
}

async function load_transformers() {
  const require = createRequire(path.join(process.cwd(), 'package.json'));
  const entry = require.resolve('@huggingface/transformers');
  return import(pathToFileURL(entry.replace(/\.cjs$/, '.mjs')).href);
}

// --- tokenizer.json ------------------------------------------------------------------------------

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

// The same structure `tokenizers` writes for bert-base-uncased (BertTokenizerFast.save_pretrained).
function make_tokenizer_json(vocab_lines) {
  const vocab = {};
  vocab_lines.forEach((token, id) => { vocab[token] = id; });
  const id = (token) => {
    if (!(token in vocab)) throw new Error(`${token} is not in the vocabulary`);
    return vocab[token];
  };
  const special = (token) => ({ id: token, type_id: 0 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((token) => ({
      id: id(token), content: token, single_word: false, lstrip: false, rstrip: false,
      normalized: false, special: true,
    })).sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: special('[CLS]') }, { Sequence: { id: 'A', type_id: 0 } },
               { SpecialToken: special('[SEP]') }],
      pair: [{ SpecialToken: special('[CLS]') }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: special('[SEP]') }, { Sequence: { id: 'B', type_id: 1 } },
             { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map(
          (token) => [token, { id: token, ids: [id(token)], tokens: [token] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
      max_input_chars_per_word: 100, vocab,
    },
  };
}

function read_vocab(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

// --- inputs --------------------------------------------------------------------------------------

// mulberry32: a tiny seeded generator, so the random strings are the same on every run.
function make_random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Code point ranges, every point assigned since Unicode 6 or earlier.
const POOLS = [
  { weight: 30, ranges: [[0x61, 0x7a], [0x41, 0x5a]] },
  { weight: 6, ranges: [[0x30, 0x39]] },
  { weight: 10, ranges: [[0x20, 0x20]] },
  { weight: 6, ranges: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]] },
  { weight: 2, ranges: [[0x09, 0x0a], [0x0d, 0x0d]] },
  { weight: 6, ranges: [[0xc0, 0xff], [0x100, 0x17f], [0x1ea0, 0x1ef9]] },
  { weight: 3, ranges: [[0x300, 0x36f]] },
  { weight: 4, ranges: [[0x391, 0x3a1], [0x3a3, 0x3a9], [0x3b1, 0x3c9], [0x386, 0x386],
                        [0x388, 0x38a], [0x38c, 0x38c], [0x38e, 0x390], [0x3aa, 0x3b0]] },
  { weight: 4, ranges: [[0x400, 0x45f]] },
  { weight: 4, ranges: [[0x4e00, 0x9fa5]] },
  { weight: 3, ranges: [[0x3041, 0x3096], [0x30a1, 0x30fa]] },
  { weight: 2, ranges: [[0xac00, 0xd7a3]] },
  { weight: 2, ranges: [[0x0e01, 0x0e3a], [0x0905, 0x0939], [0x093e, 0x094d]] },
  { weight: 3, ranges: [[0x2010, 0x2027], [0x3001, 0x3003], [0xff01, 0xff0f], [0xa1, 0xbf]] },
  { weight: 2, ranges: [[0xff21, 0xff3a], [0x2160, 0x216f]] },
  { weight: 2, ranges: [[0x1f600, 0x1f64f], [0x1f300, 0x1f320]] },
  { weight: 2, ranges: [[0x00, 0x08], [0x0b, 0x0c], [0x0e, 0x1f], [0x7f, 0x9f], [0x200b, 0x200f],
                        [0xad, 0xad], [0xfeff, 0xfeff], [0xfffd, 0xfffd], [0xe000, 0xe0ff]] },
  { weight: 2, ranges: [[0xa0, 0xa0], [0x2000, 0x200a], [0x3000, 0x3000], [0x2028, 0x2029]] },
];
const PIECES = ['[SEP]', '[CLS]', '[MASK]', '[sep]', 'Σ', 'ΣΑΣ', 'İ', 'the', 'ing', ' ', '...'];

function random_text(random) {
  const total = POOLS.reduce((sum, pool) => sum + pool.weight, 0);
  const length = 1 + Math.floor(random() * 40);
  let text = '';
  for (let i = 0; i < length; ++i) {
    if (random() < 0.04) {
      text += PIECES[Math.floor(random() * PIECES.length)];
      continue;
    }
    let pick = random() * total;
    const pool = POOLS.find((p) => (pick -= p.weight) < 0) ?? POOLS[0];
    const [first, last] = pool.ranges[Math.floor(random() * pool.ranges.length)];
    text += String.fromCodePoint(first + Math.floor(random() * (last - first + 1)));
  }
  return text;
}

function random_texts(seed, count) {
  const random = make_random(seed);
  return Array.from({ length: count }, () => random_text(random));
}

const HAND_PICKED = [
  // plain English
  'the cat sat',
  'The quick brown fox jumps over the lazy dog.',
  'Hello, world!',
  "I can't believe it's not butter.",
  'BERT was introduced in 2018 by researchers at Google.',
  'Transformers process every token of a sentence in parallel, unlike recurrent networks.',
  'unaffable tokenization of unbelievably uncharacteristic words',
  // accents
  'café', 'naïve', 'Ångström', 'résumé', 'Crème brûlée à la française', 'São Paulo',
  'Zürich Straße', 'El Niño', 'Dvořák and Łódź', 'Việt Nam', 'e\u0301', 'cafe\u0301 au lait',
  'a\u0308\u0304', '\u0301alone', '\u00e9'.repeat(60), '\u00e9'.repeat(101),
  'Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307lg\u030c\u0317\u031ao',
  // case
  'HELLO WORLD', 'ThIs Is MiXeD cAsE', 'İstanbul', 'ΟΔΥΣΣΕΥΣ', 'ΣΑΣ ΣΑΣ.', 'Σ', 'aΣ', 'aΣb', 'a.Σ.',
  'ǅemal', 'ＡＢＣ ｆｕｌｌｗｉｄｔｈ', 'Ⅻ chapters', 'ẞ and ß', 'ıi İI',
  // CJK, kana, hangul
  '中文字符', 'hello世界', '我爱自然语言处理。', 'Tokyo 東京 2020', '㐀 and 豈 compatibility',
  'こんにちは', 'カタカナとひらがな', 'ｶﾀｶﾅ', 'ガ', 'がぎぐげご', '안녕하세요', '한국어 텍스트',
  // punctuation
  'wait...what?!', 'e-mail', 'U.S.A.', '(parentheses) [brackets] {braces}',
  '«quotes» „German“ ‘single’', '$100 & 50% off #deal @home ~tilde^caret`backtick',
  'a—b–c', '¿Qué? ¡Sí!', '100°C ± 5', 'a_b', 'x+y=z', '5 × 3 ÷ 2', '©®™', '§1 ¶2 †‡ •',
  "Don't stop—believing!", 'C++ and C# are languages.', 'http://example.com/path?query=1&b=2',
  'user@example.com', '"quoted"', '。、！？「」', '！＂＃',
  // numbers
  '3.14159', '1,000,000', '12345678901234567890', '2024-01-15T10:30:00Z', '①②③', '½ cup',
  '٣٤٥', '१२३',
  // long words
  'a'.repeat(100), 'a'.repeat(101), 'supercalifragilistic'.repeat(6), 'x ' + 'b'.repeat(150) + ' y',
  // control characters and whitespace
  'tab\tseparated\nnew line\r\ncarriage', 'null\u0000byte', 'bell\u0007char', 'soft\u00adhyphen',
  'zero\u200bwidth', 'a\u000bb\u000cc', 'a\u0085b', 'line\u2028sep\u2029para',
  'non\u00a0breaking space', 'ideographic\u3000space', '\ufeffBOM start', 'replacement \ufffd char',
  'em\u2003space', 'private\ue000use', 'a\u001fb', 'del\u007fete',
  // emoji
  'I love 🍕 and 🎉!', '👍🏽', 'family 👨\u200d👩\u200d👧', '🇺🇸', 'smile😀smile',
  // Greek, Cyrillic and other scripts
  'Καλημέρα κόσμε', 'Привет, мир!', 'Ёлка', 'Ελληνικά ΆΈΉ', 'ΐΰ', 'ภาษาไทย', 'नमस्ते',
  'क्\u200dष', 'مرحبا بالعالم', 'שָׁלוֹם', 'ﬁ ligature',
  // zero-width joiner and friends
  'a\u200db', 'a\u200cb', 'a\u2060b',
  // empty and blank
  '', ' ', '   \t\n ', '\u3000', '\u0000',
  // special tokens inside the text
  'hello [SEP] world', '[CLS][MASK]', '[cls] lowercase is not special', '[UNK]', '[unused1]',
  'x[PAD]y', '[SEP', '[[SEP]]',
];

function license_lines() {
  const names = ['Apache-2.0', 'GPL-3', 'MPL-2.0', 'Artistic', 'BSD', 'CC0-1.0', 'LGPL-2.1', 'GFDL-1.3'];
  const files = names.map((name) => path.join('/usr/share/common-licenses', name));
  const lines = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
    // Every 13th non-blank line: spread over each document, not just its header.
    for (let i = 0; i < text.length && lines.length < 160; i += 13) lines.push(text[i]);
  }
  return lines;
}

function copyright_lines() {
  const folders = fs.readdirSync('/usr/share/doc').sort();
  const lines = [];
  for (const folder of folders) {
    const file = path.join('/usr/share/doc', folder, 'copyright');
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      // Lines with non-ASCII text (names, quotes): the interesting part of these files.
      if (/[^\x00-\x7f]/.test(line) && !lines.includes(line)) {
        lines.push(line);
        break;
      }
    }
    if (lines.length >= 40) break;
  }
  return lines;
}

function write_jsonl(file, tokenizer, texts) {
  const out = texts.map((text) => JSON.stringify({ text, ids: tokenizer.encode(text) })).join('\n');
  fs.writeFileSync(file, out + '\n');
  console.log(`${file}: ${texts.length} lines`);
}

async function main() {
  const args = parse_args(process.argv);
  const { AutoTokenizer, env } = await load_transformers();

  const data = path.join(args.repo, 'tests/tokenizer/data');
  const folder = path.join(data, 'bert-base-uncased-json');
  const vocab = read_vocab(path.join(args.repo, 'models/vocab/bert-base-uncased/vocab.txt'));
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify(make_tokenizer_json(vocab)));
  fs.writeFileSync(path.join(folder, 'tokenizer_config.json'), JSON.stringify({
    do_lower_case: true, strip_accents: null, tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer', model_max_length: 512,
  }, null, 2) + '\n');

  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = data + '/';
  const tokenizer = await AutoTokenizer.from_pretrained('bert-base-uncased-json');

  if (args.set !== 'heldout') {
    write_jsonl(path.join(data, 'expected_ids.jsonl'), tokenizer,
                [...HAND_PICKED, ...random_texts(1, 120)]);
  }
  if (args.set !== 'expected') {
    write_jsonl(path.join(data, 'heldout_ids.jsonl'), tokenizer,
                [...license_lines(), ...copyright_lines(), ...random_texts(2, 100)]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

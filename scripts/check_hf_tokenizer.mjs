// check_hf_tokenizer.mjs: cross-checks bitt's tokenizer against Hugging Face
// `tokenizers` (its Rust core through the npm binding), both ways:
//   1. HF loads OUR trained tokenizer.json and encodes the evaluation text:
//      the whole file, every line (lines joined by the special token </s>,
//      so one call each side), and a sample of lines one `bitt tokenize`
//      process each: ids must equal `bitt tokenize --json`;
//   2. HF re-saves our tokenizer in its own schema (save()): `bitt tokenize`
//      with that file gives the same ids;
//   3. HF TRAINS a byte-level BPE on the training text (its BpeTrainer with
//      its defaults: min_frequency 0, 30,000 ids) and saves it; our loader
//      reads it and gives HF's ids; and `bitt tokenizer train` on the same
//      text learns the same merges in the same order and the same tokens.
// Not part of the test suite (the npm package needs the network to
// install); scripts/check_hf_tokenizer.sh installs it and runs this.
//
// usage: node check_hf_tokenizer.mjs --bitt BITT --tokenizer OURS.json
//          [--text EVAL.txt] [--train TRAIN.txt...] [--work DIR] [--sample N]
// env HF_TOKENIZERS_DIR: the folder holding node_modules/tokenizers.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = { text: '/work/shared/data/tinystories/valid-head.txt', train: [], sample: 300 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) throw new Error(`${a} needs a value`);
    return process.argv[++i];
  };
  if (a === '--bitt') args.bitt = next();
  else if (a === '--tokenizer') args.tokenizer = next();
  else if (a === '--text') args.text = next();
  else if (a === '--work') args.work = next();
  else if (a === '--sample') args.sample = Number(next());
  else if (a === '--train') {
    while (i + 1 < process.argv.length && !process.argv[i + 1].startsWith('--')) args.train.push(process.argv[++i]);
  } else throw new Error(`unknown argument ${a}`);
}
if (!args.bitt || !args.tokenizer) {
  console.error('usage: node check_hf_tokenizer.mjs --bitt BITT --tokenizer OURS.json [--text F] [--train F...]');
  process.exit(2);
}
const hfDir = process.env.HF_TOKENIZERS_DIR || '/tmp/hf';
const require = createRequire(path.join(path.resolve(hfDir), 'package.json'));
const hf = require('tokenizers');
const hfVersion = JSON.parse(fs.readFileSync(require.resolve('tokenizers/package.json'), 'utf8')).version;
const work = args.work || fs.mkdtempSync(path.join(os.tmpdir(), 'check_hf_'));
fs.mkdirSync(work, { recursive: true });

let failures = 0;
const report = [];
function fail(msg) {
  failures++;
  if (failures <= 20) console.error('MISMATCH: ' + msg);
}

// `bitt tokenize --json` ids of a file's text.
function bittIds(tokPath, textPath) {
  const out = execFileSync(args.bitt, ['tokenize', '--tokenizer', tokPath, '--input', textPath, '--json'], {
    maxBuffer: 1 << 30,
  });
  return JSON.parse(out.toString('utf8')).ids;
}
async function hfIds(tok, text) {
  const enc = await tok.encode(text, null, { addSpecialTokens: false });
  return enc.getIds();
}
function sameIds(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function firstDiff(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `first difference at id ${i}: bitt ${JSON.stringify(a.slice(i, i + 5))} hf ${JSON.stringify(b.slice(i, i + 5))}`;
}
// Splits ids at the separator id into per-line lists.
function splitAt(ids, sep) {
  const parts = [[]];
  for (const id of ids) {
    if (id === sep) parts.push([]);
    else parts[parts.length - 1].push(id);
  }
  return parts;
}

// Compares bitt and HF ids for a tokenizer file over the evaluation text.
async function compareEncodings(label, tokPath, hfTok, sepToken) {
  const text = fs.readFileSync(args.text, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  let texts = 0;
  let ids = 0;
  // the whole file in one piece
  const ours = bittIds(tokPath, args.text);
  const theirs = await hfIds(hfTok, text);
  texts++;
  ids += ours.length;
  if (!sameIds(ours, theirs)) fail(`${label}: whole file: ${ours.length} vs ${theirs.length} ids; ${firstDiff(ours, theirs)}`);
  // every line, joined by a special token that both sides split on first
  const sepId = hfTok.tokenToId(sepToken);
  if (sepId === null || sepId === undefined) throw new Error(`${label}: ${sepToken} is not a token`);
  const joinedPath = path.join(work, 'lines_joined.txt');
  fs.writeFileSync(joinedPath, lines.join(sepToken));
  const oursLines = splitAt(bittIds(tokPath, joinedPath), sepId);
  const hfEnc = await hfTok.encodeBatch(lines, { addSpecialTokens: false });
  if (oursLines.length !== lines.length) fail(`${label}: ${oursLines.length} line pieces from bitt for ${lines.length} lines`);
  for (let i = 0; i < lines.length && i < oursLines.length; i++) {
    const h = hfEnc[i].getIds();
    texts++;
    ids += h.length;
    if (!sameIds(oursLines[i], h)) fail(`${label}: line ${i + 1}: ${firstDiff(oursLines[i], h)}`);
  }
  // a sample of lines, one bitt process each (no reliance on special tokens)
  const step = Math.max(1, Math.floor(lines.length / Math.max(1, args.sample)));
  const linePath = path.join(work, 'line.txt');
  let sampled = 0;
  for (let i = 0; i < lines.length && sampled < args.sample; i += step, sampled++) {
    fs.writeFileSync(linePath, lines[i]);
    const o = bittIds(tokPath, linePath);
    const h = hfEnc[i].getIds();
    texts++;
    ids += o.length;
    if (!sameIds(o, h)) fail(`${label}: line ${i + 1} alone: ${firstDiff(o, h)}`);
  }
  const line = `${label}: ${texts} texts (whole file, ${lines.length} lines joined by ${sepToken}, ${sampled} lines one process each), ${ids} ids compared`;
  report.push(line);
  console.log(line);
}

// The training text with its lines made safe for comparing trainers: HF's
// trainer reads a file line by line, ours story by story; the GPT-2 split
// treats whitespace before a newline differently in the two cases, so lines
// lose leading and trailing white space, runs of blank lines become one and
// the <|endoftext|> separators go. Both trainers then see the same words.
function normalizedTrainingText() {
  let all = '';
  for (const f of args.train) all += fs.readFileSync(f, 'utf8') + '\n';
  const out = [];
  let blank = false;
  for (let line of all.split('\n')) {
    line = line.replace(/^\s+|\s+$/gu, '');
    if (line === '<|endoftext|>' || line === '') {
      if (!blank && out.length) out.push('');
      blank = true;
      continue;
    }
    blank = false;
    out.push(line);
  }
  return out.join('\n') + '\n';
}

async function main() {
  console.log(`Hugging Face tokenizers ${hfVersion} (npm binding), text ${args.text}`);
  // 1. HF loads our file
  const ours = hf.Tokenizer.fromFile(args.tokenizer);
  await compareEncodings(`HF loads ${path.basename(args.tokenizer)}`, args.tokenizer, ours, '</s>');

  // 2. HF re-saves our file in its own schema; our loader reads that
  const resaved = path.join(work, 'hf_resaved.json');
  ours.save(resaved, true);
  await compareEncodings('bitt loads HF save() of it', resaved, ours, '</s>');

  // 3. HF trains a byte-level BPE; our loader reads it; our trainer agrees
  if (args.train.length) {
    const trainText = path.join(work, 'train_normalized.txt');
    fs.writeFileSync(trainText, normalizedTrainingText());
    const t = new hf.Tokenizer(hf.BPE.empty());
    t.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    // (the npm binding has no ByteLevel decoder to set: the file keeps "decoder": null)
    const t0 = Date.now();
    t.train([trainText]);
    const hfSecs = (Date.now() - t0) / 1000;
    t.addSpecialTokens(['</s>']);
    const hfTrained = path.join(work, 'hf_trained.json');
    t.save(hfTrained, false);
    const hfJson = JSON.parse(fs.readFileSync(hfTrained, 'utf8'));
    const hfMerges = hfJson.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
    await compareEncodings('bitt loads an HF-trained tokenizer.json', hfTrained, t, '</s>');

    // our trainer on the same text: as many ids as can be made (HF's default
    // vocab_size of 30,000 also outlasts the pairs of this text)
    const oursTrained = path.join(work, 'bitt_trained.json');
    const b0 = Date.now();
    execFileSync(args.bitt, ['tokenizer', 'train', '--input', trainText, '--vocab', '40000', '--out', oursTrained, '--quiet'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const bittSecs = (Date.now() - b0) / 1000;
    const oj = JSON.parse(fs.readFileSync(oursTrained, 'utf8'));
    const ourMerges = oj.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
    let same = 0;
    while (same < ourMerges.length && same < hfMerges.length && ourMerges[same] === hfMerges[same]) same++;
    if (same !== ourMerges.length || same !== hfMerges.length)
      fail(`merges: bitt ${ourMerges.length}, HF ${hfMerges.length}, equal for the first ${same}; ` +
           `next: bitt ${JSON.stringify(ourMerges[same])} HF ${JSON.stringify(hfMerges[same])}`);
    // learned tokens (not the alphabet: ours has all 256 bytes, HF the characters it saw)
    const learned = (vocab) => Object.keys(vocab).filter((k) => [...k].length > 1 && !/^<.*>$/.test(k)).sort();
    const lo = learned(oj.model.vocab);
    const lh = learned(hfJson.model.vocab);
    const missing = lh.filter((k) => !(k in oj.model.vocab));
    if (lo.length !== lh.length || missing.length)
      fail(`learned tokens: bitt ${lo.length}, HF ${lh.length}, ${missing.length} of HF's missing in bitt's`);
    const line = `training on ${args.train.map((f) => path.basename(f)).join(' + ')} (normalized, ` +
      `${fs.statSync(trainText).size} bytes): bitt ${ourMerges.length} merges in ${bittSecs.toFixed(2)} s, ` +
      `HF ${hfMerges.length} merges in ${hfSecs.toFixed(2)} s; first ${same} identical in order; ` +
      `${lo.length} vs ${lh.length} learned tokens`;
    report.push(line);
    console.log(line);
  }
  console.log(failures ? `FAILED: ${failures} mismatches` : 'OK: no mismatches');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});

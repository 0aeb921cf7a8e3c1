// Tokenize a file with a TextMate grammar as VS Code does (vscode-textmate on the
// Oniguruma regex engine, vscode-oniguruma's WebAssembly build), and print every
// token of every line as JSON: [[{"text": ..., "scopes": [...]}, ...], ...].
//   node tests/js/tokenize.js GRAMMAR.json FILE
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const [grammarPath, filePath] = process.argv.slice(2);
  const wasm = fs.readFileSync(
    path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () =>
      vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
  });
  const raw = JSON.parse(fs.readFileSync(grammarPath, "utf8"));
  const grammar = await registry.loadGrammar(raw.scopeName);
  let state = vsctm.INITIAL;
  const out = [];
  for (const line of fs.readFileSync(filePath, "utf8").split("\n")) {
    const r = grammar.tokenizeLine(line, state);
    out.push(r.tokens.map((t) => ({
      text: line.substring(t.startIndex, t.endIndex), scopes: t.scopes })));
    state = r.ruleStack;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });

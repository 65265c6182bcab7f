// The official `openai` npm client against `vecformer serve`, unchanged: only its baseURL points
// at the server. Prints one JSON object on stdout for tests/serve/test_serve_openai.py to check.
//   node tests/serve/openai_client.cjs NODE_MODULES_DIR BASE_URL API_KEY SENTENCES_JSON
const [nodeDir, baseURL, apiKey, sentencesJson] = process.argv.slice(2);
const { OpenAI } = require(require.resolve("openai", { paths: [nodeDir] }));

async function main() {
  const sentences = JSON.parse(sentencesJson);
  const client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });
  const out = {};
  // The client's default: it asks for base64 and decodes the float32 bytes itself.
  const byDefault = await client.embeddings.create({ model: "mini-sentence", input: sentences });
  out.default = byDefault.data.map((d) => Array.from(d.embedding));
  out.indices = byDefault.data.map((d) => d.index);
  out.usage = byDefault.usage;
  out.model = byDefault.model;
  const asFloat = await client.embeddings.create({
    model: "mini-sentence", input: sentences[0], encoding_format: "float" });
  out.float = asFloat.data.map((d) => Array.from(d.embedding));
  try {
    await new OpenAI({ apiKey: "wrong", baseURL, maxRetries: 0 }).embeddings.create({
      model: "mini-sentence", input: "x" });
    out.wrongKey = "accepted";
  } catch (e) {
    out.wrongKey = { status: e.status, name: e.constructor.name, message: e.message };
  }
  try {
    await client.embeddings.create({ model: "mini-sentence", input: [] });
    out.empty = "accepted";
  } catch (e) {
    out.empty = { status: e.status, name: e.constructor.name };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(`openai client failed: ${e.stack || e}\n`);
  process.exit(1);
});

// The Hugging Face side of tests/tokenizer_hf_compat_test.sh: loads DIR/tokenizer.json and
// DIR/tokenizer_config.json with @lenml/tokenizers (a JavaScript port of HF tokenizers,
// the tokenizer part of transformers.js) and answers JSON Lines on stdin, one per line:
//
//   node hf_tokenizer.mjs encode DIR [--add-special-tokens]   {"text": ...} -> {"ids": [...]}
//   node hf_tokenizer.mjs chat DIR     {"messages": [...], "add_generation_prompt": bool} ->
//       {"text": ..., "ids": [...], "lenml_text": ... | null}
//
// The output of `encode` has the shape of `mariana tokenize`. For `chat`, "text" is the
// template rendered by @huggingface/jinja (transformers.js's engine) with the variables
// transformers passes, "ids" its encoding without special tokens (the template writes BOS
// itself), and "lenml_text" the render of @lenml/tokenizers' own apply_chat_template, whose
// older bundled Jinja has no str.split: null when it cannot render the conversation.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Template } from "@huggingface/jinja";
import { TokenizerLoader } from "@lenml/tokenizers";

const [mode, dir, ...flags] = process.argv.slice(2);
if (!["encode", "chat"].includes(mode) || !dir) {
  console.error("usage: node hf_tokenizer.mjs encode|chat DIR [--add-special-tokens] < lines.jsonl");
  process.exit(2);
}
const readJson = (name) => JSON.parse(readFileSync(path.join(dir, name), "utf8"));
const tokenizerConfig = readJson("tokenizer_config.json");
const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON: readJson("tokenizer.json"), tokenizerConfig });

// Input lines are split on "\n" only: texts may hold U+2028, which JSON leaves raw.
const lines = readFileSync(0, "utf8").split("\n").filter((line) => line.length > 0);
const out = [];
if (mode === "encode") {
  const add_special_tokens = flags.includes("--add-special-tokens");
  for (const line of lines) {
    const { text } = JSON.parse(line);
    out.push(JSON.stringify({ ids: tokenizer.encode(text, { add_special_tokens }) }));
  }
} else {
  const template = new Template(tokenizerConfig.chat_template);
  // What transformers puts beside the messages: the special tokens that are set.
  const specialTokens = {};
  for (const key of ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]) {
    if (typeof tokenizerConfig[key] === "string") specialTokens[key] = tokenizerConfig[key];
  }
  for (const line of lines) {
    const { messages, add_generation_prompt = false } = JSON.parse(line);
    const text = template.render({ messages, add_generation_prompt, tools: null, documents: null, ...specialTokens });
    let lenml_text = null;
    try {
      lenml_text = tokenizer.apply_chat_template(messages, { add_generation_prompt, tokenize: false });
    } catch {
      // e.g. content.split('</think>'): not in @lenml/tokenizers' Jinja
    }
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    out.push(JSON.stringify({ text, ids, lenml_text }));
  }
}
process.stdout.write(out.length ? out.join("\n") + "\n" : "");

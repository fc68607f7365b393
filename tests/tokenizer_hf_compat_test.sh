#!/usr/bin/env bash
# A tokenizer trained by `mariana tokenizer train` is a Hugging Face tokenizer: loaded by
# @lenml/tokenizers (a JavaScript port of HF tokenizers, tests/js/hf_tokenizer.mjs), it
# encodes every text to the same ids as `mariana tokenize`, with and without special
# tokens, and its chat template renders DeepSeek-R1's format in HF's Jinja engines and in
# `mariana chat-template`.
# Usage: tokenizer_hf_compat_test.sh MARIANA SHARED_DIR
set -uo pipefail
mariana=$1 shared=$2
js=$(cd "$(dirname "$0")/js" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
result() {  # result NAME STATUS
  if [[ $2 -eq 0 ]]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "FAIL node and npm are needed (Debian: apt-get install nodejs npm, as scripts/install_packages.sh does)"
  exit 1
fi
if [[ ! -d $js/node_modules/@lenml/tokenizers || ! -d $js/node_modules/@huggingface/jinja ]]; then
  npm ci --prefix "$js" --silent --no-audit --no-fund ||
    { echo "FAIL npm ci --prefix $js could not install the pinned packages (is the npm registry reachable?)"; exit 1; }
fi

# Training text (plain and JSON Lines) and the texts to compare: generated prose, code,
# numbers, CJK, emoji; random strings; every DeepSeek golden case except those holding
# U+0085 or U+FEFF (@lenml/tokenizers' \s differs from HF's there) or characters newer than
# Unicode 14 (the Unicode of Debian's Oniguruma; Node knows newer ones). See
# shared/golden/tokenizer/NOTES.md, sections 1 and 7.
python3 - "$tmp" "$shared/golden/tokenizer/deepseek-v3/cases.jsonl" <<'PY'
import json, random, sys, unicodedata
tmp, cases = sys.argv[1:3]
rng = random.Random(7)
words = ("the model learns from data and a small engine runs it fast on every core with memory attention "
         "expert of to is DeepSeek Mariana training don't it's U.S.A. e-mail www.example.com").split()
code = ["def forward(self, x):\n    return self.proj(x) + x\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
        "if __name__ == \"__main__\":\n    main()\r\n", "const auto it = map.find(key);  // O(1)\n", "x = [1, 2, 3]  # list\n"]
cjk = ["深度学习模型的训练需要大量数据。", "日本語のテキストも少し含まれています。", "トークナイザーを学習する",
       "한국어 문장도 들어 있습니다.", "中文和English混合", "鿐 㐀 々 ｶﾀｶﾅ"]
emoji = ["👍", "👍🏽", "🚀", "👨‍👩‍👧", "🇫🇷", "😀😀", "❤️", "🫠"]
def paragraph():
    kind = rng.randrange(5)
    if kind < 2: return ". ".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(3)) + "."
    if kind == 2: return rng.choice(code)
    if kind == 3: return rng.choice(cjk) + " " + rng.choice(emoji)
    return f"{rng.randrange(10**7)} + {rng.random():.4f} = {rng.randrange(10**4)}% {rng.choice(emoji)}"
with open(f"{tmp}/corpus.txt", "w", encoding="utf-8") as f:
    for _ in range(6000): f.write(paragraph() + rng.choice(["\n", "\n", "\n\n", "  \n"]))
def comparable(t):
    return "\x85" not in t and "\ufeff" not in t and all(unicodedata.category(c) != "Cn" for c in t)
texts = [json.loads(l)["text"] for l in open(cases, "rb").read().split(b"\n") if l]
texts = [t for t in texts if comparable(t)]
# The golden texts are in the training data too, for merges in many scripts and whitespace.
with open(f"{tmp}/corpus.jsonl", "w", encoding="utf-8") as f:
    for _ in range(800): f.write(json.dumps({"text": "\n".join(paragraph() for _ in range(3))}, ensure_ascii=False) + "\n")
    for t in texts * 2: f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
pool = list(" \t\n\r  \u3000\u00a0.,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`0123456789½²abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "éüñçø中文字学习日本語のカタカナ한국어鿐㐀々ｶ") + emoji + ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>",
            "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<|User|>", "\r\n", "    "]
texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(1500)]
texts += [paragraph() for _ in range(300)]
with open(f"{tmp}/texts.jsonl", "w", encoding="utf-8") as f:
    for t in texts: f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
print(f"{len(texts)} texts to compare")
PY

if "$mariana" tokenizer train --vocab-size 3000 --out "$tmp/tok" --threads 2 "$tmp/corpus.txt" "$tmp/corpus.jsonl" >"$tmp/train.log" 2>&1; then
  grep -q "vocabulary 3000 " "$tmp/train.log"
  result "mariana tokenizer train: $(grep -o 'vocabulary [0-9]*' "$tmp/train.log") (3000 asked)" $?
else
  cat "$tmp/train.log"; result "mariana tokenizer train" 1
  echo "$passed passed, $failed failed"; exit 1
fi

# Same ids line by line; the first differences are printed with their text.
compare_ids() {  # compare_ids MARIANA_OUT JS_OUT
  python3 - "$tmp/texts.jsonl" "$1" "$2" <<'PY'
import json, sys
load = lambda p: [json.loads(l) for l in open(p, "rb").read().split(b"\n") if l]
texts, ours, theirs = (load(p) for p in sys.argv[1:4])
assert len(ours) == len(theirs) == len(texts), f"{len(texts)} texts, {len(ours)} and {len(theirs)} answers"
bad = [(t["text"], a["ids"], b["ids"]) for t, a, b in zip(texts, ours, theirs) if a["ids"] != b["ids"]]
for text, a, b in bad[:5]: print(f"  {text!r}: mariana {a}, @lenml/tokenizers {b}")
assert not bad, f"{len(bad)} of {len(texts)} texts differ"
PY
}
for flag in "" --add-special-tokens; do
  "$mariana" tokenize --model "$tmp/tok" $flag <"$tmp/texts.jsonl" >"$tmp/mariana$flag.out" &&
    node "$js/hf_tokenizer.mjs" encode "$tmp/tok" $flag <"$tmp/texts.jsonl" >"$tmp/js$flag.out" &&
    compare_ids "$tmp/mariana$flag.out" "$tmp/js$flag.out"
  result "same ids as @lenml/tokenizers on $(wc -l <"$tmp/texts.jsonl") texts${flag:+ ($flag)}" $?
done

# The chat template in transformers.js's Jinja (@huggingface/jinja) gives R1's format (the
# expected texts follow shared/golden/tokenizer/NOTES.md, section 6), @lenml/tokenizers'
# own apply_chat_template agrees wherever its older Jinja can render, and mariana encodes
# the rendered text to the same ids.
cat >"$tmp/chats.jsonl" <<'EOF'
{"messages": [{"role": "user", "content": "What is 3*7?"}, {"role": "assistant", "content": "<think>\n3 times 7 is 21.\n</think>\n\n3*7 = 21."}, {"role": "user", "content": "And 4*8?"}], "add_generation_prompt": true, "expected": "<｜begin▁of▁sentence｜><｜User｜>What is 3*7?<｜Assistant｜>\n\n3*7 = 21.<｜end▁of▁sentence｜><｜User｜>And 4*8?<｜Assistant｜><think>\n"}
{"messages": [{"role": "system", "content": "You are terse."}, {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bonjour 👋"}], "add_generation_prompt": false, "expected": "<｜begin▁of▁sentence｜>You are terse.\n\nAnswer in French.<｜User｜>Bonjour 👋"}
{"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "S"}, {"role": "assistant", "content": "b"}], "add_generation_prompt": false, "expected": "<｜begin▁of▁sentence｜>S<｜User｜>a<｜Assistant｜>b<｜end▁of▁sentence｜>"}
{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "x</think>y</think>\nz"}], "add_generation_prompt": true, "expected": "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜>\nz<｜end▁of▁sentence｜><｜Assistant｜><think>\n"}
{"messages": [{"role": "user", "content": "深度学习是什么？"}, {"role": "assistant", "content": "一种机器学习方法。🚀"}, {"role": "user", "content": "def f(x):\n    return x"}], "add_generation_prompt": true, "expected": "<｜begin▁of▁sentence｜><｜User｜>深度学习是什么？<｜Assistant｜>一种机器学习方法。🚀<｜end▁of▁sentence｜><｜User｜>def f(x):\n    return x<｜Assistant｜><think>\n"}
{"messages": [], "add_generation_prompt": true, "expected": "<｜begin▁of▁sentence｜><｜Assistant｜><think>\n"}
EOF
node "$js/hf_tokenizer.mjs" chat "$tmp/tok" <"$tmp/chats.jsonl" >"$tmp/chats.out" &&
  python3 - "$tmp/chats.jsonl" "$tmp/chats.out" "$tmp/rendered.jsonl" <<'PY'
import json, sys
load = lambda p: [json.loads(l) for l in open(p, "rb").read().split(b"\n") if l]
chats, out = load(sys.argv[1]), load(sys.argv[2])
assert len(chats) == len(out)
for c, o in zip(chats, out):
    assert o["text"] == c["expected"], f"rendered {o['text']!r}, expected {c['expected']!r}"
    splits = any("</think>" in m["content"] for m in c["messages"] if m["role"] == "assistant")
    if not splits: assert o["lenml_text"] == o["text"], f"@lenml/tokenizers rendered {o['lenml_text']!r}"
with open(sys.argv[3], "w", encoding="utf-8") as f:
    for o in out: f.write(json.dumps({"text": o["text"]}, ensure_ascii=False) + "\n")
PY
result "chat template renders R1's format in @huggingface/jinja and @lenml/tokenizers" $?
"$mariana" tokenize --model "$tmp/tok" <"$tmp/rendered.jsonl" >"$tmp/rendered.out" &&
  python3 - "$tmp/chats.out" "$tmp/rendered.out" <<'PY'
import json, sys
load = lambda p: [json.loads(l) for l in open(p, "rb").read().split(b"\n") if l]
theirs, ours = load(sys.argv[1]), load(sys.argv[2])
assert [o["ids"] for o in ours] == [t["ids"] for t in theirs], "rendered chats encode differently"
assert all(o["ids"][0] == 0 and o["ids"].count(0) == 1 for o in ours), "not exactly one BOS (id 0) at the start"
PY
result "rendered chats encode to the same ids (one BOS)" $?
# Mariana's own Jinja engine renders the same text.
python3 - "$tmp/chats.jsonl" >"$tmp/chats-in.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    c = json.loads(line)
    print(json.dumps({"messages": c["messages"], "add_generation_prompt": c["add_generation_prompt"]}, ensure_ascii=False))
PY
"$mariana" chat-template --model "$tmp/tok" <"$tmp/chats-in.jsonl" >"$tmp/mariana-chats.out" &&
  python3 - "$tmp/mariana-chats.out" "$tmp/chats.out" <<'PY'
import json, sys
load = lambda p: [json.loads(l) for l in open(p, "rb").read().split(b"\n") if l]
ours, theirs = load(sys.argv[1]), load(sys.argv[2])
assert [o["text"] for o in ours] == [t["text"] for t in theirs], f"mariana rendered {[o['text'] for o in ours]}"
PY
result "mariana chat-template renders the same text" $?

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

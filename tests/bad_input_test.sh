#!/usr/bin/env bash
# End-to-end bad-input checks for the `mariana` binary.
#
#   bad_input_test.sh MARIANA_BINARY SHARED_DIR
#
# Each case builds a broken input in a temporary folder (from a copy of a golden checkpoint
# in SHARED_DIR/golden/model) and runs `mariana` on it. A case passes when mariana exits
# with status 1 or 2 (never a signal, never >= 128), prints exactly one line starting with
# "mariana: error:" on stderr, nothing from a sanitizer or an internal CHECK, and that line
# names the offending file / field / tensor / value. Command-line usage errors (CLI11) only
# need a non-zero status below 128.
#
# Prints "ok   CASE" or "FAIL CASE: WHY" per case, then "N passed, M failed"; exits 1 if
# any case failed.
set -u

if [[ $# -ne 2 ]]; then
    echo "usage: $0 MARIANA_BINARY SHARED_DIR" >&2
    exit 2
fi
MARIANA=$1
GOLDEN=$2/golden/model
V3=$GOLDEN/v3-tiny
FP8=$GOLDEN/v3-fp8-tiny
for f in "$MARIANA" "$V3/model.safetensors" "$V3/config.json" "$FP8/model.safetensors"; do
    if [[ ! -e $f ]]; then
        echo "FAIL setup: $f does not exist"
        echo "0 passed, 1 failed"
        exit 1
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mariana-bad-input.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Sanitizer builds: report errors through the exit status we check, and quickly.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

passed=0
failed=0
pass() { echo "ok   $1"; passed=$((passed + 1)); }
flunk() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# Runs a command with a time limit, leaving stdout/stderr in $WORK/out, $WORK/err and the
# status in $rc.
run_capture() {
    # RUN: `mariana run` on the current case folder.
    [[ $1 == RUN ]] && set -- "$MARIANA" run --model "$CASE_DIR" --tokens 1,2,3 -n 1 --threads 1
    # TOKENIZE: `mariana tokenize` of one line with the current case folder.
    [[ $1 == TOKENIZE ]] && set -- bash -c 'echo "{\"text\": \"hello\"}" | "$1" tokenize --model "$2"' _ "$MARIANA" "$CASE_DIR"
    timeout 60 "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

# expect_error CASE PATTERN... -- COMMAND...
# Every PATTERN (fixed string) must appear in the single "mariana: error:" line.
expect_error() {
    local name=$1
    shift
    local patterns=()
    while [[ $1 != -- ]]; do
        patterns+=("$1")
        shift
    done
    shift
    run_capture "$@"
    local stderr_text
    stderr_text=$(head -c 2000 "$WORK/err")
    if [[ $rc -eq 0 ]]; then
        flunk "$name" "exited 0 (stderr: $stderr_text)"
        return
    fi
    if [[ $rc -eq 124 ]]; then
        flunk "$name" "timed out"
        return
    fi
    if [[ $rc -ne 1 && $rc -ne 2 ]]; then
        flunk "$name" "exit status $rc, expected 1 or 2 (stderr: $stderr_text)"
        return
    fi
    if grep -qE 'Sanitizer|runtime error:|internal error|terminate called' "$WORK/err"; then
        flunk "$name" "crash report on stderr: $stderr_text"
        return
    fi
    local count
    count=$(grep -c '^mariana: error:' "$WORK/err")
    if [[ $count -ne 1 ]]; then
        flunk "$name" "$count lines starting with 'mariana: error:' on stderr, expected 1 (stderr: $stderr_text)"
        return
    fi
    local line
    line=$(grep '^mariana: error:' "$WORK/err")
    local p
    for p in "${patterns[@]}"; do
        if ! grep -qF -- "$p" <<<"$line"; then
            flunk "$name" "message does not name '$p': $line"
            return
        fi
    done
    pass "$name"
    [[ -n ${VERBOSE:-} ]] && echo "     $line"
    return 0
}

# expect_usage_error CASE COMMAND...: CLI11 rejects the command line itself.
expect_usage_error() {
    local name=$1
    shift
    run_capture "$@"
    if [[ $rc -eq 0 ]]; then
        flunk "$name" "exited 0"
    elif [[ $rc -eq 124 ]]; then
        flunk "$name" "timed out"
    elif [[ $rc -ge 128 ]]; then
        flunk "$name" "killed by a signal (status $rc): $(head -c 2000 "$WORK/err")"
    elif grep -qE 'Sanitizer|runtime error:|internal error|terminate called' "$WORK/err"; then
        flunk "$name" "crash report on stderr: $(head -c 2000 "$WORK/err")"
    else
        pass "$name"
        [[ -n ${VERBOSE:-} ]] && echo "     status $rc: $(head -n 1 "$WORK/err")"
    fi
    return 0
}

# Edits JSON / safetensors files. Usage: edit.py OP ARGS...
cat >"$WORK/edit.py" <<'PY'
import json, struct, sys

def read_st(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n]), blob[8 + n:]

def write_st(path, header, data, raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the data section 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)

op, args = sys.argv[1], sys.argv[2:]
if op == "json-set":  # FILE KEY JSON_VALUE   (KEY may be a.b for nested objects)
    path, key, value = args
    with open(path) as f:
        doc = json.load(f)
    *parents, last = key.split(".")
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(last)] = json.loads(value)
    else:
        node[last] = json.loads(value)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
elif op == "json-set-raw":  # FILE KEY TEXT: the value written verbatim (e.g. 1e999)
    path, key, text = args
    with open(path) as f:
        doc = json.load(f)
    doc[key] = "@RAW@"
    with open(path, "w") as f:
        f.write(json.dumps(doc, indent=2).replace('"@RAW@"', text))
elif op == "json-del":  # FILE KEY
    path, key = args
    with open(path) as f:
        doc = json.load(f)
    del doc[key]
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
elif op == "st-set":  # FILE TENSOR FIELD JSON_VALUE: change one header field, keep the data
    path, tensor, field, value = args
    header, data = read_st(path)
    header[tensor][field] = json.loads(value)
    write_st(path, header, data)
elif op == "st-overlap":  # FILE A B: move B's bytes to start where A's start
    path, a, b = args
    header, data = read_st(path)
    begin, end = header[b]["data_offsets"]
    start = header[a]["data_offsets"][0]
    header[b]["data_offsets"] = [start, start + end - begin]
    write_st(path, header, data)
elif op == "st-shift":  # FILE TENSOR: move a tensor's range past the end of the data section
    path, tensor = args
    header, data = read_st(path)
    begin, end = header[tensor]["data_offsets"]
    header[tensor]["data_offsets"] = [len(data) + 64, len(data) + 64 + end - begin]
    write_st(path, header, data)
elif op == "st-delete":  # FILE TENSOR: remove a tensor and its bytes, a well-formed file
    path, tensor = args
    header, data = read_st(path)
    begin, end = header.pop(tensor)["data_offsets"]
    data = data[:begin] + data[end:]
    for name, entry in header.items():
        if name != "__metadata__" and entry["data_offsets"][0] >= end:
            entry["data_offsets"] = [o - (end - begin) for o in entry["data_offsets"]]
    write_st(path, header, data)
elif op == "st-raw-header":  # FILE TEXT: replace the header with arbitrary text
    path, text = args
    header, data = read_st(path)
    write_st(path, None, data, raw_header=text.encode())
elif op == "st-header-len":  # FILE N: overwrite the 8-byte header length
    path, n = args
    with open(path, "r+b") as f:
        f.write(struct.pack("<Q", int(n)))
elif op == "truncate-half":  # FILE
    (path,) = args
    with open(path, "r+b") as f:
        f.seek(0, 2)
        f.truncate(f.tell() // 2)
else:
    sys.exit(f"edit.py: unknown op {op}")
PY
edit() { python3 "$WORK/edit.py" "$@" || { echo "edit.py $* failed" >&2; return 1; }; }

# A fresh writable copy of a golden checkpoint: new_case NAME [SOURCE]. Old case folders
# are removed as we go so the temporary folder stays small.
CASE_DIR=
new_case() {
    [[ -n $CASE_DIR ]] && rm -rf "$CASE_DIR"
    CASE_DIR=$WORK/$1
    mkdir -p "$CASE_DIR"
    cp "${2:-$V3}/config.json" "${2:-$V3}/model.safetensors" "$CASE_DIR/"
    chmod u+w "$CASE_DIR"/*
}
ST() { echo "$CASE_DIR/model.safetensors"; }
CFG() { echo "$CASE_DIR/config.json"; }

# ---- the checkpoint folder and config.json --------------------------------------------

expect_error "nonexistent model path" "$WORK/no-such-model" -- \
    "$MARIANA" run --model "$WORK/no-such-model" --tokens 1,2 --threads 1

mkdir -p "$WORK/no-config" && cp "$V3/model.safetensors" "$WORK/no-config/"
expect_error "folder without config.json" "config.json" -- \
    "$MARIANA" run --model "$WORK/no-config" --tokens 1,2 --threads 1
rm -rf "$WORK/no-config"

new_case invalid-json
printf '{\n  "architectures": ["DeepseekV3ForCausalLM"],\n  "hidden_size": 256,\n' >"$(CFG)"
expect_error "config.json is not valid JSON" "$(CFG)" "invalid JSON" -- RUN

new_case wrong-type
edit json-set "$(CFG)" hidden_size '"256"'
expect_error "config field of the wrong type" "$(CFG)" "hidden_size" '"256"' -- RUN

new_case missing-field
edit json-del "$(CFG)" vocab_size
expect_error "config field missing" "$(CFG)" "vocab_size" "missing" -- RUN

new_case number-overflow
edit json-set-raw "$(CFG)" rope_theta 1e999
expect_error "config number too large for a double (1e999)" "$(CFG)" "invalid JSON" -- RUN

new_case integer-overflow
edit json-set "$(CFG)" vocab_size 18446744073709551615
expect_error "config integer beyond int64" "$(CFG)" "vocab_size" "18446744073709551615" -- RUN

new_case huge-hidden
edit json-set "$(CFG)" hidden_size 4611686018427387904
expect_error "config with an absurd hidden_size (2^62)" "$(CFG)" "hidden_size" "4611686018427387904" "exceeds" -- RUN

new_case huge-product
edit json-set "$(CFG)" hidden_size 1048576
edit json-set "$(CFG)" num_hidden_layers 16384
expect_error "config whose sizes multiply to an absurd model" "$(CFG)" "hidden_size" "parameters" -- RUN

new_case unknown-arch
edit json-set "$(CFG)" architectures '["MambaForCausalLM"]'
expect_error "unknown architecture" "architectures" "MambaForCausalLM" -- RUN

new_case rope-scaling
edit json-set "$(CFG)" rope_scaling.type '"dynamic"'
expect_error "unsupported rope_scaling type" "rope_scaling" "dynamic" -- RUN

# ---- model.safetensors ------------------------------------------------------------------

new_case truncated
edit truncate-half "$(ST)"
expect_error "safetensors truncated in half" "$(ST)" "truncated" -- RUN

new_case header-past-end
edit st-header-len "$(ST)" "$(($(stat -c %s "$(ST)") + 100))"
expect_error "header length larger than the file" "$(ST)" "header length $(($(stat -c %s "$(ST)") + 100))" -- RUN

new_case header-absurd
edit st-header-len "$(ST)" 4611686018427387904
expect_error "absurd header length (2^62)" "$(ST)" "4611686018427387904" -- RUN

new_case header-not-json
edit st-raw-header "$(ST)" 'this is {not JSON'
expect_error "header that is not JSON" "$(ST)" "invalid JSON" -- RUN

new_case header-not-object
edit st-raw-header "$(ST)" '[1, 2, 3]'
expect_error "header that is a JSON list" "$(ST)" "not a JSON object" -- RUN

new_case offsets-out-of-range
edit st-shift "$(ST)" model.norm.weight
expect_error "data_offsets out of range" "$(ST)" "model.norm.weight" "data_offsets" -- RUN

new_case offsets-overlap
edit st-overlap "$(ST)" lm_head.weight model.norm.weight
expect_error "overlapping data_offsets" "$(ST)" "model.norm.weight" "lm_head.weight" "overlap" -- RUN

new_case offsets-reversed
edit st-set "$(ST)" model.norm.weight data_offsets '[600, 88]'
expect_error "data_offsets end before begin" "$(ST)" "model.norm.weight" "[600, 88]" -- RUN

new_case dtype-bytes
edit st-set "$(ST)" model.norm.weight dtype '"F32"'
expect_error "dtype does not match the byte count" "$(ST)" "model.norm.weight" "F32" -- RUN

new_case shape-bytes
edit st-set "$(ST)" model.layers.0.input_layernorm.weight shape '[257]'
expect_error "shape does not match the byte count" "$(ST)" "model.layers.0.input_layernorm.weight" "257" -- RUN

new_case negative-dim
edit st-set "$(ST)" model.norm.weight shape '[-256]'
expect_error "negative dimension" "$(ST)" "model.norm.weight" "-256" -- RUN

new_case unknown-dtype
edit st-set "$(ST)" model.norm.weight dtype '"Q4_K"'
expect_error "unknown dtype" "$(ST)" "model.norm.weight" "Q4_K" -- RUN

new_case missing-tensor
edit st-delete "$(ST)" model.layers.1.self_attn.kv_a_layernorm.weight
expect_error "missing tensor" "model.layers.1.self_attn.kv_a_layernorm.weight" "missing" -- RUN

new_case wrong-shape
edit st-set "$(ST)" model.norm.weight shape '[16, 16]'
expect_error "tensor shape does not match config.json" "model.norm.weight" "[16, 16]" "[256]" -- RUN

new_case fp8-missing-scale "$FP8"
edit st-delete "$(ST)" model.layers.0.mlp.down_proj.weight_scale_inv
expect_error "FP8 weight without its block scales" "model.layers.0.mlp.down_proj.weight_scale_inv" -- RUN
[[ -n $CASE_DIR ]] && rm -rf "$CASE_DIR" && CASE_DIR=

# ---- token input ------------------------------------------------------------------------

echo '[1, 2, 1000]' >"$WORK/big-token.json"
expect_error "logits: token id >= vocab_size" "1000" "vocab_size" -- \
    "$MARIANA" logits --model "$V3" --tokens-file "$WORK/big-token.json" --out "$WORK/logits.f32" --threads 1

echo '{"tokens": [1, 2, 3]}' >"$WORK/not-a-list.json"
expect_error "logits: tokens file is not a JSON list" "$WORK/not-a-list.json" "list" -- \
    "$MARIANA" logits --model "$V3" --tokens-file "$WORK/not-a-list.json" --out "$WORK/logits.f32" --threads 1

echo '[1, 2, "three"]' >"$WORK/string-token.json"
expect_error "logits: tokens file with a string element" "$WORK/string-token.json" '"three"' -- \
    "$MARIANA" logits --model "$V3" --tokens-file "$WORK/string-token.json" --out "$WORK/logits.f32" --threads 1

echo '[1, 2, 1e999]' >"$WORK/overflow-token.json"
expect_error "logits: tokens file with 1e999" "$WORK/overflow-token.json" -- \
    "$MARIANA" logits --model "$V3" --tokens-file "$WORK/overflow-token.json" --out "$WORK/logits.f32" --threads 1

expect_error "logits: tokens file does not exist" "$WORK/no-such-tokens.json" -- \
    "$MARIANA" logits --model "$V3" --tokens-file "$WORK/no-such-tokens.json" --out "$WORK/logits.f32" --threads 1

expect_error "logits: --prefill larger than the token count" "--prefill 100" "16" -- \
    "$MARIANA" logits --model "$V3" --tokens-file "$V3/tokens.json" --out "$WORK/logits.f32" --prefill 100 --threads 1

expect_error "run: --tokens 1,x" "'x'" -- \
    "$MARIANA" run --model "$V3" --tokens 1,x --threads 1

expect_error "run: --tokens with an empty item" "--tokens" -- \
    "$MARIANA" run --model "$V3" --tokens 1,,2 --threads 1

expect_error "run: token id >= vocab_size" "5000" "vocab_size" -- \
    "$MARIANA" run --model "$V3" --tokens 1,5000 -n 1 --threads 1

new_case short-context
edit json-set "$(CFG)" max_position_embeddings 8
expect_error "run: prompt longer than max_position_embeddings" "20 tokens" "max_position_embeddings (8)" -- \
    "$MARIANA" run --model "$CASE_DIR" --tokens 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20 -n 1 --threads 1
printf '[%s]\n' "$(seq -s, 1 20)" >"$WORK/twenty.json"
expect_error "logits: prompt longer than max_position_embeddings" "max_position_embeddings (8)" -- \
    "$MARIANA" logits --model "$CASE_DIR" --tokens-file "$WORK/twenty.json" --out "$WORK/logits.f32" --threads 1
rm -rf "$CASE_DIR" && CASE_DIR=

# ---- sampling arguments -----------------------------------------------------------------

expect_error "run: --temperature -1" "temperature" "-1" -- \
    "$MARIANA" run --model "$V3" --tokens 1,2 -n 1 --temperature -1 --threads 1
expect_error "run: --top-p 0" "top-p" "0" -- \
    "$MARIANA" run --model "$V3" --tokens 1,2 -n 1 --temperature 1 --top-p 0 --threads 1
expect_error "run: --top-p 1.5" "top-p" "1.5" -- \
    "$MARIANA" run --model "$V3" --tokens 1,2 -n 1 --temperature 1 --top-p 1.5 --threads 1
expect_error "run: --top-k -1" "top-k" "-1" -- \
    "$MARIANA" run --model "$V3" --tokens 1,2 -n 1 --temperature 1 --top-k -1 --threads 1

# ---- mariana init -----------------------------------------------------------------------

mkdir -p "$WORK/existing"
echo "precious data" >"$WORK/existing/keep.txt"
before=$(cd "$WORK/existing" && ls -A && md5sum keep.txt)
expect_error "init: --out is an existing non-empty folder" "$WORK/existing" "refusing" -- \
    "$MARIANA" init --config "$V3/config.json" --out "$WORK/existing" --threads 1
after=$(cd "$WORK/existing" && ls -A && md5sum keep.txt)
if [[ $before != "$after" ]]; then
    flunk "init: existing folder left untouched" "contents changed: before '$before', after '$after'"
elif [[ -e $WORK/existing.partial ]]; then
    flunk "init: existing folder left untouched" "left $WORK/existing.partial behind"
else
    pass "init: existing folder left untouched"
fi

echo "not a folder" >"$WORK/existing-file"
expect_error "init: --out is an existing file" "$WORK/existing-file" -- \
    "$MARIANA" init --config "$V3/config.json" --out "$WORK/existing-file" --threads 1

new_case init-bad-config
edit json-set "$(CFG)" num_hidden_layers 0
expect_error "init: config with num_hidden_layers 0" "$(CFG)" "num_hidden_layers" -- \
    "$MARIANA" init --config "$(CFG)" --out "$WORK/init-out" --threads 1
if [[ -e $WORK/init-out || -e $WORK/init-out.partial ]]; then
    flunk "init: bad config writes nothing" "created $WORK/init-out"
else
    pass "init: bad config writes nothing"
fi
rm -rf "$CASE_DIR" && CASE_DIR=

# A write that fails part-way (here: the file-size limit, with SIGXFSZ ignored so that
# write() reports EFBIG) must leave neither the checkpoint nor its staging folder.
expect_error "init: write fails part-way" "$WORK/init-out" -- \
    bash -c 'trap "" XFSZ; ulimit -f 256; exec "$@"' _ \
    "$MARIANA" init --config "$V3/config.json" --out "$WORK/init-out" --threads 1
if [[ -e $WORK/init-out || -e $WORK/init-out.partial ]]; then
    flunk "init: failed write cleans up" "left $(ls -d "$WORK"/init-out*)"
else
    pass "init: failed write cleans up"
fi

# ---- tokenizer.json and the tokenize / detokenize commands ------------------------------

TOK=$2/golden/tokenizer/llama3
new_tokenizer() {
    [[ -n $CASE_DIR ]] && rm -rf "$CASE_DIR"
    CASE_DIR=$WORK/$1
    mkdir -p "$CASE_DIR"
    cp "$TOK/tokenizer.json" "$TOK/tokenizer_config.json" "$CASE_DIR/"
    chmod u+w "$CASE_DIR"/*
}
TJ() { echo "$CASE_DIR/tokenizer.json"; }

expect_error "tokenize: folder without tokenizer.json" "$WORK/no-such-model" "tokenizer.json" -- \
    "$MARIANA" tokenize --model "$WORK/no-such-model"

new_tokenizer tok-truncated
edit truncate-half "$(TJ)"
expect_error "tokenizer.json truncated" "$(TJ)" "invalid JSON" -- TOKENIZE

new_tokenizer tok-wordpiece
edit json-set "$(TJ)" model.type '"WordPiece"'
expect_error "tokenizer.json with an unsupported model" "$(TJ)" "WordPiece" -- TOKENIZE

new_tokenizer tok-metaspace
edit json-set "$(TJ)" pre_tokenizer '{"type": "Metaspace", "replacement": "▁"}'
expect_error "tokenizer.json with an unsupported pre_tokenizer" "$(TJ)" "Metaspace" -- TOKENIZE

new_tokenizer tok-decoder
edit json-set "$(TJ)" decoder.type '"WordPiece"'
expect_error "tokenizer.json with an unsupported decoder" "$(TJ)" "decoder" "WordPiece" -- TOKENIZE

new_tokenizer tok-regex
edit json-set "$(TJ)" pre_tokenizer.pretokenizers.0.pattern.Regex '"(unclosed[a-"'
expect_error "tokenizer.json with a regex that does not compile" "$(TJ)" "Split #1" "does not compile" -- TOKENIZE

new_tokenizer tok-merge
edit json-set "$(TJ)" model.merges.5 '"notatoken alsonot"'
expect_error "tokenizer.json with a merge of unknown tokens" "$(TJ)" "merge #5" -- TOKENIZE

new_tokenizer tok-vocab-value
edit json-set "$(TJ)" model.vocab.hello '"zero"'
expect_error "tokenizer.json with a non-integer vocab id" "$(TJ)" "model.vocab['hello']" "integer" -- TOKENIZE

new_tokenizer tok-vocab-list
edit json-set "$(TJ)" model.vocab '["a", "b"]'
expect_error "tokenizer.json with a vocab that is a list" "$(TJ)" "model.vocab must be an object" -- TOKENIZE

new_tokenizer tok-merge-number
edit json-set "$(TJ)" model.merges.7 '42'
expect_error "tokenizer.json with a merge that is a number" "$(TJ)" "model.merges[7]" -- TOKENIZE

new_tokenizer tok-merge-triple
edit json-set "$(TJ)" model.merges.3 '["a", "b", "c"]'
expect_error "tokenizer.json with a merge of three tokens" "$(TJ)" "model.merges[3]" -- TOKENIZE

new_tokenizer tok-id-range
edit json-set "$(TJ)" model.vocab.hello '4294967296'
expect_error "tokenizer.json with an id out of range" "$(TJ)" "4294967296" "out of range" -- TOKENIZE

new_tokenizer tok-added
edit json-set "$(TJ)" added_tokens.0.id '"zero"'
expect_error "tokenizer.json with a non-integer added token id" "$(TJ)" "added token" -- TOKENIZE
rm -rf "$CASE_DIR" && CASE_DIR=

expect_error "tokenize: malformed JSON on line 2" "stdin line 2" "invalid JSON" -- \
    bash -c 'printf "{\"text\": \"a\"}\n{oops\n" | "$1" tokenize --model "$2"' _ "$MARIANA" "$TOK"
expect_error "tokenize: line without text" "stdin line 1" "text" -- \
    bash -c 'echo "{\"ids\": [1]}" | "$1" tokenize --model "$2"' _ "$MARIANA" "$TOK"
expect_error "detokenize: id beyond the vocabulary" "stdin line 1" "999999999" -- \
    bash -c 'echo "{\"ids\": [1, 999999999]}" | "$1" detokenize --model "$2"' _ "$MARIANA" "$TOK"
expect_error "detokenize: ids not a list" "stdin line 1" "ids" -- \
    bash -c 'echo "{\"ids\": \"1,2\"}" | "$1" detokenize --model "$2"' _ "$MARIANA" "$TOK"
expect_error "chat-template: number too large for a double" "stdin line 2" "invalid JSON" -- \
    bash -c 'printf "{\"messages\": []}\n{\"messages\": [{\"role\": \"user\", \"content\": 1e999}]}\n" |
             "$1" chat-template --model "$2"' _ "$MARIANA" "$TOK"
expect_error "chat-template: messages not a list" "stdin line 1" "messages" -- \
    bash -c 'echo "{\"messages\": {\"role\": \"user\"}}" | "$1" chat-template --model "$2"' _ "$MARIANA" "$TOK"

# ---- tokenizer train ---------------------------------------------------------------------

printf 'some text to learn from\n' >"$WORK/train.txt"
: >"$WORK/empty.txt"
printf '{"text": "ok"}\n{"text": "unterminated\n' >"$WORK/broken.jsonl"
printf '{"content": "no text field"}\n' >"$WORK/no-text.jsonl"
mkdir -p "$WORK/taken" && touch "$WORK/taken/file"
expect_error "tokenizer train: missing file" "$WORK/no-such.txt" -- \
    "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/tok1" "$WORK/train.txt" "$WORK/no-such.txt"
expect_error "tokenizer train: empty corpus" "$WORK/empty.txt" "no text" -- \
    "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/tok2" "$WORK/empty.txt"
expect_error "tokenizer train: vocabulary below bytes + specials" "--vocab-size 100" "263" -- \
    "$MARIANA" tokenizer train --vocab-size 100 --out "$WORK/tok3" "$WORK/train.txt"
expect_error "tokenizer train: absurd vocabulary" "--vocab-size 4611686018427387904" -- \
    "$MARIANA" tokenizer train --vocab-size 4611686018427387904 --out "$WORK/tok4" "$WORK/train.txt"
expect_error "tokenizer train: malformed JSON Lines" "$WORK/broken.jsonl:2" -- \
    "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/tok5" "$WORK/broken.jsonl"
expect_error "tokenizer train: JSON Lines without text" "$WORK/no-text.jsonl:1" '"text"' -- \
    "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/tok6" "$WORK/no-text.jsonl"
expect_error "tokenizer train: --out is a folder with files" "$WORK/taken" "refusing" -- \
    "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/taken" "$WORK/train.txt"
[[ ! -e $WORK/tok5 && ! -e $WORK/tok5.partial ]] && pass "tokenizer train: nothing left behind after an error" ||
    flunk "tokenizer train: nothing left behind after an error" "$WORK/tok5 or .partial exists"
# Invalid UTF-8 is repaired, not refused: a warning naming the file, and a tokenizer.
printf 'caf\xe9 au lait \xff\xfe\n' >"$WORK/latin1.txt"
run_capture "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/tok7" "$WORK/latin1.txt"
if [[ $rc -eq 0 && -f $WORK/tok7/tokenizer.json ]] && grep -qF "$WORK/latin1.txt: 3 invalid UTF-8" "$WORK/err"; then
    pass "tokenizer train: invalid UTF-8 repaired with a warning"
else
    flunk "tokenizer train: invalid UTF-8 repaired with a warning" "status $rc: $(head -c 2000 "$WORK/err")"
fi

# ---- mariana plot -----------------------------------------------------------------------

expect_error "plot: no such run folder" "$WORK/no-such-run" -- "$MARIANA" plot "$WORK/no-such-run"
mkdir -p "$WORK/plot-run"
printf '{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.9}\nnot json\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: malformed metrics line" "$WORK/plot-run/metrics.jsonl:3" -- "$MARIANA" plot "$WORK/plot-run"
printf '{"step": 1, "loss": 3.0}\n{"step": 2, "lr": "fast"}\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: non-numeric metric" "$WORK/plot-run/metrics.jsonl:2" "'lr'" '"fast"' -- "$MARIANA" plot "$WORK/plot-run"
mkdir -p "$WORK/plot-empty"
expect_error "plot: folder without metrics.jsonl" "$WORK/plot-empty/metrics.jsonl" -- "$MARIANA" plot "$WORK/plot-empty"
: >"$WORK/plot-empty/metrics.jsonl"
expect_error "plot: empty metrics.jsonl" "$WORK/plot-empty/metrics.jsonl" "empty" -- "$MARIANA" plot "$WORK/plot-empty"
printf '{"step": 1, "loss": 3.0}\n[2, 2.9]\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: line that is not an object" "$WORK/plot-run/metrics.jsonl:2" "object" -- "$MARIANA" plot "$WORK/plot-run"
printf '{"step": 1, "loss": 3.0}\n{"loss": 2.9}\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: line without step" "$WORK/plot-run/metrics.jsonl:2" "'step'" -- "$MARIANA" plot "$WORK/plot-run"
printf '{"step": 1.5, "loss": 3.0}\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: step that is not an integer" "$WORK/plot-run/metrics.jsonl:1" "'step'" "1.5" -- "$MARIANA" plot "$WORK/plot-run"
# Only the last line may be cut short (a run killed mid-write): the same fragment mid-file is an error.
printf '{"step": 1, "loss": 3.0}\n{"step": 2, "lo\n{"step": 3, "loss": 2.8}\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: truncated line mid-file" "$WORK/plot-run/metrics.jsonl:2" -- "$MARIANA" plot "$WORK/plot-run"
if [[ -n $(find "$WORK/plot-run" "$WORK/plot-empty" -name '*.png*') ]]; then
    flunk "plot: nothing written on error" "$(find "$WORK/plot-run" "$WORK/plot-empty" -name '*.png*')"
else
    pass "plot: nothing written on error"
fi
printf '{"step": 1, "loss": 3.0}\n' >"$WORK/plot-run/metrics.jsonl"
expect_error "plot: gnuplot not installed" "gnuplot-nox" -- env PATH="$WORK/empty-path" "$MARIANA" plot "$WORK/plot-run"

# ---- score and perplexity ---------------------------------------------------------------

score_case() {  # score_case NAME LINE PATTERN...: LINE as the only input line, on the golden model
    local name=$1 line=$2
    shift 2
    printf '%s\n' "$line" >"$WORK/score.jsonl"
    expect_error "score: $name" "$@" -- "$MARIANA" score --model "$V3" --input "$WORK/score.jsonl" --threads 1
}
score_case "not JSON" '{"ids": [1, 2' "score.jsonl line 1" "invalid JSON"
score_case "not an object" '[1, 2, 3]' "line 1" "JSON object"
score_case "id outside the vocabulary" '{"ids": [1, 5000]}' "line 1" "'ids'" "5000"
score_case "negative id" '{"ids": [1, -3]}' "'ids'" "-3"
score_case "id too large for any integer" '{"ids": [1, 184467440737095516150]}' "'ids'"
score_case "number too large for a double" '{"ids": [1, 1e999]}' "line 1" "invalid JSON"
score_case "ids not a list" '{"ids": "1 2 3"}' "'ids'" "must be a list"
score_case "one token" '{"ids": [7]}' "'ids'" "2 at least"
score_case "text without a tokenizer" '{"text": "hello"}' "'text'" "tokenizer"
score_case "text of the wrong type" '{"text": 5, "ids": [1, 2]}' "exactly one of"
score_case "no known field" '{"txt": "hello"}' "line 1" "exactly one of"
score_case "invalid UTF-8" $'{"text": "caf\xe9"}' "line 1" "invalid JSON"
python3 -c 'print("{\"ids\": " + "[" * 100000 + "]" * 100000 + "}")' >"$WORK/deep.txt"
score_case "ids nested 100000 deep" "$(cat "$WORK/deep.txt")" "'ids'" "item 0 is a list of 1 item"
python3 -c 'import json; print(json.dumps({"ids": list(range(1, 1000)) * 2}))' >"$WORK/long.txt"
score_case "longer than the context" "$(cat "$WORK/long.txt")" "'ids'" "1998 tokens" "1024"
expect_error "score: missing input file" "$WORK/no-such.jsonl" -- \
    "$MARIANA" score --model "$V3" --input "$WORK/no-such.jsonl"
printf 'some text\n' >"$WORK/ppl.txt"
expect_error "perplexity: model without a tokenizer" "tokenizer.json" -- \
    "$MARIANA" perplexity --model "$V3" --data "$WORK/ppl.txt"
expect_usage_error "usage: perplexity --ctx 2" "$MARIANA" perplexity --model "$V3" --data "$WORK/ppl.txt" --ctx 2

# ---- command-line usage errors (CLI11's own status and message) -------------------------

expect_usage_error "usage: no subcommand" "$MARIANA"
expect_usage_error "usage: unknown subcommand" "$MARIANA" frobnicate
expect_usage_error "usage: run without --model" "$MARIANA" run --tokens 1,2
expect_usage_error "usage: --prefill -3" \
    "$MARIANA" logits --model "$V3" --tokens-file "$V3/tokens.json" --out "$WORK/logits.f32" --prefill -3
expect_usage_error "usage: --threads 100000" "$MARIANA" run --model "$V3" --tokens 1,2 --threads 100000
expect_usage_error "usage: --temperature abc" "$MARIANA" run --model "$V3" --tokens 1,2 --temperature abc
expect_usage_error "usage: init --dtype int4" \
    "$MARIANA" init --config "$V3/config.json" --out "$WORK/init-out" --dtype int4
expect_usage_error "usage: tokenizer train without files" "$MARIANA" tokenizer train --vocab-size 300 --out "$WORK/tok8"
expect_usage_error "usage: tokenizer without train" "$MARIANA" tokenizer
expect_usage_error "usage: plot without RUN_DIR" "$MARIANA" plot
expect_usage_error "usage: --compute f16" "$MARIANA" run --model "$V3" --tokens 1,2 --compute f16

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

#!/usr/bin/python3
"""Independent PyTorch reference ("oracle") for dense Qwen2 / Llama models.

For each case it draws random weights from a fixed seed, writes a Hugging Face
style checkpoint (config.json + model.safetensors), a token list, and the
logits of (a) one full prefill and (b) a half prefill followed by single-token
decode steps through a KV cache.  Nothing here imports transformers or
safetensors: the point is an implementation written from the maths alone, so
the C++ engine is checked against something that shares none of its code.

Usage: /usr/bin/python3 tests/oracle/dense_reference.py --out tests/data
Output is bit-identical from run to run (fixed seeds, one thread, float64).
"""
import argparse, json, math, os, struct
import numpy as np
import torch

torch.set_num_threads(1)  # one thread: reproducible reductions, and the box has 2 cores
DT = torch.float64        # compute in float64 on the stored values upcast; logits cast to f32

CASES = {
    "qwen2-tiny": dict(seed=1234, T=18, dtype="BF16", config=dict(
        architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=256, vocab_size=512, rope_theta=1000000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=True, max_position_embeddings=512, torch_dtype="bfloat16",
        hidden_act="silu", bos_token_id=0, eos_token_id=1, use_sliding_window=False,
        sliding_window=131072, max_window_layers=2, rope_scaling=None, attention_dropout=0.0,
        initializer_range=0.02, use_cache=True, transformers_version="4.45.0")),
    "llama-tiny": dict(seed=5678, T=20, dtype="F16", config=dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=160,
        num_hidden_layers=2, num_attention_heads=5, num_key_value_heads=1, head_dim=32,
        intermediate_size=288, vocab_size=600, rope_theta=500000.0, rms_norm_eps=1e-5,
        tie_word_embeddings=False, max_position_embeddings=4096, torch_dtype="float16",
        hidden_act="silu", bos_token_id=0, eos_token_id=1, attention_bias=False,
        mlp_bias=False, attention_dropout=0.0, pretraining_tp=1, initializer_range=0.02,
        use_cache=True, transformers_version="4.45.0",
        # original_max_position_embeddings=100 (not 8192) so that, with head_dim 32 and
        # theta 5e5, the 16 frequencies fall 2 kept / 2 smoothed / 12 divided; both smoothed
        # ones get a smooth factor well inside (0,1) (0.695, 0.120). 64 would give only 1.
        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                          high_freq_factor=4.0, original_max_position_embeddings=100))),
}


# ---------------------------------------------------------------- storage formats
def round_bf16(a):
    """float32 -> bf16 bit patterns (uint16), round-to-nearest-even on the integer bits."""
    u = a.astype("<f4").view("<u4").astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype("<u2")


def store(a, dtype):
    """Returns (raw little-endian bytes, the stored value upcast to float32)."""
    if dtype == "BF16":
        bits = round_bf16(a)
        return bits.tobytes(), (bits.astype(np.uint32) << 16).view("<f4")
    if dtype == "F16":
        h = a.astype("<f2")  # numpy rounds to nearest even
        return h.tobytes(), h.astype(np.float32)
    f = a.astype("<f4")
    return f.tobytes(), f


def write_safetensors(path, tensors):
    """tensors: name -> (dtype, shape, raw bytes). Sorted by name, data packed with no gaps."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # pad header to a multiple of 8 with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- weights
def make_weights(cfg, dtype, rng):
    """Draw weights (fixed order), store them, return (tensors-to-write, float64 torch dict)."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    tied, qwen = cfg["tie_word_embeddings"], cfg["model_type"] == "qwen2"
    spec = []  # (name, shape, std or "norm")
    # Tied: the embedding is also the output matrix, so give it the lm_head scale
    # (logit std ~2.5); the tiny input embedding is fine because RMSNorm rescales it.
    spec.append(("model.embed_tokens.weight", (V, H), 2.5 / math.sqrt(H) if tied else 1.0))
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        spec += [(p + "input_layernorm.weight", (H,), "norm"),
                 (p + "self_attn.q_proj.weight", (nh * hd, H), 1 / math.sqrt(H)),
                 (p + "self_attn.k_proj.weight", (nkv * hd, H), 1 / math.sqrt(H)),
                 (p + "self_attn.v_proj.weight", (nkv * hd, H), 1 / math.sqrt(H)),
                 (p + "self_attn.o_proj.weight", (H, nh * hd), 1 / math.sqrt(nh * hd))]
        if qwen:  # biases large enough that an engine ignoring them fails clearly
            spec += [(p + "self_attn.q_proj.bias", (nh * hd,), 0.5),
                     (p + "self_attn.k_proj.bias", (nkv * hd,), 0.5),
                     (p + "self_attn.v_proj.bias", (nkv * hd,), 0.5)]
        spec += [(p + "post_attention_layernorm.weight", (H,), "norm"),
                 (p + "mlp.gate_proj.weight", (I, H), 1 / math.sqrt(H)),
                 (p + "mlp.up_proj.weight", (I, H), 1 / math.sqrt(H)),
                 (p + "mlp.down_proj.weight", (H, I), 1 / math.sqrt(I))]
    spec.append(("model.norm.weight", (H,), "norm"))
    if not tied:
        spec.append(("lm_head.weight", (V, H), 2.5 / math.sqrt(H)))
    files, W = {}, {}
    for name, shape, std in spec:
        z = rng.standard_normal(shape)
        a = (1.0 + 0.15 * z if std == "norm" else std * z).astype(np.float32)
        raw, stored = store(a, dtype)
        files[name] = (dtype, shape, raw)
        W[name] = torch.from_numpy(stored.copy()).to(DT)
    return files, W


# ---------------------------------------------------------------- model
def inv_freq(cfg, scaling=True):
    """RoPE inverse frequencies in float32 exactly as HF builds them (incl. llama3 scaling)."""
    hd = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    f = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling")
    regimes = None
    if scaling and rs and rs["rope_type"] == "llama3":  # HF _compute_llama3_parameters
        orig, fac = rs["original_max_position_embeddings"], rs["factor"]
        lo, hi = rs["low_freq_factor"], rs["high_freq_factor"]
        wavelen = 2 * math.pi / f
        smooth = (orig / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * f / fac + smooth * f
        out = torch.where(wavelen > orig / lo, f / fac, f)
        mid = ~(wavelen < orig / hi) & ~(wavelen > orig / lo)
        f = torch.where(mid, smoothed, out)
        regimes = ["div" if w > orig / lo else "keep" if w < orig / hi else "smooth %.3f" % s
                   for w, s in zip(wavelen.tolist(), smooth.tolist())]
    return f.to(DT), regimes


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, freq):
    """NeoX / HF rotate_half layout: element i pairs with i + d/2.  x: [n, heads, d]."""
    ang = pos[:, None].to(DT) * freq[None, :]
    c, s = ang.cos()[:, None, :], ang.sin()[:, None, :]
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def forward(W, cfg, tokens, start, cache, freq, bias=True):
    """Run `tokens` at positions start.. ; appends K/V to `cache` (list of [K, V] per layer)."""
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps = cfg.get("head_dim") or H // nh, cfg["rms_norm_eps"]
    n = len(tokens)
    pos = torch.arange(start, start + n)
    h = W["model.embed_tokens.weight"][torch.tensor(tokens)]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        lin = lambda x, m: x @ W[p + m + ".weight"].T + (
            W[p + m + ".bias"] if bias and p + m + ".bias" in W else 0)
        x = rmsnorm(h, W[p + "input_layernorm.weight"], eps)
        q = rope(lin(x, "self_attn.q_proj").view(n, nh, hd), pos, freq)
        k = rope(lin(x, "self_attn.k_proj").view(n, nkv, hd), pos, freq)
        v = lin(x, "self_attn.v_proj").view(n, nkv, hd)
        if len(cache) <= i:
            cache.append([k[:0], v[:0]])
        cache[i][0] = K = torch.cat([cache[i][0], k])  # [L, nkv, hd], L = start + n
        cache[i][1] = Vc = torch.cat([cache[i][1], v])
        K, Vc = (t.repeat_interleave(nh // nkv, dim=1) for t in (K, Vc))  # q head h -> kv h//g
        s = torch.einsum("qhd,khd->hqk", q, K) / math.sqrt(hd)
        causal = torch.arange(K.shape[0])[None, :] > pos[:, None]  # key pos > query pos
        a = torch.softmax(s.masked_fill(causal, float("-inf")), dim=-1)
        o = torch.einsum("hqk,khd->qhd", a, Vc).reshape(n, nh * hd)
        h = h + lin(o, "self_attn.o_proj")
        x = rmsnorm(h, W[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(lin(x, "mlp.gate_proj"))
        h = h + lin(g * lin(x, "mlp.up_proj"), "mlp.down_proj")
    h = rmsnorm(h, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight" if cfg["tie_word_embeddings"] else "lm_head.weight"]
    return h @ head.T


def prefill(W, cfg, tokens, freq, **kw):
    return forward(W, cfg, tokens, 0, [], freq, **kw)


def prefill_then_decode(W, cfg, tokens, freq):
    half, cache = len(tokens) // 2, []
    rows = [forward(W, cfg, tokens[:half], 0, cache, freq)]
    for p in range(half, len(tokens)):
        rows.append(forward(W, cfg, tokens[p:p + 1], p, cache, freq))
    return torch.cat(rows)


# ---------------------------------------------------------------- driver
def run_case(name, case, outdir):
    cfg, T = case["config"], case["T"]
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(case["seed"])
    files, W = make_weights(cfg, case["dtype"], rng)
    tokens = [int(t) for t in rng.integers(0, cfg["vocab_size"], T)]
    freq, regimes = inv_freq(cfg)

    full = prefill(W, cfg, tokens, freq).float()
    dec = prefill_then_decode(W, cfg, tokens, freq).float()

    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), files)
    with open(os.path.join(d, "tokens.json"), "w") as f:
        f.write(json.dumps(tokens) + "\n")
    full.numpy().astype("<f4").tofile(os.path.join(d, "logits.f32"))
    dec.numpy().astype("<f4").tofile(os.path.join(d, "logits_decode.f32"))

    # Measurements for the README (and to show the case is a useful test).
    top1 = torch.softmax(full.double(), -1).max(-1).values
    st = {"max |logit|": full.abs().max().item(), "logits std": full.std().item(),
          "top-1 prob min/mean/max": "%.3f / %.3f / %.3f" % (
              top1.min().item(), top1.mean().item(), top1.max().item()),
          "min top-1 minus top-2 logit gap": (lambda t: (t[:, 0] - t[:, 1]).min().item())(
              full.topk(2, -1).values),
          "max |prefill - decode|": (full - dec).abs().max().item()}
    # How far a plain float32 run of this same oracle lands: a floor for engine tolerance.
    W32 = {k: v.float() for k, v in W.items()}
    global DT
    DT, saved = torch.float32, DT
    f32 = prefill(W32, cfg, tokens, freq.float()).float()
    DT = saved
    st["max |float32 oracle - float64 oracle|"] = (f32 - full).abs().max().item()
    if cfg["model_type"] == "qwen2":
        st["max |logits - logits without q/k/v biases|"] = (
            prefill(W, cfg, tokens, freq, bias=False).float() - full).abs().max().item()
    if regimes:
        st["llama3 regimes per frequency (i=0..)"] = ", ".join(regimes)
        st["llama3 regime counts"] = {r: sum(x.startswith(r) for x in regimes)
                                      for r in ("keep", "smooth", "div")}
        plain, _ = inv_freq(cfg, scaling=False)
        diff = (prefill(W, cfg, tokens, plain).float() - full).abs().max().item()
        st["max |logits - logits without rope scaling|"] = diff
        assert all(st["llama3 regime counts"][r] >= 2 for r in ("keep", "smooth", "div"))
        assert diff > 0.1, "rope scaling must change the logits noticeably"
    print(f"== {name}")
    for k, v in st.items():
        print(f"  {k}: {v}")
    write_readme(d, name, case, st)


def fmt(v):
    return "%.6g" % v if isinstance(v, float) else str(v)


def write_readme(d, name, case, st):
    cfg, T = case["config"], case["T"]
    extra = {"qwen2": "- q/k/v projection biases (o_proj has none); tied embeddings "
                      "(no lm_head.weight, logits use model.embed_tokens.weight)\n",
             "llama": "- llama3 rope scaling with original_max_position_embeddings "
                      "shrunk to %d so all three frequency regimes (kept / smoothed / "
                      "divided by factor) occur at head_dim 32; explicit head_dim; "
                      "separate lm_head.weight; MQA (1 kv head)\n"
                      % (cfg.get("rope_scaling") or {}).get("original_max_position_embeddings", 0)}
    lines = [f"# {name}", "",
             "Generated by `tests/oracle/dense_reference.py` (run `/usr/bin/python3 "
             "tests/oracle/dense_reference.py --out tests/data` from the repo root; output is "
             "bit-identical on rerun). Weights are random (numpy PCG64 seed %d), stored as %s; "
             "the oracle computes in float64 on exactly the stored values and writes float32 "
             "logits." % (case["seed"], case["dtype"]), "",
             "Files:", "",
             "- `config.json`, `model.safetensors`: Hugging Face style checkpoint",
             f"- `tokens.json`: {T} random token ids, positions 0..{T - 1}",
             f"- `logits.f32`: one prefill of all tokens, [{T}, {cfg['vocab_size']}] "
             "little-endian float32, row-major",
             f"- `logits_decode.f32`: same shape; rows 0..{T // 2 - 1} from a prefill of the "
             f"first {T // 2} tokens, then rows {T // 2}..{T - 1} from single-token steps "
             "through a KV cache at position p", "",
             "Exercises:", "",
             f"- {cfg['model_type']} dense decoder, {cfg['num_hidden_layers']} layers, hidden "
             f"{cfg['hidden_size']}, {cfg['num_attention_heads']} q heads / "
             f"{cfg['num_key_value_heads']} kv heads (GQA), RMSNorm eps {cfg['rms_norm_eps']}, "
             f"SwiGLU MLP {cfg['intermediate_size']}, NeoX-layout RoPE theta {cfg['rope_theta']}",
             f"- {case['dtype']} weight loading and upcast",
             extra[cfg["model_type"]].rstrip("\n"),
             "- KV cache decode path vs prefill path", "",
             "Measurements (from the generating run; prefill vs decode is 0 because the float64 "
             "oracle's two paths agree to well below float32 rounding):", ""]
    lines += [f"- {k}: {fmt(v)}" for k, v in st.items()]
    lines += ["", "Tolerance: an engine computing in float32 on the upcast weights should match "
              "both logit files to max abs error <= 2e-3 (the float32 oracle itself lands "
              "within the figure above) and pick the same argmax in every row. "
              "An engine with lower-precision activations needs a looser bound "
              "(e.g. 5e-2) and argmax agreement on rows whose top-2 gap exceeds it.", ""]
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/data")
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    args = ap.parse_args()
    for name in args.case or list(CASES):
        run_case(name, CASES[name], args.out)


if __name__ == "__main__":
    main()

#include "model/init.h"

#include "core/error.h"
#include "core/staged_directory.h"
#include "core/text_file.h"
#include "formats/safetensors.h"
#include "model/config.h"
#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace mariana {


namespace {

uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t name_key(uint64_t seed, const std::string& name)
{
    uint64_t h = splitmix64(seed);
    for (char ch : name) h = splitmix64(h ^ uint8_t(ch));
    return h;
}

// Counter-based draws: element i of a tensor depends only on (seed, name, i), so any
// split of the work across threads gives the same checkpoint.
float uniform01(uint64_t key, int64_t i) { return (float(splitmix64(key + uint64_t(i)) >> 40) + 0.5f) / 16777216.0f; }

float normal(uint64_t key, int64_t i)
{
    const uint64_t bits = splitmix64(key ^ (uint64_t(i) * 0xd1b54a32d192ed03ull));
    const float u1 = (float(bits >> 40) + 0.5f) / 16777216.0f;
    const float u2 = float((bits >> 16) & 0xffffff) / 16777216.0f;
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(2.0f * std::numbers::pi_v<float> * u2);
}

struct Draw {
    enum Kind { normal, uniform, constant } kind;
    float a;  // std, bound, or the constant
};

Draw draw_for(TensorRole role, const ModelConfig& c, double initializer_range)
{
    switch (role) {
    case TensorRole::embedding:
    case TensorRole::linear:
    case TensorRole::lm_head: return {Draw::normal, float(initializer_range)};
    case TensorRole::router: return {Draw::uniform, float(1.0 / std::sqrt(double(c.hidden_size)))};
    case TensorRole::norm: return {Draw::constant, 1.0f};
    case TensorRole::bias:
    case TensorRole::correction_bias: return {Draw::constant, 0.0f};
    }
    return {Draw::constant, 0.0f};
}

float value(const Draw& d, uint64_t key, int64_t i)
{
    switch (d.kind) {
    case Draw::normal: return d.a * normal(key, i);
    case Draw::uniform: return d.a * (2.0f * uniform01(key, i) - 1.0f);
    case Draw::constant: return d.a;
    }
    return 0.0f;
}

struct PlannedTensor {
    TensorSpec spec;
    Draw draw;
    std::string source;  // for a block-scale tensor: the fp8 weight it belongs to
    std::string draws_of;  // whose random draws it takes: its own, or those of the tensor it copies
};

void fill_plain(const PlannedTensor& t, uint64_t seed, std::span<std::byte> out, ThreadPool& pool)
{
    const uint64_t key = name_key(seed, t.draws_of);
    const int64_t n = int64_t(out.size()) / dtype_size(t.spec.dtype);
    pool.parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const float v = value(t.draw, key, i);
            if (t.spec.dtype == DType::f32) std::memcpy(out.data() + i * 4, &v, 4);
            else {
                const uint16_t h = t.spec.dtype == DType::bf16 ? f32_to_bf16(v) : f32_to_f16(v);
                std::memcpy(out.data() + i * 2, &h, 2);
            }
        }
    });
}

// Quantises the weight's float draws per 128×128 block: scale = amax / 448, codes rounded
// to nearest even. Fills either the codes or the scales, recomputing the same draws.
void fill_fp8(const PlannedTensor& weight, uint64_t seed, bool scales, std::span<std::byte> out, ThreadPool& pool)
{
    const uint64_t key = name_key(seed, weight.draws_of);
    const int64_t rows = weight.spec.shape[0], cols = weight.spec.shape[1];
    const int64_t block_rows = (rows + kFp8BlockSize - 1) / kFp8BlockSize, block_cols = (cols + kFp8BlockSize - 1) / kFp8BlockSize;
    pool.parallel_for(block_rows * block_cols, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> block(static_cast<size_t>(kFp8BlockSize * kFp8BlockSize));
        for (int64_t b = begin; b < end; ++b) {
            const int64_t r0 = b / block_cols * kFp8BlockSize, c0 = b % block_cols * kFp8BlockSize;
            const int64_t nr = std::min(kFp8BlockSize, rows - r0), nc = std::min(kFp8BlockSize, cols - c0);
            float amax = 0.0f;
            for (int64_t r = 0; r < nr; ++r)
                for (int64_t c = 0; c < nc; ++c) {
                    const float v = value(weight.draw, key, (r0 + r) * cols + c0 + c);
                    block[size_t(r * nc + c)] = v;
                    amax = std::max(amax, std::fabs(v));
                }
            const float scale = amax > 0.0f ? amax / 448.0f : 1.0f;
            if (scales) {
                std::memcpy(out.data() + b * 4, &scale, 4);
                continue;
            }
            for (int64_t r = 0; r < nr; ++r)
                for (int64_t c = 0; c < nc; ++c)
                    out[size_t((r0 + r) * cols + c0 + c)] = std::byte(f32_to_fp8_e4m3(block[size_t(r * nc + c)] / scale));
        }
    });
}

std::vector<PlannedTensor> plan(const ModelConfig& c, double initializer_range, DType dtype)
{
    std::vector<PlannedTensor> planned;
    for (const TensorDecl& decl : declared_tensors(c)) {
        const Draw draw = draw_for(decl.role, c, initializer_range);
        DType stored = dtype == DType::f32 ? DType::f32 : DType::bf16;
        if (decl.role == TensorRole::correction_bias) stored = DType::f32;  // as V3 ships it
        if (decl.role == TensorRole::linear && dtype == DType::f8_e4m3) {
            stored = DType::f8_e4m3;
            const std::string stem = decl.name.substr(0, decl.name.size() - std::string(".weight").size());
            const std::vector<int64_t> scale_shape = {(decl.shape[0] + kFp8BlockSize - 1) / kFp8BlockSize,
                                                      (decl.shape[1] + kFp8BlockSize - 1) / kFp8BlockSize};
            planned.push_back({{stem + ".weight_scale_inv", DType::f32, scale_shape}, draw, decl.name, decl.name});
        }
        planned.push_back({{decl.name, stored, decl.shape}, draw, "", decl.same_as.empty() ? decl.name : decl.same_as});
    }
    std::sort(planned.begin(), planned.end(), [](auto& a, auto& b) { return a.spec.name < b.spec.name; });
    return planned;
}

int64_t bytes_of(const TensorSpec& spec)
{
    int64_t n = dtype_size(spec.dtype);
    for (int64_t d : spec.shape) n *= d;
    return n;
}

}  // namespace

void write_random_checkpoint(const Json& config_json, const std::string& out_dir, const InitOptions& options,
                             ThreadPool& pool)
{
    if (options.dtype == DType::f16) fail("--dtype: f16 is not offered; use bf16, f32 or fp8");
    Json config = config_json;
    config.erase("quantization_config");
    if (options.dtype == DType::f8_e4m3)
        config["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                                         {"weight_block_size", {kFp8BlockSize, kFp8BlockSize}}};
    config["torch_dtype"] = options.dtype == DType::f32 ? "float32" : "bfloat16";
    const ModelConfig c = parse_model_config(config, options.config_source);
    const double initializer_range = JsonFields(config, options.config_source).number_or("initializer_range", 0.02);
    if (!(initializer_range > 0)) fail("{}: field 'initializer_range' must be positive", options.config_source);

    StagedDirectory out(out_dir);
    const std::string& staging = out.path();

    const std::vector<PlannedTensor> planned = plan(c, initializer_range, options.dtype);
    std::map<std::string, const PlannedTensor*> by_name;
    for (const auto& t : planned) by_name[t.spec.name] = &t;

    // Greedy sharding in name order, as HF's save_pretrained does.
    std::vector<std::vector<const PlannedTensor*>> shards(1);
    int64_t shard_bytes = 0;
    for (const auto& t : planned) {
        const int64_t bytes = bytes_of(t.spec);
        if (!shards.back().empty() && shard_bytes + bytes > options.max_shard_bytes) {
            shards.emplace_back();
            shard_bytes = 0;
        }
        shards.back().push_back(&t);
        shard_bytes += bytes;
    }
    Json weight_map = Json::object();
    for (size_t s = 0; s < shards.size(); ++s) {
        const std::string file = shards.size() == 1
                                     ? "model.safetensors"
                                     : fmt::format("model-{:05d}-of-{:05d}.safetensors", s + 1, shards.size());
        std::vector<TensorSpec> specs;
        for (const PlannedTensor* t : shards[s]) {
            specs.push_back(t->spec);
            weight_map[t->spec.name] = file;
        }
        write_safetensors(staging + "/" + file, specs, [&](const TensorSpec& spec, std::span<std::byte> out) {
            const PlannedTensor& t = *by_name.at(spec.name);
            if (!t.source.empty()) fill_fp8(*by_name.at(t.source), options.seed, true, out, pool);
            else if (t.spec.dtype == DType::f8_e4m3) fill_fp8(t, options.seed, false, out, pool);
            else fill_plain(t, options.seed, out, pool);
        });
    }
    auto write_json = [&](const std::string& name, const Json& json) {
        write_text_file(staging + "/" + name, json.dump(2) + "\n");
    };
    if (shards.size() > 1) {
        int64_t total = 0;
        for (const auto& t : planned) total += bytes_of(t.spec);
        write_json("model.safetensors.index.json", {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}});
    }
    write_json("config.json", config);
    out.commit();
}

}  // namespace mariana

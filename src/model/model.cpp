#include "model/model.h"

#include "core/error.h"
#include "formats/checkpoint.h"
#include "model/declared_weights.h"
#include "model/decoder_model.h"

#include <set>

namespace mariana {

void Model::validate_batch(std::span<const SequenceChunk> batch, const KvCache& cache) const
{
    std::set<int32_t> written;  // pages the batch writes rows to
    const int64_t P = cache.page_rows();
    for (const SequenceChunk& chunk : batch) {
        if (chunk.tokens.empty()) fail("a sequence chunk has no tokens");
        const int64_t end = chunk.start_pos + int64_t(chunk.tokens.size());
        if (chunk.start_pos < 0) fail("start position {} is negative", chunk.start_pos);
        if (end > config_.max_position_embeddings)
            fail("sequence of {} tokens is longer than max_position_embeddings ({})", end, config_.max_position_embeddings);
        if (end > int64_t(chunk.pages.size()) * P)
            fail("sequence of {} tokens does not fit its {} KV cache pages of {} positions", end, chunk.pages.size(), P);
        for (size_t i = 0; i < size_t((end + P - 1) / P); ++i) {
            const int32_t page = chunk.pages[i];
            if (page < 0 || page >= cache.n_pages()) fail("KV cache page {} is outside the cache's {} pages", page, cache.n_pages());
            if (int64_t(i) >= chunk.start_pos / P && !written.insert(page).second)
                fail("KV cache page {} is written by two sequences of one batch", page);
        }
        for (int32_t token : chunk.tokens)
            if (token < 0 || token >= config_.vocab_size)
                fail("token id {} is out of range: vocab_size is {}", token, config_.vocab_size);
    }
}

std::unique_ptr<Model> build_model(ModelConfig config, std::shared_ptr<const TensorSource> source)
{
    return std::make_unique<DecoderModel>(std::move(config), std::move(source));
}

std::unique_ptr<Model> load_model(const std::string& dir)
{
    auto checkpoint = std::make_shared<const Checkpoint>(Checkpoint::open(dir));
    ModelConfig config = parse_model_config(checkpoint->config(), checkpoint->config_path());
    return build_model(std::move(config), std::move(checkpoint));
}

void visit_declared_tensors(const ModelConfig& config, const TensorVisitor& visit)
{
    DeclaredWeights weights;
    declare_weights(config, weights, visit);
}

std::vector<TensorDecl> declared_tensors(const ModelConfig& config)
{
    std::vector<TensorDecl> decls;
    visit_declared_tensors(config, [&](const TensorDecl& decl) {
        TensorDecl copy = decl;
        copy.matrix = nullptr;
        copy.vector = nullptr;
        decls.push_back(std::move(copy));
    });
    return decls;
}

}  // namespace mariana

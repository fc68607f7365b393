#include "kernels/attention.h"

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/gemm.h"
#include "kernels/matmul.h"
#include "kernels/prefetch.h"
#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mariana {

namespace {

// Causal softmax of row i: raw scores q·k in row[0, i] become the probabilities of
// scale · q·k. Returns the row's lse, log Σ_j exp(scale · q·k_j). scale > 0.
template <typename T>
T softmax_row(T* row, int64_t i, T scale)
{
    const T max = scale * max_of(row, i + 1);
    const T sum = exp_affine(row, scale, -max, i + 1, row);
    const T inv = T(1) / sum;
    for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
    return max + std::log(sum);
}

// The same probabilities from raw scores and a saved lse: exp(scale · q·k - lse).
template <typename T>
void probabilities_from_lse(T* row, int64_t i, T scale, T lse)
{
    exp_affine(row, scale, -lse, i + 1, row);
}

// The double loops (gradient checks): every product a plain sum in index order.
template <typename T>
void attention_forward_loops(const T* q, const T* k, const T* v, const AttentionShape& s, T* lse, T* out,
                             ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads, past = s.past;
    const int64_t qs = s.heads * s.dk, os = s.heads * s.dv;
    const int64_t ks = s.k_stride ? s.k_stride : s.kv_heads * s.dk, vs = s.v_stride ? s.v_stride : s.kv_heads * s.dv;
    pool.parallel_for(s.heads, 1, [&](int64_t h0, int64_t h1) {
        std::vector<T> p(static_cast<size_t>(past + n));
        for (int64_t h = h0; h < h1; ++h) {
            const int64_t kvh = h / group;
            for (int64_t i = 0; i < n; ++i) {
                const int64_t last = past + i;  // the query's position: it sees keys [0, last]
                for (int64_t j = 0; j <= last; ++j)
                    p[size_t(j)] = sum_of_products(q + i * qs + h * s.dk, k + j * ks + kvh * s.dk, s.dk);
                lse[h * n + i] = softmax_row(p.data(), last, T(s.scale));
                T* o = out + i * os + h * s.dv;
                std::fill(o, o + s.dv, T(0));
                for (int64_t j = 0; j <= last; ++j)
                    for (int64_t d = 0; d < s.dv; ++d) o[d] += p[size_t(j)] * v[j * vs + kvh * s.dv + d];
            }
        }
    });
}

template <typename T>
void attention_backward_loops(const T* q, const T* k, const T* v, const T* lse, const T* dout, const AttentionShape& s,
                              T* dq, T* dk, T* dv, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.kv_heads, 1, [&](int64_t g0, int64_t g1) {
        std::vector<T> p(static_cast<size_t>(n)), dscore(static_cast<size_t>(n));
        for (int64_t kvh = g0; kvh < g1; ++kvh)
            for (int64_t i = 0; i < n; ++i) {
                std::fill_n(dq + i * qs + kvh * group * s.dk, group * s.dk, T(0));
                std::fill_n(dk + i * ks + kvh * s.dk, s.dk, T(0));
                std::fill_n(dv + i * vs + kvh * s.dv, s.dv, T(0));
            }
        for (int64_t kvh = g0; kvh < g1; ++kvh)
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h)
                for (int64_t i = 0; i < n; ++i) {
                    const T* qi = q + i * qs + h * s.dk;
                    const T* doi = dout + i * os + h * s.dv;
                    for (int64_t j = 0; j <= i; ++j) p[size_t(j)] = sum_of_products(qi, k + j * ks + kvh * s.dk, s.dk);
                    probabilities_from_lse(p.data(), i, T(s.scale), lse[h * n + i]);
                    // dP[j] = dO_i · v_j; dS = P ⊙ (dP - Σ P ⊙ dP).
                    T weighted = 0;
                    for (int64_t j = 0; j <= i; ++j) {
                        dscore[size_t(j)] = sum_of_products(doi, v + j * vs + kvh * s.dv, s.dv);
                        weighted += p[size_t(j)] * dscore[size_t(j)];
                        T* dvj = dv + j * vs + kvh * s.dv;
                        for (int64_t d = 0; d < s.dv; ++d) dvj[d] += p[size_t(j)] * doi[d];
                    }
                    T* dqi = dq + i * qs + h * s.dk;
                    for (int64_t j = 0; j <= i; ++j) {
                        const T g = p[size_t(j)] * (dscore[size_t(j)] - weighted) * T(s.scale);
                        const T* kj = k + j * ks + kvh * s.dk;
                        T* dkj = dk + j * ks + kvh * s.dk;
                        for (int64_t d = 0; d < s.dk; ++d) {
                            dqi[d] += g * kj[d];
                            dkj[d] += g * qi[d];
                        }
                    }
                }
    });
}

}  // namespace

// float: each head's products as GEMMs over strided views of the token-major rows, in
// causal blocks of kBlock rows: rows [i0, i1) see keys [0, i1) only, so the products skip
// most of the masked half of the T × T scores. Each head's keys and values are packed for
// the GEMM once (PackedB) and read by every block, and in the backward so are its queries
// and output gradients. The probabilities P and score gradients dS, which the loops over a
// row write, are written as the words the next products read (WordsView), so they are
// never packed: in float32 the rows themselves, read by rows or, for the products summing
// over queries, by columns; in bf16 rounded pairs along keys (P·V, dS·K) and across pairs
// of rows (Pᵀ·dO, dSᵀ·Q). Scores and probabilities live in per-thread scratch.
constexpr int64_t kBlock = 48;  // a multiple of the GEMM tile's 12 rows, and even
// The backward keeps P and dS of this many query rows at a time (a multiple of kBlock, so
// key blocks never straddle two passes, and even, for bf16's pairs of rows): memory linear
// in the sequence length, and one pass, as before, up to 288 tokens.
constexpr int64_t kRowsPerPass = 6 * kBlock;

namespace {

// Slices of token-major rows that a head reads: a short run in every row, which the
// hardware does not prefetch, so packing them waits on memory row after row. The next
// head's slices are brought into L2 a block at a time while this head computes (and the
// first head's before it starts).
class SlicesAhead {
public:
    explicit SlicesAhead(int64_t blocks) : blocks_(blocks) {}
    // A slice `width` floats wide at base, `rows` rows `stride` apart (four at most).
    void add(const float* base, int64_t rows, int64_t stride, int64_t width)
    {
        slices_[count_++] = Prefetch(base, rows, stride, width);
    }
    void issue_all()
    {
        for (int i = 0; i < count_; ++i) slices_[i].issue_all();
    }
    // A block's share of every slice.
    void issue_block()
    {
        for (int i = 0; i < count_; ++i) slices_[i].issue((slices_[i].lines() + blocks_ - 1) / blocks_);
    }

private:
    int64_t blocks_;
    Prefetch slices_[4];
    int count_ = 0;
};

// Consecutive items (heads of the batch) per parallel chunk: a thread prefetches the item
// after the one it works on, so chunks are a few items long, and there are enough of them
// for the threads to finish together.
int64_t items_per_chunk(int64_t items, const ThreadPool& pool)
{
    return std::clamp<int64_t>(items / (4 * pool.size()), 1, 8);
}

}  // namespace

template <>
void attention_forward<float>(const float* q, const float* k, const float* v, const AttentionShape& s, float* lse,
                              float* out, ThreadPool& pool)
{
    MARIANA_CHECK((s.past == 0 && s.k_stride == 0 && s.v_stride == 0) || s.sequences == 1,
                  "attention over cached keys runs one sequence, not {}", s.sequences);
    const int64_t n = s.tokens, past = s.past, keys = past + n, group = s.heads / s.kv_heads;
    const int64_t heads = s.sequences * s.heads;
    const int64_t qs = s.heads * s.dk, os = s.heads * s.dv;
    const int64_t ks = s.k_stride ? s.k_stride : s.kv_heads * s.dk, vs = s.v_stride ? s.v_stride : s.kv_heads * s.dv;
    const int k_step = gemm_k_step(s.precision);
    const int64_t row_words = (keys + k_step - 1) / k_step, blocks = (n + kBlock - 1) / kBlock;
    // Head `item` of the batch: head item % heads of sequence item / heads, whose rows follow
    // the sequences before it.
    auto slices_of = [&](int64_t item) {
        const int64_t b = item / s.heads, h = item % s.heads;
        SlicesAhead slices(blocks);
        slices.add(q + b * n * qs + h * s.dk, n, qs, s.dk);
        slices.add(k + b * keys * ks + h / group * s.dk, keys, ks, s.dk);
        slices.add(v + b * keys * vs + h / group * s.dv, keys, vs, s.dv);
        return slices;
    };
    pool.parallel_for(heads, items_per_chunk(heads, pool), [&](int64_t first, int64_t past_item) {
        thread_local std::vector<float> scores, words;  // a block's scores, and bf16: its P's words
        thread_local PackedB keys_t, values;  // Kᵀ and V, packed once for all blocks
        scores.resize(size_t(kBlock * keys));
        if (k_step > 1) words.resize(size_t(kBlock * row_words));
        float* p = scores.data();
        const WordsView probabilities = k_step == 1 ? WordsView{p, keys, 1} : WordsView{words.data(), row_words, 1};
        slices_of(first).issue_all();
        for (int64_t item = first; item < past_item; ++item) {
            const int64_t b = item / s.heads, h = item % s.heads, kvh = h / group;
            const float *qb = q + b * n * qs, *kb = k + b * keys * ks, *vb = v + b * keys * vs;
            float *lb = lse + b * s.heads * n, *ob = out + b * n * os;
            SlicesAhead next = item + 1 < heads ? slices_of(item + 1) : SlicesAhead(blocks);
            keys_t.pack(s.dk, keys, {kb + kvh * s.dk, 1, ks}, s.precision);
            values.pack(keys, s.dv, {vb + kvh * s.dv, vs, 1}, s.precision);
            // Query rows [i0, i1) sit at positions past + i and see keys [0, past + i1).
            for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
                const int64_t i1 = std::min(n, i0 + kBlock), rows = i1 - i0, seen = past + i1;
                next.issue_block();
                gemm_serial(rows, seen, s.dk, {qb + i0 * qs + h * s.dk, qs, 1}, keys_t, p, keys, false, 0,
                            {Causal::lower_c, past + i0});
                for (int64_t i = i0; i < i1; ++i) {
                    float* row = p + (i - i0) * keys;
                    lb[h * n + i] = softmax_row(row, past + i, float(s.scale));
                    std::fill(row + past + i + 1, row + seen, 0.0f);
                    if (k_step > 1) gemm_words_along(row, seen, words.data() + (i - i0) * row_words, s.precision);
                }
                gemm_serial_words(rows, s.dv, seen, probabilities, values, ob + i0 * os + h * s.dv, os, false, 0,
                                  {Causal::lower_a, past + i0});
            }
        }
    });
}

void attention_decode(const float* q, const PagedRows& k, const PagedRows& v, const AttentionShape& s, float* out,
                      ThreadPool& pool)
{
    MARIANA_CHECK(s.tokens == 1 && s.sequences == 1, "decoding attends one query of one sequence");
    const int64_t keys = s.past + 1, group = s.heads / s.kv_heads;
    pool.parallel_for(s.heads, 1, [&](int64_t h0, int64_t h1) {
        std::vector<float> scores(static_cast<size_t>(keys));
        for (int64_t h = h0; h < h1; ++h) {
            const int64_t kv_head = h / group;
            const float* qh = q + h * s.dk;
            for (int64_t j = 0; j < keys; ++j) scores[size_t(j)] = dot(qh, k.row(j) + kv_head * s.dk, s.dk) * float(s.scale);
            softmax(scores.data(), keys);
            float* o = out + h * s.dv;
            std::fill_n(o, s.dv, 0.0f);
            for (int64_t j = 0; j < keys; ++j) axpy(o, scores[size_t(j)], v.row(j) + kv_head * s.dv, s.dv);
        }
    });
}

template <>
void attention_backward<float>(const float* q, const float* k, const float* v, const float* lse, const float* dout,
                               const AttentionShape& s, float* dq, float* dk, float* dv, ThreadPool& pool)
{
    MARIANA_CHECK(s.past == 0 && s.k_stride == 0 && s.v_stride == 0, "the attention backward reads packed rows");
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    const int64_t heads = s.sequences * s.heads, kv_heads = s.sequences * s.kv_heads;
    const int k_step = gemm_k_step(s.precision);
    const bool bf16 = k_step > 1;
    // Query rows go in passes of kRowsPerPass: a row pass, then a column pass that adds those
    // rows' share of dK and dV. float32: P and dS of a pass's rows, [pass, n] each, which the
    // column pass reads as they are. bf16: P and dS of one block of rows; dS's words along keys
    // for that block; and P's and dS's words across pairs of the pass's rows, [pass / 2, n]
    // each, for the column pass.
    const int64_t pass_rows = std::min(n, kRowsPerPass);
    const int64_t rows_kept = bf16 ? kBlock : pass_rows, row_words = (n + k_step - 1) / k_step;
    const int64_t pairs = (pass_rows + 1) / 2;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    // Head `item` of the batch (as in the forward): its queries and output gradients, and
    // with its group's first head its keys and values.
    auto slices_of = [&](int64_t item) {
        const int64_t b = item / s.heads, h = item % s.heads;
        SlicesAhead slices(blocks);
        slices.add(q + b * n * qs + h * s.dk, n, qs, s.dk);
        slices.add(dout + b * n * os + h * s.dv, n, os, s.dv);
        if (h % group == 0) {
            slices.add(k + b * n * ks + h / group * s.dk, n, ks, s.dk);
            slices.add(v + b * n * vs + h / group * s.dv, n, vs, s.dv);
        }
        return slices;
    };
    // Items are the batch's key/value heads, each with its group's heads, so that no two
    // threads share a row of dK or dV.
    pool.parallel_for(kv_heads, items_per_chunk(kv_heads, pool), [&](int64_t first, int64_t past) {
        thread_local std::vector<float> scratch;
        thread_local PackedB keys_t, values_t, keys, queries, douts;  // Kᵀ, Vᵀ, K, Q and dO, packed once
        scratch.resize(size_t(2 * rows_kept * n + (bf16 ? kBlock * row_words + 2 * pairs * n : 0)));
        float* const p = scratch.data();
        float* const dscore = p + rows_kept * n;
        float* const dscore_along = dscore + rows_kept * n;
        float* const p_across = dscore_along + kBlock * row_words;
        float* const dscore_across = p_across + pairs * n;
        slices_of(first * group).issue_all();
        for (int64_t item = first; item < past; ++item) {
            const int64_t b = item / s.kv_heads, kvh = item % s.kv_heads;
            const float *qb = q + b * n * qs, *kb = k + b * n * ks, *vb = v + b * n * vs, *lb = lse + b * s.heads * n;
            const float* db_out = dout + b * n * os;
            float *dqb = dq + b * n * qs, *dkb = dk + b * n * ks, *dvb = dv + b * n * vs;
            keys_t.pack(s.dk, n, {kb + kvh * s.dk, 1, ks}, s.precision);
            values_t.pack(s.dv, n, {vb + kvh * s.dv, 1, vs}, s.precision);
            keys.pack(n, s.dk, {kb + kvh * s.dk, ks, 1}, s.precision);
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
                const int64_t next_head = b * s.heads + h + 1;
                SlicesAhead next = next_head < heads ? slices_of(next_head) : SlicesAhead(blocks);
                queries.pack(n, s.dk, {qb + h * s.dk, qs, 1}, s.precision);
                douts.pack(n, s.dv, {db_out + h * s.dv, os, 1}, s.precision);
                for (int64_t r0 = 0; r0 < n; r0 += kRowsPerPass) {
                    const int64_t r1 = std::min(n, r0 + kRowsPerPass);
                    // By row blocks: P again from Q·Kᵀ and the saved lse; dP = dO·Vᵀ;
                    // dS = P ⊙ (dP - Σ_j P ⊙ dP) · scale; dQ = dS·K. Entries of a block's rows
                    // past the diagonal are zero, up to i1; none past i1 is read below.
                    for (int64_t i0 = r0; i0 < r1; i0 += kBlock) {
                        const int64_t i1 = std::min(r1, i0 + kBlock), rows = i1 - i0;
                        next.issue_block();
                        float* pb = bf16 ? p : p + (i0 - r0) * n;
                        float* db = bf16 ? dscore : dscore + (i0 - r0) * n;
                        gemm_serial(rows, i1, s.dk, {qb + i0 * qs + h * s.dk, qs, 1}, keys_t, pb, n, false, 0,
                                    {Causal::lower_c, i0});
                        gemm_serial(rows, i1, s.dv, {db_out + i0 * os + h * s.dv, os, 1}, values_t, db, n, false, 0,
                                    {Causal::lower_c, i0});
                        for (int64_t i = i0; i < i1; ++i) {
                            float* pi = pb + (i - i0) * n;
                            float* d = db + (i - i0) * n;
                            probabilities_from_lse(pi, i, float(s.scale), lb[h * n + i]);
                            const float weighted = sum_of_products(pi, d, i + 1);
                            for (int64_t j = 0; j <= i; ++j) d[j] = pi[j] * (d[j] - weighted) * float(s.scale);
                            std::fill(pi + i + 1, pi + i1, 0.0f);
                            std::fill(d + i + 1, d + i1, 0.0f);
                            if (!bf16) continue;
                            gemm_words_along(d, i1, dscore_along + (i - i0) * row_words, s.precision);
                            if ((i - i0) % 2 == 0 && i + 1 < i1) continue;  // its pair's second row is next
                            const int64_t even = i - (i - i0) % 2, odd = even + 1;  // i0 is even
                            const int64_t at = (even - r0) / 2 * n;
                            gemm_words_across(pb + (even - i0) * n, odd < i1 ? pb + (odd - i0) * n : nullptr, i1,
                                              p_across + at);
                            gemm_words_across(db + (even - i0) * n, odd < i1 ? db + (odd - i0) * n : nullptr, i1,
                                              dscore_across + at);
                        }
                        const WordsView ds = bf16 ? WordsView{dscore_along, row_words, 1} : WordsView{db, n, 1};
                        gemm_serial_words(rows, s.dk, i1, ds, keys, dqb + i0 * qs + h * s.dk, qs, false, 0,
                                          {Causal::lower_a, i0});
                    }
                    // By column blocks: the pass's rows [r0, r1) see keys [0, r1), key j from row
                    // max(j, r0) on. dK += dSᵀ·Q, dV += Pᵀ·dO over those rows, summed over the
                    // heads of the group and the passes (the first head's first pass that
                    // reaches a key block, the one holding its row j0, overwrites).
                    for (int64_t j0 = 0; j0 < r1; j0 += kBlock) {
                        const int64_t j1 = std::min(r1, j0 + kBlock), cols = j1 - j0;
                        const int64_t q0 = std::max(j0, r0), seen = r1 - q0;  // the rows that see the block
                        const bool add = h > kvh * group || j0 < r0;
                        const int64_t at = (q0 - r0) / 2 * n + j0;  // bf16: q0 - r0 is even
                        const WordsView ds_t = bf16 ? WordsView{dscore_across + at, 1, n}
                                                    : WordsView{dscore + (q0 - r0) * n + j0, 1, n};
                        const WordsView p_t = bf16 ? WordsView{p_across + at, 1, n}
                                                   : WordsView{p + (q0 - r0) * n + j0, 1, n};
                        // Element (key j0 + c, row q0 + t) is zero where q0 + t < j0 + c.
                        const Causal causal{Causal::upper_a, j0 - q0};
                        gemm_serial_words(cols, s.dk, seen, ds_t, queries, dkb + j0 * ks + kvh * s.dk, ks, add, q0,
                                          causal);
                        gemm_serial_words(cols, s.dv, seen, p_t, douts, dvb + j0 * vs + kvh * s.dv, vs, add, q0,
                                          causal);
                    }
                }
            }
        }
    });
}

template <>
void attention_forward<double>(const double* q, const double* k, const double* v, const AttentionShape& s,
                               double* lse, double* out, ThreadPool& pool)
{
    MARIANA_CHECK((s.past == 0 && s.k_stride == 0 && s.v_stride == 0) || s.sequences == 1,
                  "attention over cached keys runs one sequence, not {}", s.sequences);
    const int64_t n = s.tokens;
    for (int64_t b = 0; b < s.sequences; ++b)
        attention_forward_loops(q + b * n * s.heads * s.dk, k + b * n * s.kv_heads * s.dk,
                                v + b * n * s.kv_heads * s.dv, s, lse + b * s.heads * n, out + b * n * s.heads * s.dv,
                                pool);
}

template <>
void attention_backward<double>(const double* q, const double* k, const double* v, const double* lse,
                                const double* dout, const AttentionShape& s, double* dq, double* dk, double* dv,
                                ThreadPool& pool)
{
    MARIANA_CHECK(s.past == 0 && s.k_stride == 0 && s.v_stride == 0, "the attention backward reads packed rows");
    const int64_t n = s.tokens, qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv;
    for (int64_t b = 0; b < s.sequences; ++b)
        attention_backward_loops(q + b * n * qs, k + b * n * ks, v + b * n * vs, lse + b * s.heads * n,
                                 dout + b * n * s.heads * s.dv, s, dq + b * n * qs, dk + b * n * ks, dv + b * n * vs,
                                 pool);
}

}  // namespace mariana

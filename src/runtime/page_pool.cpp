#include "runtime/page_pool.h"

#include "core/error.h"

#include <algorithm>

namespace mariana {

PagePool::PagePool(int64_t n_pages, int64_t page_rows) : page_rows_(page_rows), pages_(size_t(n_pages))
{
    if (n_pages <= 0 || page_rows <= 0) fail("a page pool needs pages and rows, got {} pages of {} rows", n_pages, page_rows);
    for (int64_t p = n_pages - 1; p >= 0; --p) free_.push_back(int32_t(p));  // page 0 first
}

int32_t PagePool::allocate()
{
    if (free_.empty()) {
        if (lru_.empty()) return -1;
        forget(lru_.front());
    }
    const int32_t page = free_.back();
    free_.pop_back();
    pages_[size_t(page)].holders = 1;
    return page;
}

void PagePool::retain(int32_t page)
{
    Page& p = pages_[size_t(page)];
    if (p.holders++ == 0) {
        MARIANA_CHECK(p.published, "page {} is free, not cached", page);
        lru_.erase(p.in_lru);
    }
}

void PagePool::release(int32_t page)
{
    Page& p = pages_[size_t(page)];
    MARIANA_CHECK(p.holders > 0, "page {} released more often than held", page);
    if (--p.holders > 0) return;
    if (p.published) p.in_lru = lru_.insert(lru_.end(), page);
    else free_.push_back(page);
}

uint64_t PagePool::chain(uint64_t previous, std::span<const int32_t> tokens)
{
    // splitmix64's finaliser over the previous key and each token: consecutive pages of
    // different prefixes collide with probability ~2^-64.
    const auto mix = [](uint64_t x) {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    };
    uint64_t h = mix(previous + 0x9e3779b97f4a7c15ull);
    for (const int32_t t : tokens) h = mix(h ^ (uint64_t(uint32_t(t)) + 0x9e3779b97f4a7c15ull));
    return h;
}

int32_t PagePool::find(uint64_t key, std::span<const int32_t> tokens)
{
    const auto it = by_hash_.find(key);
    if (it == by_hash_.end()) return -1;
    const Page& p = pages_[size_t(it->second)];
    if (!std::equal(tokens.begin(), tokens.end(), p.tokens.begin(), p.tokens.end())) return -1;
    retain(it->second);
    return it->second;
}

bool PagePool::publish(int32_t page, uint64_t key, std::span<const int32_t> tokens)
{
    Page& p = pages_[size_t(page)];
    MARIANA_CHECK(p.holders > 0 && !p.published, "only a held, unpublished page is published (page {})", page);
    if (!by_hash_.emplace(key, page).second) return false;
    p.published = true;
    p.key = key;
    p.tokens.assign(tokens.begin(), tokens.end());
    return true;
}

void PagePool::forget(int32_t page)
{
    Page& p = pages_[size_t(page)];
    lru_.erase(p.in_lru);
    by_hash_.erase(p.key);
    p.published = false;
    p.tokens.clear();
    free_.push_back(page);
}

}  // namespace mariana

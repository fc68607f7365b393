// Who owns which page of a paged KV cache (model/kv_cache.h): reference counts, so
// sequences with a common prefix share its pages, and a prefix cache, so the full pages of
// finished sequences are found again by their tokens (the next turn of a chat, the next
// GRPO group on the same prompt) until the pool needs them back.
//
// A full page is published under the hash of its tokens chained to its predecessors'
// (page i's key covers tokens [0, (i + 1)·page_rows)), and its own tokens are kept to rule
// out collisions. A page nobody holds stays cached, least recently released first out.
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace mariana {

class PagePool {
public:
    PagePool(int64_t n_pages, int64_t page_rows);

    int64_t n_pages() const { return int64_t(pages_.size()); }
    int64_t page_rows() const { return page_rows_; }
    // Pages that allocate() can hand out: free ones and cached ones nobody holds.
    int64_t available() const { return int64_t(free_.size() + lru_.size()); }
    int64_t cached() const { return int64_t(by_hash_.size()); }

    // A page for the caller alone (reference count 1), evicting the least recently
    // released cached page when none is free; -1 when every page is held.
    int32_t allocate();
    // One more holder of `page`.
    void retain(int32_t page);
    // One holder fewer; the last one's release frees the page, or keeps it cached if it
    // was published.
    void release(int32_t page);

    // The key of a page of `tokens` that follows the pages keyed `previous` (0 for the first).
    static uint64_t chain(uint64_t previous, std::span<const int32_t> tokens);
    // The cached page with this key and these tokens, retained for the caller; -1 if none.
    int32_t find(uint64_t key, std::span<const int32_t> tokens);
    // Makes `page` (held, full, its rows computed) findable under `key`; false, and nothing
    // changes, if another page already is.
    bool publish(int32_t page, uint64_t key, std::span<const int32_t> tokens);

private:
    struct Page {
        int32_t holders = 0;
        bool published = false;
        uint64_t key = 0;
        std::vector<int32_t> tokens;         // of a published page
        std::list<int32_t>::iterator in_lru;  // valid while published and unheld
    };
    void forget(int32_t page);  // unpublish an unheld cached page

    int64_t page_rows_;
    std::vector<Page> pages_;
    std::vector<int32_t> free_;
    std::list<int32_t> lru_;  // cached unheld pages, least recently released first
    std::unordered_map<uint64_t, int32_t> by_hash_;
};

}  // namespace mariana

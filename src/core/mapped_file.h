// A read-only memory map of a whole file. Weights are used straight from the map, so the
// map must outlive every view into it. Move-only.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace mariana {

class MappedFile {
public:
    // Throws Error naming the path if it cannot be opened or mapped.
    static MappedFile open(const std::string& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const std::byte> bytes() const { return {data_, size_}; }
    // Lets the kernel drop the map's resident pages now: they count as this process's memory
    // until then, and whatever is read again comes back from the file (the map is read-only).
    void release_pages() const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const std::byte* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace mariana

#include "formats/safetensors.h"

#include "core/error.h"
#include "core/json.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

namespace mariana {

namespace {

// A header larger than this is not a real checkpoint (DeepSeek-V3's largest shard header
// is a few hundred KiB); refusing it early avoids parsing absurd allocations.
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

uint64_t read_u64_le(const std::byte* p)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | uint64_t(p[i]);
    return value;
}

TensorInfo parse_tensor_entry(const std::string& name, const Json& entry, const std::string& what)
{
    const std::string where = fmt::format("{}: tensor '{}'", what, name);
    if (!entry.is_object()) fail("{}: expected an object", where);
    TensorInfo info;
    info.name = name;

    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string()) fail("{}: missing or non-string 'dtype'", where);
    const auto parsed = parse_dtype(dtype->get<std::string>());
    if (!parsed) fail("{}: unsupported dtype '{}' (supported: F32, BF16, F16, F8_E4M3)", where, dtype->get<std::string>());
    info.dtype = *parsed;

    const auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array()) fail("{}: missing or non-array 'shape'", where);
    uint64_t numel = 1;
    for (const Json& dim : *shape) {
        if (!dim.is_number_unsigned()) fail("{}: shape has a dimension {} that is not a non-negative integer", where, json_summary(dim));
        const uint64_t d = dim.get<uint64_t>();
        if (d > (uint64_t(1) << 40) || (d != 0 && numel > (uint64_t(1) << 50) / d))
            fail("{}: shape is absurdly large (dimension {})", where, d);
        numel *= d;
        info.shape.push_back(int64_t(d));
    }

    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
        fail("{}: 'data_offsets' must be [begin, end] with non-negative integers", where);
    info.begin = (*offsets)[0].get<uint64_t>();
    info.end = (*offsets)[1].get<uint64_t>();
    if (info.end < info.begin) fail("{}: data_offsets [{}, {}] end before begin", where, info.begin, info.end);
    const uint64_t expected = numel * uint64_t(dtype_size(info.dtype));
    if (info.end - info.begin != expected)
        fail("{}: data_offsets [{}, {}] hold {} bytes but {} {} needs {}", where, info.begin, info.end,
             info.end - info.begin, dtype_name(info.dtype), shape->dump(), expected);
    return info;
}

}  // namespace

int64_t TensorInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::vector<TensorInfo> parse_safetensors(std::span<const std::byte> file, const std::string& what)
{
    if (file.size() < 8) fail("{}: truncated: {} bytes, too short for a safetensors header", what, file.size());
    const uint64_t header_len = read_u64_le(file.data());
    if (header_len > kMaxHeaderBytes) fail("{}: header length {} is absurd (limit {})", what, header_len, kMaxHeaderBytes);
    if (header_len > file.size() - 8)
        fail("{}: truncated: header length {} runs past the end of the file ({} bytes)", what, header_len, file.size());

    const std::string_view header_text(reinterpret_cast<const char*>(file.data() + 8), size_t(header_len));
    const Json header = parse_json(header_text, what + " header");
    if (!header.is_object()) fail("{}: header is not a JSON object", what);

    const std::byte* data = file.data() + 8 + header_len;
    const uint64_t data_size = file.size() - 8 - header_len;
    std::vector<TensorInfo> tensors;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") continue;
        TensorInfo info = parse_tensor_entry(name, entry, what);
        if (info.end > data_size)
            fail("{}: tensor '{}': data_offsets [{}, {}] run past the data section ({} bytes); the file is truncated or "
                 "corrupt",
                 what, name, info.begin, info.end, data_size);
        info.data = data + info.begin;
        tensors.push_back(std::move(info));
    }

    std::vector<const TensorInfo*> by_offset;
    for (const auto& t : tensors) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    for (size_t i = 1; i < by_offset.size(); ++i)
        if (by_offset[i]->begin < by_offset[i - 1]->end)
            fail("{}: tensors '{}' and '{}' overlap in the data section", what, by_offset[i - 1]->name,
                 by_offset[i]->name);
    return tensors;
}

SafetensorsFile SafetensorsFile::open(const std::string& path)
{
    SafetensorsFile file;
    file.file_ = MappedFile::open(path);
    file.tensors_ = parse_safetensors(file.file_.bytes(), path);
    return file;
}

void write_safetensors(const std::string& path, std::vector<TensorSpec> specs,
                       const std::function<void(const TensorSpec&, std::span<std::byte>)>& fill)
{
    std::sort(specs.begin(), specs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    Json header = Json::object();
    header["__metadata__"] = {{"format", "pt"}};
    std::vector<uint64_t> sizes;
    uint64_t offset = 0;
    for (const auto& spec : specs) {
        uint64_t bytes = uint64_t(dtype_size(spec.dtype));
        for (int64_t d : spec.shape) bytes *= uint64_t(d);
        header[spec.name] = {{"dtype", dtype_name(spec.dtype)}, {"shape", spec.shape}, {"data_offsets", {offset, offset + bytes}}};
        sizes.push_back(bytes);
        offset += bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');

    const std::string temporary = path + ".partial";
    std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(temporary.c_str(), "wb"), &std::fclose);
    if (!out) fail("cannot create {}: {}", temporary, std::strerror(errno));
    std::byte length[8];
    for (int i = 0; i < 8; ++i) length[i] = std::byte(uint64_t(text.size()) >> (8 * i) & 0xff);
    bool ok = std::fwrite(length, 1, 8, out.get()) == 8 && std::fwrite(text.data(), 1, text.size(), out.get()) == text.size();
    std::vector<std::byte> buffer;
    for (size_t i = 0; ok && i < specs.size(); ++i) {
        buffer.assign(sizes[i], std::byte{0});
        fill(specs[i], buffer);
        ok = std::fwrite(buffer.data(), 1, buffer.size(), out.get()) == buffer.size();
    }
    ok = ok && std::fflush(out.get()) == 0;
    out.reset();
    // Written to a temporary name and renamed, so a failure never leaves a half file
    // under the real name.
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        fail("cannot write {}: {}", path, std::strerror(errno));
    }
}

}  // namespace mariana

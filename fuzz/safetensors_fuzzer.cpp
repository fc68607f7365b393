// libFuzzer target: arbitrary bytes as a whole .safetensors file image.
// parse_safetensors must either return tensors whose byte ranges lie inside the input and
// match dtype x shape, or throw mariana::Error. Any other exception, crash, sanitizer
// report or broken invariant is a bug.
#include "core/error.h"
#include "formats/safetensors.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
    try {
        const std::vector<mariana::TensorInfo> tensors = mariana::parse_safetensors(file, "fuzz");
        // What the parser promises its callers: every range is inside the file and holds
        // exactly numel x dtype_size bytes.
        const std::byte* end = file.data() + file.size();
        for (const auto& t : tensors) {
            if (t.end < t.begin || t.data < file.data() || t.data > end ||
                uint64_t(end - t.data) < t.end - t.begin ||
                uint64_t(t.numel()) * uint64_t(mariana::dtype_size(t.dtype)) != t.end - t.begin)
                std::abort();
        }
    } catch (const mariana::Error&) {
        // Rejected input, reported with a message: the expected outcome for most inputs.
    }
    return 0;
}

#include "train/run_directory.h"

#include "core/error.h"
#include "core/json.h"
#include "core/text_file.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/resource.h>

namespace mariana::train {

namespace fs = std::filesystem;

std::string checkpoint_dir(const std::string& out, int64_t step) { return fmt::format("{}/checkpoint-{:07d}", out, step); }

std::vector<std::string> list_checkpoints(const std::string& out)
{
    std::vector<std::string> found;
    std::error_code error;
    for (const fs::directory_entry& entry : fs::directory_iterator(out, error)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_directory() && name.starts_with("checkpoint-") && name.size() == 18 &&
            std::all_of(name.begin() + 11, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
            found.push_back(entry.path().string());
    }
    std::sort(found.begin(), found.end());  // zero-padded: name order is step order
    return found;
}

std::optional<std::string> latest_checkpoint(const std::string& out)
{
    const std::vector<std::string> all = list_checkpoints(out);
    if (all.empty()) return std::nullopt;
    return all.back();
}

void prune_checkpoints(const std::string& out, int64_t keep)
{
    const std::vector<std::string> all = list_checkpoints(out);
    for (size_t i = 0; i + size_t(std::max<int64_t>(keep, 1)) < all.size(); ++i) {
        std::error_code error;
        fs::remove_all(all[i], error);
        if (error) fail("cannot remove old checkpoint {}: {}", all[i], error.message());
    }
}

void truncate_metrics(const std::string& path, int64_t step)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return;
    std::string kept;
    for (std::string line; std::getline(in, line, '\n');) {
        if (in.eof()) break;  // no newline: cut short by a kill
        const Json row = Json::parse(line, nullptr, false);
        if (row.is_object() && row.contains("step") && row["step"].is_number_integer() &&
            row["step"].get<int64_t>() <= step)
            kept += line + "\n";
    }
    const std::string partial = path + ".partial";
    write_text_file(partial, kept);
    fs::rename(partial, path);
}

int64_t peak_rss_bytes()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return int64_t(usage.ru_maxrss) * 1024;  // kilobytes on Linux
}

}  // namespace mariana::train

// Where the tests find their data, and small helpers to read it.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mariana::testing {

inline std::string golden_dir(const std::string& name) { return std::string(MARIANA_SHARED_DIR) + "/golden/model/" + name; }
inline std::string golden_tokenizer_dir(const std::string& name)
{
    return std::string(MARIANA_SHARED_DIR) + "/golden/tokenizer/" + name;
}
inline std::string data_dir(const std::string& name) { return std::string(MARIANA_TEST_DATA_DIR) + "/" + name; }

inline std::vector<float> read_f32(const std::string& path)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<float> values(size_t(in.tellg()) / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(values.data()), std::streamsize(values.size() * sizeof(float)));
    return values;
}

// The lines of a JSON Lines file, split on '\n' only: the golden files hold raw U+2028,
// U+0085 and U+FEFF inside strings, which other line splitters treat as breaks.
inline std::vector<std::string> read_lines(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line, '\n');)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "mariana-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create " + pattern);
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline std::string file_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace mariana::testing

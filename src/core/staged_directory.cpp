#include "core/staged_directory.h"

#include "core/error.h"

#include <filesystem>

namespace mariana {

namespace fs = std::filesystem;

StagedDirectory::StagedDirectory(std::string dir) : dir_(std::move(dir)), staging_(dir_ + ".partial")
{
    if (fs::exists(dir_) && !(fs::is_directory(dir_) && fs::is_empty(dir_)))
        fail("{} already exists and is not an empty folder; refusing to overwrite it", dir_);
    std::error_code error;
    fs::remove_all(staging_, error);  // left by an earlier run that was killed
    if (!fs::create_directories(staging_, error) && error) fail("cannot create {}: {}", staging_, error.message());
}

StagedDirectory::~StagedDirectory()
{
    std::error_code ignored;
    fs::remove_all(staging_, ignored);  // nothing there after commit()
}

void StagedDirectory::commit()
{
    std::error_code error;
    if (fs::exists(dir_)) fs::remove(dir_, error);  // the empty folder checked in the constructor
    fs::rename(staging_, dir_, error);
    if (error) fail("cannot rename {} to {}: {}", staging_, dir_, error.message());
}

}  // namespace mariana

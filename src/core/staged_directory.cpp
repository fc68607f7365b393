#include "core/staged_directory.h"

#include "core/error.h"

#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

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

namespace {

// Flushes a file's or folder's contents to the disk, so that after the rename the
// folder's name never points at data a power cut could still take back.
void sync_to_disk(const fs::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot open {} to sync it", path.string());
    const int status = ::fsync(fd);
    ::close(fd);
    if (status != 0) fail("cannot sync {} to disk", path.string());
}

}  // namespace

void StagedDirectory::commit()
{
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(staging_))
        if (entry.is_regular_file() || entry.is_directory()) sync_to_disk(entry.path());
    sync_to_disk(staging_);
    std::error_code error;
    if (fs::exists(dir_)) fs::remove(dir_, error);  // the empty folder checked in the constructor
    fs::rename(staging_, dir_, error);
    if (error) fail("cannot rename {} to {}: {}", staging_, dir_, error.message());
    sync_to_disk(fs::absolute(dir_).parent_path());  // the rename itself
}

}  // namespace mariana

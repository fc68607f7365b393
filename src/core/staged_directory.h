// A folder written under DIR.partial and renamed to DIR only when complete, so a failure
// part-way (disk full, bad input, a kill) never leaves a half-written checkpoint or
// tokenizer behind, and an existing folder with contents is never overwritten.
#pragma once

#include <string>

namespace mariana {

class StagedDirectory {
public:
    // Throws Error when `dir` exists and is not an empty folder, or cannot be staged.
    explicit StagedDirectory(std::string dir);
    // Removes the staging folder unless commit() renamed it.
    ~StagedDirectory();
    StagedDirectory(const StagedDirectory&) = delete;
    StagedDirectory& operator=(const StagedDirectory&) = delete;

    // Where to write the files.
    const std::string& path() const { return staging_; }
    // Syncs every file and the folder to disk, then renames the staging folder to the
    // final name (and syncs the parent, so the rename is durable too).
    void commit();

private:
    std::string dir_, staging_;
};

}  // namespace mariana

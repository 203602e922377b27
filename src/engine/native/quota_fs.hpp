// engine/native/quota_fs.hpp — the size-limited filesystem that holds everything a sample can
// write that would otherwise land on the host disk: the Wine overlay's upper/work dirs and
// the ELF sample's home (issue 3: a sample writing 50 GB must not fill the host disk). A
// tmpfs with `size=` and `nr_inodes=` limits: the sample gets ENOSPC, the analysis goes on.
// Its pages are charged to the writer's memory cgroup, so the limit should stay below the
// sandbox memory limit (otherwise the memory limit, an OOM kill, comes first).
#pragma once

#include <cstdint>
#include <filesystem>

namespace engine::native {

// QuotaFs mounts a tmpfs of `size_bytes` at `dir` (created, mode 0755) in the engine's mount
// namespace; the destructor detaches it. Throws util::SystemError when the mount fails.
class QuotaFs {
  public:
    QuotaFs(std::filesystem::path dir, std::uint64_t size_bytes, std::uint64_t max_inodes);
    ~QuotaFs();
    QuotaFs(const QuotaFs&) = delete;
    QuotaFs& operator=(const QuotaFs&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    std::uint64_t size_bytes() const { return size_; }
    // used_bytes / free_bytes: current usage (statvfs); free_bytes 0 means the quota is full.
    std::uint64_t used_bytes() const;
    std::uint64_t free_bytes() const;
    // exhausted: fewer than 64 KiB (or no inodes) left, i.e. a writer has hit ENOSPC.
    bool exhausted() const;

  private:
    std::filesystem::path dir_;
    std::uint64_t size_;
};

// unmount_below detaches every mount whose mount point is `dir` or below it (deepest first),
// for the stale sweep of scratch dirs a killed engine left mounted. Returns how many.
int unmount_below(const std::filesystem::path& dir);

}  // namespace engine::native

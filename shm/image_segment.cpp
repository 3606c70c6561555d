#include "shm/image_segment.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "shm/process.hpp"

namespace bip = boost::interprocess;

namespace seg::shm {

namespace {

constexpr std::uint64_t magic = 0x73656766'6c6f7731; // "segflow1"
constexpr std::size_t header_size = 4096;            // keeps pixels page-aligned
constexpr const char* prefix = "segflow-";

struct header {
  std::uint64_t magic;
  std::int64_t owner_pid;
  std::int32_t rows;
  std::int32_t cols;
  std::int32_t type;
  std::int32_t count;
};

std::size_t image_bytes(int rows, int cols, int type) {
  return std::size_t(rows) * std::size_t(cols) * CV_ELEM_SIZE(type);
}

std::string mib(std::uint64_t bytes) {
  return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

// Reserves the segment's pages now: a sparse segment on a full /dev/shm
// would kill the process with SIGBUS at the first write to a page that
// cannot be had. Throws naming the shortage and the fixes.
void allocate_pages(int fd, std::size_t bytes) {
  int err = ::posix_fallocate(fd, 0, off_t(bytes));
  if (err == 0)
    return;
  std::string why = "cannot allocate " + mib(bytes) + " in /dev/shm: " + std::strerror(err);
  struct statvfs vfs {};
  if (err == ENOSPC && ::statvfs("/dev/shm", &vfs) == 0)
    why += " (" + mib(std::uint64_t(vfs.f_bavail) * vfs.f_frsize)
           + " free; give /dev/shm more room, e.g. docker run --shm-size, or use a smaller "
             "flat stack, segmentation.flat_frames)";
  throw std::runtime_error(why);
}

} // namespace

struct image_segment::impl {
  bip::shared_memory_object object;
  bip::mapped_region region;
  const header* head() const {
    return static_cast<const header*>(region.get_address());
  }
};

std::string segment_name(std::uint64_t job, std::uint32_t generation,
                         const std::string& what) {
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(job)
         + "-" + std::to_string(generation) + "-" + what;
}

image_segment::image_segment(std::unique_ptr<impl> p, std::string name, bool owner)
  : impl_(std::move(p)), name_(std::move(name)), owner_(owner) {
  // nop
}

image_segment::~image_segment() {
  impl_.reset();
  if (owner_)
    bip::shared_memory_object::remove(name_.c_str());
}

std::shared_ptr<image_segment> image_segment::create(const std::string& name, int rows,
                                                     int cols, int type, int count) {
  if (rows <= 0 || cols <= 0 || count <= 0)
    throw std::runtime_error("shm segment " + name + ": invalid size");
  auto p = std::make_unique<impl>();
  try {
    bip::permissions perm(0600);
    p->object = bip::shared_memory_object(bip::create_only, name.c_str(),
                                          bip::read_write, perm);
    auto bytes = header_size + image_bytes(rows, cols, type) * std::size_t(count);
    p->object.truncate(bip::offset_t(bytes));
    allocate_pages(p->object.get_mapping_handle().handle, bytes);
    p->region = bip::mapped_region(p->object, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    bip::shared_memory_object::remove(name.c_str());
    throw std::runtime_error("shm segment " + name + ": cannot create: " + e.what());
  } catch (const std::runtime_error& e) {
    bip::shared_memory_object::remove(name.c_str());
    throw std::runtime_error("shm segment " + name + ": " + e.what());
  }
  auto* h = static_cast<header*>(p->region.get_address());
  *h = header{magic, ::getpid(), rows, cols, type, count};
  return std::shared_ptr<image_segment>(new image_segment(std::move(p), name, true));
}

std::shared_ptr<image_segment> image_segment::open(const std::string& name,
                                                   bool writable) {
  auto p = std::make_unique<impl>();
  auto mode = writable ? bip::read_write : bip::read_only;
  try {
    p->object = bip::shared_memory_object(bip::open_only, name.c_str(), mode);
    p->region = bip::mapped_region(p->object, mode);
  } catch (const bip::interprocess_exception& e) {
    throw std::runtime_error("shm segment " + name + ": cannot open: " + e.what());
  }
  if (p->region.get_size() < header_size || p->head()->magic != magic)
    throw std::runtime_error("shm segment " + name + ": not a segflow segment");
  auto* h = p->head();
  if (p->region.get_size()
      < header_size + image_bytes(h->rows, h->cols, h->type) * std::size_t(h->count))
    throw std::runtime_error("shm segment " + name + ": truncated");
  return std::shared_ptr<image_segment>(new image_segment(std::move(p), name, false));
}

cv::Mat image_segment::image(int i) const {
  auto* h = impl_->head();
  CV_Assert(i >= 0 && i < h->count);
  auto* base = static_cast<std::uint8_t*>(impl_->region.get_address()) + header_size
               + image_bytes(h->rows, h->cols, h->type) * std::size_t(i);
  return cv::Mat(h->rows, h->cols, h->type, base);
}

void image_segment::discard(int i) {
  auto* h = impl_->head();
  CV_Assert(i >= 0 && i < h->count);
  auto page = std::size_t(::sysconf(_SC_PAGESIZE));
  auto begin = header_size + image_bytes(h->rows, h->cols, h->type) * std::size_t(i);
  auto end = begin + image_bytes(h->rows, h->cols, h->type);
  begin = (begin + page - 1) / page * page; // the pages wholly inside the image
  end = end / page * page;
  if (end <= begin)
    return;
  // Punching the hole frees the pages of the segment itself (tmpfs), not
  // only this process's view; failure leaves them in use, which is harmless.
  ::fallocate(impl_->object.get_mapping_handle().handle, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
              off_t(begin), off_t(end - begin));
}

int image_segment::rows() const {
  return impl_->head()->rows;
}
int image_segment::cols() const {
  return impl_->head()->cols;
}
int image_segment::type() const {
  return impl_->head()->type;
}
int image_segment::count() const {
  return impl_->head()->count;
}

const void* image_segment::mapping_begin() const {
  return impl_->region.get_address();
}

std::size_t image_segment::mapping_size() const {
  return impl_->region.get_size();
}

namespace {

// Removes /dev/shm entries named segflow-<pid>-... for which keep(pid) is false.
template <class Predicate>
std::size_t remove_matching(Predicate remove_it) {
  std::size_t removed = 0;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0)
      continue;
    auto rest = name.substr(std::strlen(prefix));
    auto dash = rest.find('-');
    if (dash == std::string::npos)
      continue;
    long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || !remove_it(pid))
      continue;
    if (bip::shared_memory_object::remove(name.c_str()))
      ++removed;
  }
  return removed;
}

} // namespace

std::size_t sweep_stale_segments() {
  return remove_matching([](long pid) { return !process_alive(pid); });
}

std::size_t remove_own_segments() {
  auto self = long(::getpid());
  return remove_matching([self](long pid) { return pid == self; });
}

} // namespace seg::shm

#include "shard_writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>

#include <cerrno>
#include <cstring>

#include "checksum.hpp"
#include "error.hpp"
#include "platform.hpp"
#include "sais.hpp"
#include "sampled_keys.hpp"
#include "shard_format.hpp"

namespace traceindex {
namespace detail {
uint64_t sample_interval = kSampleInterval;
uint64_t key_top_min = uint64_t(1) << 16;
}  // namespace detail
namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw Error(codes::kIo, what + " " + path + ": " + std::strerror(errno));
}


struct Chunk {
  const void* data;
  uint64_t bytes;
};

// Writes header + chunks to dir/name.tmp, fsyncs, renames to dir/name. Returns size and checksum.
WrittenFile write_file(const std::string& dir, FileKind kind, const FileHeader& header, std::initializer_list<Chunk> chunks) {
  const std::string final_path = dir + "/" + file_name(kind), tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot create", tmp);
  Xxh64 hash;
  WrittenFile out{file_name(kind), 0, 0};
  auto put = [&](const void* data, uint64_t bytes) {
    hash.update(data, bytes);
    auto p = static_cast<const uint8_t*>(data);
    while (bytes > 0) {
      ssize_t w = ::write(fd, p, std::min<uint64_t>(bytes, 1u << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        int e = errno; ::close(fd); errno = e;
        io_error("cannot write", tmp);
      }
      p += w; bytes -= w; out.bytes += w;
    }
  };
  put(&header, sizeof header);
  for (const Chunk& c : chunks) put(c.data, c.bytes);
  if (::fsync(fd) != 0) { int e = errno; ::close(fd); errno = e; io_error("cannot fsync", tmp); }
  if (::close(fd) != 0) io_error("cannot close", tmp);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) io_error("cannot rename", tmp);
  out.xxh64 = hash.digest();
  return out;
}

// Anonymous memory for the suffix array, with transparent huge pages: SA-IS is dominated by TLB misses.
struct SaBuffer {
  void* p = MAP_FAILED;
  size_t bytes = 0;
  explicit SaBuffer(size_t b) : bytes(b) {
    if (bytes == 0) return;
    p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw Error(codes::kNoMemory, "cannot allocate " + std::to_string(bytes) + " bytes for the suffix array");
    platform::advise_huge_pages(p, bytes);
  }
  ~SaBuffer() { if (p != MAP_FAILED) munmap(p, bytes); }
};

template <typename Token>
void validate_and_count(const ShardSource& src, std::vector<uint64_t>& counts, CancelFlag* cancel, WorkProgress* progress) {
  const Token* t = static_cast<const Token*>(src.tokens);
  const uint64_t sep = separator_of(src.token_width), V = src.vocab_size;
  uint64_t credited = 0;  // tokens of the documents before d already reported
  for (uint64_t d = 0; d < src.documents; ++d) {
    if ((d & 4095) == 0 || src.doc_starts[d] - credited >= (uint64_t(1) << 22)) {
      check_cancel(cancel, "build");
      advance(progress, src.doc_starts[d] - credited);
      credited = src.doc_starts[d];
    }
    const uint64_t begin = src.doc_starts[d], end = src.doc_starts[d + 1] - 1;
    for (uint64_t i = begin; i < end; ++i) {
      uint64_t v = t[i];
      if (v >= V)
        throw Error(codes::kTokenRange, "document " + std::to_string(d) + ": token id " + std::to_string(v) +
                                            " is out of range (vocabulary size " + std::to_string(V) + ")");
      ++counts[v];
    }
    if (t[end] != sep) throw Error(codes::kInvalidArgument, "document " + std::to_string(d) + " is not followed by a separator");
  }
  advance(progress, src.tokens_count - credited);
}

template <typename Token, typename Index>
void build_sa(ShardSource& src, Index* sa, WorkProgress* progress) {
  Token* t = static_cast<Token*>(src.tokens);
  const uint64_t n = src.tokens_count;
  const Token sep = static_cast<Token>(separator_of(src.token_width));
  uint64_t alphabet = uint64_t(sep) + 1;
  // Wide ids: move the separator down to vocab_size so the alphabet (and SA-IS's buckets) is vocab_size + 1.
  const bool remap = sizeof(Token) == 4;
  if (remap) {
    alphabet = src.vocab_size + 1;
    for (uint64_t d = 1; d <= src.documents; ++d) t[src.doc_starts[d] - 1] = static_cast<Token>(src.vocab_size);
  }
  struct Restore {
    bool on; Token* t; const ShardSource& s; Token sep;
    ~Restore() { if (on) for (uint64_t d = 1; d <= s.documents; ++d) t[s.doc_starts[d] - 1] = sep; }
  } restore{remap, t, src, sep};
  build_suffix_array<Token, Index>(t, sa, n, alphabet, src.threads, progress);
}

template <typename Token, typename Index>
std::vector<uint64_t> sample_keys(const void* tokens, const void* sa, uint64_t n, uint64_t suffixes, uint64_t k) {
  const Token* t = static_cast<const Token*>(tokens);
  const Index* s = static_cast<const Index*>(sa);
  std::vector<uint64_t> keys(sample_count(suffixes, k));
  for (uint64_t j = 0; j < keys.size(); ++j) {
    const uint64_t p = s[j * k];
    keys[j] = pack_key(t + p, n - p);
  }
  return keys;
}

template <typename Token>
void build_sa_any(ShardSource& src, void* sa, int pointer_width, WorkProgress* progress) {
  if (pointer_width == 4) build_sa<Token, uint32_t>(src, static_cast<uint32_t*>(sa), progress);
  else build_sa<Token, uint64_t>(src, static_cast<uint64_t*>(sa), progress);
}

}  // namespace

std::vector<WrittenFile> write_shard(const std::string& dir, ShardSource& src, CancelFlag* cancel, const StageCallback& on_stage,
                                     WorkProgress* progress) {
  const int w = src.token_width;
  const uint64_t n = src.tokens_count, D = src.documents;
  if (w != 1 && w != 2 && w != 4) throw Error(codes::kTokenWidth, "token width must be 1, 2 or 4");
  if (D == 0 || n < D) throw Error(codes::kInvalidArgument, "a shard needs at least one document");
  if (src.vocab_size == 0 || src.vocab_size > separator_of(w))
    throw Error(codes::kInvalidArgument, "vocabulary size " + std::to_string(src.vocab_size) + " does not fit token width " + std::to_string(w));
  if (w == 4 && src.vocab_size > (1ULL << 28))
    throw Error(codes::kInvalidArgument, "vocabulary sizes above 2^28 are not supported");
  if (src.doc_starts[0] != 0 || src.doc_starts[D] != n) throw Error(codes::kInvalidArgument, "document offsets do not span the tokens");
  for (uint64_t d = 0; d < D; ++d)
    if (src.doc_starts[d + 1] <= src.doc_starts[d]) throw Error(codes::kInvalidArgument, "document offsets out of order");
  if (src.meta_offsets[0] != 0) throw Error(codes::kInvalidArgument, "meta offsets must start at 0");
  for (uint64_t d = 0; d < D; ++d)
    if (src.meta_offsets[d + 1] < src.meta_offsets[d]) throw Error(codes::kInvalidArgument, "meta offsets out of order");

  if (progress) {
    progress->done.store(0, std::memory_order_relaxed);
    progress->total.store(shard_build_work(n), std::memory_order_relaxed);
  }
  if (on_stage) on_stage("validate");
  std::vector<uint64_t> counts(src.vocab_size, 0);
  switch (w) {
    case 1: validate_and_count<uint8_t>(src, counts, cancel, progress); break;
    case 2: validate_and_count<uint16_t>(src, counts, cancel, progress); break;
    default: validate_and_count<uint32_t>(src, counts, cancel, progress); break;
  }
  check_cancel(cancel, "build");
  if (::mkdir(dir.c_str(), 0755) != 0) io_error("cannot create shard directory", dir);

  ShardShape shape{w, n, D, src.vocab_size};
  const int pw = pointer_width_for(n);
  std::vector<WrittenFile> files;
  if (on_stage) on_stage("write");
  files.push_back(write_file(dir, FileKind::Tokens, make_header(FileKind::Tokens, shape, n, w), {{src.tokens, n * w}}));
  files.push_back(write_file(dir, FileKind::DocStarts, make_header(FileKind::DocStarts, shape, D + 1, 8),
                             {{src.doc_starts, 8 * (D + 1)}}));
  files.push_back(write_file(dir, FileKind::Meta, make_header(FileKind::Meta, shape, D, 8),
                             {{src.meta_offsets, 8 * (D + 1)}, {src.meta_blob, src.meta_offsets[D]}}));
  files.push_back(write_file(dir, FileKind::Unigram, make_header(FileKind::Unigram, shape, src.vocab_size, 8),
                             {{counts.data(), 8 * src.vocab_size}}));
  check_cancel(cancel, "build");

  if (on_stage) on_stage("suffix-array");
  SaBuffer sa(n * pw);
  switch (w) {
    case 1: build_sa_any<uint8_t>(src, sa.p, pw, progress); break;
    case 2: build_sa_any<uint16_t>(src, sa.p, pw, progress); break;
    default: build_sa_any<uint32_t>(src, sa.p, pw, progress); break;
  }
  check_cancel(cancel, "build");
  if (on_stage) on_stage("write");
  // The D separator-initial suffixes are the last D entries; only the first n - D are stored.
  files.push_back(write_file(dir, FileKind::SuffixArray, make_header(FileKind::SuffixArray, shape, n - D, pw),
                             {{sa.p, (n - D) * pw}}));
  check_cancel(cancel, "build");
  files.push_back(write_samples(dir, shape, src.tokens, sa.p));
  fsync_path(dir);
  return files;
}

WrittenFile write_samples(const std::string& dir, const ShardShape& shape, const void* tokens, const void* sa) {
  const uint64_t n = shape.tokens, m = n - shape.documents, k = detail::sample_interval;
  if (k == 0 || k > kMaxSampleInterval) throw Error(codes::kInvalidArgument, "sample interval " + std::to_string(k) + " out of range");
  const bool wide = pointer_width_for(n) == 8;
  std::vector<uint64_t> keys;
  switch (shape.token_width) {
    case 1: keys = wide ? sample_keys<uint8_t, uint64_t>(tokens, sa, n, m, k) : sample_keys<uint8_t, uint32_t>(tokens, sa, n, m, k); break;
    case 2: keys = wide ? sample_keys<uint16_t, uint64_t>(tokens, sa, n, m, k) : sample_keys<uint16_t, uint32_t>(tokens, sa, n, m, k); break;
    default: keys = wide ? sample_keys<uint32_t, uint64_t>(tokens, sa, n, m, k) : sample_keys<uint32_t, uint32_t>(tokens, sa, n, m, k); break;
  }
  return write_file(dir, FileKind::Samples, make_header(FileKind::Samples, shape, keys.size(), 8, k), {{keys.data(), 8 * keys.size()}});
}

WrittenFile upgrade_shard(const std::string& dir, const ShardShape& shape, bool write, CancelFlag* cancel) {
  if (shape.samples) throw Error(codes::kInvalidArgument, dir + ": the shard already has sampled keys");
  const std::unique_ptr<Shard> shard = Shard::open(dir, shape);
  shard->verify_quick(4096, 0, cancel);
  check_cancel(cancel, "upgrade");
  if (!write) return {};
  // The keys come from the very mappings the checks ran on (files(): tokens.bin, then sa.bin).
  const MappedFile &tokens = *shard->files()[0], &sa = *shard->files()[1];
  WrittenFile out = write_samples(dir, shape, tokens.data() + kHeaderBytes, sa.data() + kHeaderBytes);
  shard->check_intact();  // a file truncated under us while sampling (keys read as zeros): fail, so no manifest lists them
  fsync_path(dir);
  return out;
}

uint64_t checksum_file(const std::string& path, CancelFlag* cancel) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(errno == ENOENT ? codes::kCorrupt : codes::kIo, "cannot open " + path + ": " + std::strerror(errno));
  platform::advise_sequential_read(fd);
  std::vector<uint8_t> buf(1 << 20);
  Xxh64 hash;
  for (;;) {
    check_cancel(cancel, "build");
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno; ::close(fd); errno = e;
      io_error("cannot read", path);
    }
    if (r == 0) break;
    hash.update(buf.data(), r);
  }
  ::close(fd);
  return hash.digest();
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error("cannot open", path);
  if (::fsync(fd) != 0 && errno != EINVAL) { int e = errno; ::close(fd); errno = e; io_error("cannot fsync", path); }
  ::close(fd);
}

bool exchange_or_rename(const std::string& from, const std::string& to) {
  if (platform::exchange_paths(from, to)) return true;
  // ENOENT: nothing at `to` yet, a rename is atomic. Where no exchange exists (ENOSYS, EINVAL: another
  // platform or file system), the old `to` is moved aside first, so a crash between the two renames leaves
  // the new index at `from` and the old one beside it: never a half-written index at `to`.
  if (errno == ENOSYS || errno == EINVAL) {
    const std::string aside = to + ".replaced";
    if (::rename(to.c_str(), aside.c_str()) != 0) io_error("cannot move aside", to);
    if (::rename(from.c_str(), to.c_str()) != 0) io_error("cannot rename " + from + " to", to);
    if (::rename(aside.c_str(), from.c_str()) != 0) io_error("cannot move " + aside + " to", from);
    return true;
  }
  if (errno != ENOENT) io_error("cannot exchange " + from + " with", to);
  if (::rename(from.c_str(), to.c_str()) != 0) io_error("cannot rename " + from + " to", to);
  return false;
}

}  // namespace traceindex

// Errors raised by the core. `code` is stable and crosses into JS as Error.code.
#pragma once
#include <stdexcept>
#include <string>

namespace traceindex {

struct Error : std::runtime_error {
  std::string code;
  Error(std::string code_, const std::string& message) : std::runtime_error(message), code(std::move(code_)) {}
};

// Codes shared with lib/errors.ts (keep the two lists in step).
namespace codes {
inline constexpr const char* kCorrupt = "ERR_INDEX_CORRUPT";        // a file fails a header, size or order check
inline constexpr const char* kVersion = "ERR_INDEX_VERSION";        // written by an unknown format version
inline constexpr const char* kIo = "ERR_IO";                        // open/read/write/mmap failed
inline constexpr const char* kTokenRange = "ERR_TOKEN_RANGE";       // a token id is out of the index's vocabulary
inline constexpr const char* kTokenWidth = "ERR_TOKEN_WIDTH";       // query or input token width does not fit the index
inline constexpr const char* kInvalidArgument = "ERR_INVALID_ARGUMENT"; // anything else the caller got wrong
inline constexpr const char* kBadInput = "ERR_BAD_INPUT";           // an input file's content cannot be read (zstd)
inline constexpr const char* kTooLarge = "ERR_TOO_LARGE";           // an answer would exceed a size limit (the call's or ours)
inline constexpr const char* kClosed = "ERR_CLOSED";                // the index was closed
inline constexpr const char* kAborted = "ERR_ABORTED";              // an AbortSignal fired
inline constexpr const char* kNoMemory = "ERR_NO_MEMORY";           // an allocation failed
inline constexpr const char* kInternal = "ERR_INTERNAL";            // a bug: an unexpected exception (binding)
}  // namespace codes

}  // namespace traceindex

{
  "variables": {
    "traceindex_core_sources": [
      "native/core/checksum.cpp",
      "native/core/index.cpp",
      "native/core/infinigram_shard.cpp",
      "native/core/mapped_file.cpp",
      "native/core/match_state.cpp",
      "native/core/sais.cpp",
      "native/core/scoring.cpp",
      "native/core/shard.cpp",
      "native/core/shard_format.cpp",
      "native/core/shard_writer.cpp",
      "native/core/token_match.cpp",
      "native/core/tokenizer/bpe.cpp",
      "native/core/tokenizer/pretokenize.cpp",
      "native/core/tokenizer/tokenizer.cpp",
      "native/core/tokenizer/unicode.cpp",
      "native/core/trace.cpp"
    ]
  }
}

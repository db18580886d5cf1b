{
  "variables": {
    "traceindex_core_sources": [
      "native/core/batch.cpp",
      "native/core/checksum.cpp",
      "native/core/documents.cpp",
      "native/core/index.cpp",
      "native/core/infinigram_shard.cpp",
      "native/core/mapped_file.cpp",
      "native/core/match_state.cpp",
      "native/core/sais.cpp",
      "native/core/sampling.cpp",
      "native/core/scoring.cpp",
      "native/core/shard.cpp",
      "native/core/shard_format.cpp",
      "native/core/shard_writer.cpp",
      "native/core/token_match.cpp",
      "native/core/trace.cpp"
    ]
  }
}

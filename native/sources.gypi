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
      "native/core/platform.cpp",
      "native/core/sais.cpp",
      "native/core/sampling.cpp",
      "native/core/scoring.cpp",
      "native/core/shard.cpp",
      "native/core/shard_format.cpp",
      "native/core/shard_writer.cpp",
      "native/core/token_match.cpp",
      "native/core/tokenizer/bpe.cpp",
      "native/core/tokenizer/pretokenize.cpp",
      "native/core/tokenizer/tokenizer.cpp",
      "native/core/tokenizer/unicode.cpp",
      "native/core/trace.cpp",
      "native/core/zstd_stream.cpp"
    ],
    "traceindex_third_party_sources": [
      "native/third_party/zstd/zstd.c"
    ],
    "traceindex_binding_sources": [
      "native/binding/addon.cpp",
      "native/binding/args.cpp",
      "native/binding/build.cpp",
      "native/binding/errors.cpp",
      "native/binding/fs.cpp",
      "native/binding/index_queries.cpp",
      "native/binding/inputs.cpp",
      "native/binding/job.cpp",
      "native/binding/native_match_state.cpp",
      "native/binding/simd.cpp",
      "native/binding/tokenizers.cpp"
    ]
  }
}

# node-gyp build of the addon, used by prebuildify and as a fallback to cmake-js (CMakeLists.txt).
# Both read the core's and the binding's source lists from native/sources.gypi. Pass --nodedir at the running node's
# headers (see the "prebuild" script in package.json); nothing is downloaded.
{
  "includes": ["native/sources.gypi"],
  "targets": [
    {
      "target_name": "traceindex",
      "sources": ["<@(traceindex_core_sources)", "<@(traceindex_binding_sources)", "<@(traceindex_third_party_sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/core", "native/third_party/zstd"],
      # -fvisibility=hidden and the ZSTD*_VISIBLE defines: the addon exports its Node-API entry point only
      # (CMakeLists.txt says why).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
                  "ZSTDLIB_VISIBLE=", "ZSTDERRORLIB_VISIBLE=", "ZDICTLIB_VISIBLE="],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "ldflags": ["-pthread"]
    }
  ]
}

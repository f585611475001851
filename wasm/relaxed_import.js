// relaxed_import.js: tells Emscripten's linker that bitt.wasm imports
// env.bitt_relaxed_ternary_pairs (the relaxed-SIMD kernel of npm/relaxed.js,
// supplied by npm/index.js at instantiation); no JS glue is generated from it.
mergeInto(LibraryManager.library, {
  bitt_relaxed_ternary_pairs: function () {
    throw new Error('bitt_relaxed_ternary_pairs: no relaxed-SIMD kernel was supplied');
  },
});

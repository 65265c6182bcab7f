#pragma once

// libvecformer is built with hidden visibility (CMakeLists.txt): only what carries VECFORMER_API is
// exported, so the library's internals (vecformer::detail) stay private to it. The same definition
// serves the library and its users: on ELF, default visibility both exports a symbol and lets a
// user's program see it, so there is no import/export switch to get wrong.
#if defined(__GNUC__) || defined(__clang__)
#define VECFORMER_API __attribute__((visibility("default")))
#else
#define VECFORMER_API
#endif

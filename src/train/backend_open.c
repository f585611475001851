/* backend_open.c: the trainer's backend by device name (see
 * backend_open.h). The CUDA backend is a plugin (cuda/, libbitt_cuda.so)
 * opened with dlopen at run time, so that the core builds and runs without
 * the CUDA toolkit; the plugin, once opened, stays loaded (CUDA's libraries
 * do not unload cleanly). Not available in the WebAssembly build. */
#include "backend_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_backend.h"

#ifndef __EMSCRIPTEN__
#include <dlfcn.h>
#include <unistd.h>
#endif

typedef TrainBackend *(*CudaEntry)(const char *options, BittError *err);

#ifdef __EMSCRIPTEN__

static TrainBackend *open_cuda(const char *options, char *which, size_t which_len, BittError *err) {
    (void)options;
    (void)which;
    (void)which_len;
    bitt_fail(err, "no CUDA in the WebAssembly build");
    return NULL;
}

#else

static void *g_plugin;              /* the plugin, once loaded */
static char g_plugin_path[4096];

/* $BITT_CUDA_PLUGIN, else libbitt_cuda.so in the running executable's directory. */
static int plugin_path(char *out, size_t n, BittError *err) {
    const char *env = getenv("BITT_CUDA_PLUGIN");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return 0;
    }
    char exe[4096];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return bitt_fail(err, "no CUDA plugin (the running executable's directory is unknown: /proc/self/exe; set "
                              "BITT_CUDA_PLUGIN to libbitt_cuda.so)");
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    if (snprintf(out, n, "%s/libbitt_cuda.so", slash ? exe : ".") >= (int)n)
        return bitt_fail(err, "no CUDA plugin (the path of libbitt_cuda.so is too long)");
    return 0;
}

static TrainBackend *open_cuda(const char *options, char *which, size_t which_len, BittError *err) {
    char path[4096];
    if (plugin_path(path, sizeof path, err) != 0) return NULL;
    if (!g_plugin || strcmp(path, g_plugin_path) != 0) {
        if (access(path, R_OK) != 0) {
            bitt_fail(err, "no CUDA plugin (%s is not there: it is built where CMake finds nvcc, and not in sanitizer "
                           "builds)", path);
            return NULL;
        }
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *why = dlerror();
            bitt_fail(err, "no CUDA plugin (%s does not load: %s)", path, why ? why : "unknown error");
            return NULL;
        }
        g_plugin = h;
        snprintf(g_plugin_path, sizeof g_plugin_path, "%s", path);
    }
    void *sym = dlsym(g_plugin, "bitt_train_backend_cuda");
    if (!sym) {
        bitt_fail(err, "no CUDA plugin (%s lacks the entry point bitt_train_backend_cuda)", path);
        return NULL;
    }
    CudaEntry entry;
    memcpy(&entry, &sym, sizeof entry); /* POSIX: a function's address from dlsym */
    TrainBackend *be = entry(options, err);
    if (be) snprintf(which, which_len, "%s", path);
    return be;
}

#endif

TrainBackend *train_backend_open(const char *device, const char *options, char *note, size_t note_len,
                                 BittError *err) {
    if (note && note_len) note[0] = '\0';
    if (!device || strcmp(device, "cpu") == 0) return train_backend_cpu(err);
    const int is_auto = strcmp(device, "auto") == 0;
    if (!is_auto && strcmp(device, "cuda") != 0) {
        bitt_fail(err, "--device: '%s' is not cpu, cuda or auto", device);
        return NULL;
    }
    char which[4096] = "";
    BittError why;
    TrainBackend *be = open_cuda(options, which, sizeof which, &why);
    if (be) {
        if (note && note_len)
            snprintf(note, note_len, "training on the GPU (%s%s%s)", which, options && *options ? ", " : "",
                     options ? options : "");
        return be;
    }
    if (!is_auto) {
        bitt_fail(err, "--device cuda: %s", why.message);
        return NULL;
    }
    if (note && note_len) snprintf(note, note_len, "%s: training on the CPU", why.message);
    return train_backend_cpu(err);
}

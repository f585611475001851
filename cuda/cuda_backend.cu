/* cuda_backend.cu: the trainer's CUDA backend (backend.h), the plugin
 * libbitt_cuda.so: its entry point bitt_train_backend_cuda (the only
 * exported symbol), the buffers (device memory, zeroed on allocation), the
 * sticky first error, the op table, the per-op profile (BITT_CUDA_PROFILE=1)
 * and the ops too small for a file of their own, each mirroring
 * src/train/cpu/cpu_backend.c: element-wise add, embedding (a deterministic
 * backward: tokens grouped by id on the host, each id's rows summed in token
 * order, as the CPU does), softmax cross-entropy, the gradient's sum of
 * squares and AdamW. The products are in cuda_gemm.cu, the per-row layers in
 * cuda_layers.cu, the TTT chains in cuda_ttt_linear.cu and cuda_ttt_seed.cu. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "cuda_reduce.cuh"

/* ---- errors and scratch ---- */

void cuda_fail(CudaBackend *cb, const char *fmt, ...) {
    if (cb->failed) return; /* the first failure is the one worth reading */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cb->failure, sizeof cb->failure, fmt, ap);
    va_end(ap);
    cb->failed = 1;
}

int cuda_check(CudaBackend *cb, cudaError_t e, const char *what) {
    if (e == cudaSuccess) return 1;
    cuda_fail(cb, "%s: %s", what, cudaGetErrorString(e));
    return 0;
}

void cuda_launched(CudaBackend *cb, const char *what) { cuda_check(cb, cudaGetLastError(), what); }

int cublas_check(CudaBackend *cb, cublasStatus_t s, const char *what) {
    if (s == CUBLAS_STATUS_SUCCESS) return 1;
    cuda_fail(cb, "%s: cuBLAS: %s", what, cublasGetStatusString(s));
    return 0;
}

void *cuda_scratch(CudaBackend *cb, size_t bytes) {
    if (bytes <= cb->scratch_bytes && cb->scratch) return cb->scratch;
    /* the old scratch may still be read by queued kernels: wait for them */
    cuda_check(cb, cudaDeviceSynchronize(), "scratch");
    cudaFree(cb->scratch);
    cb->scratch = NULL;
    cb->scratch_bytes = 0;
    const size_t want = bytes + bytes / 4 + 4096;
    if (!cuda_check(cb, cudaMalloc(&cb->scratch, want), "device scratch")) {
        cb->scratch = NULL;
        return NULL;
    }
    cb->scratch_bytes = want;
    return cb->scratch;
}

int32_t *cuda_host_i32(CudaBackend *cb, size_t n) {
    if (n <= cb->host_i32_cap) return cb->host_i32;
    int32_t *p = (int32_t *)realloc(cb->host_i32, n * sizeof *p);
    if (!p) { cuda_fail(cb, "out of host memory (%zu ids)", n); return NULL; }
    cb->host_i32 = p;
    cb->host_i32_cap = n;
    return p;
}

double *cuda_host_f64(CudaBackend *cb, size_t n) {
    if (n <= cb->host_f64_cap) return cb->host_f64;
    double *p = (double *)realloc(cb->host_f64, n * sizeof *p);
    if (!p) { cuda_fail(cb, "out of host memory (%zu values)", n); return NULL; }
    cb->host_f64 = p;
    cb->host_f64_cap = n;
    return p;
}

int cuda_smem_allow(CudaBackend *cb, const void *kernel, size_t bytes, const char *what) {
    if (bytes > (size_t)cb->max_smem) {
        cuda_fail(cb, "%s needs %zu bytes of shared memory per block; this GPU allows %d", what, bytes, cb->max_smem);
        return 0;
    }
    if (bytes <= 48 * 1024) return 1; /* the default limit */
    return cuda_check(cb, cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                      what);
}

/* ---- the profile ---- */

static void prof_drain(CudaBackend *cb) {
    if (!cb->n_pending) return;
    cudaEventSynchronize(cb->ev_end[cb->n_pending - 1]);
    for (int i = 0; i < cb->n_pending; i++) {
        float ms = 0.0f;
        if (cudaEventElapsedTime(&ms, cb->ev_begin[i], cb->ev_end[i]) == cudaSuccess) cb->ops[cb->ev_op[i]].ms += ms;
    }
    cb->n_pending = 0;
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
        cb->total_mem = total_b;
        if (total_b - free_b > cb->peak_used) cb->peak_used = total_b - free_b;
    }
}

void prof_begin(CudaBackend *cb, const char *op) {
    cb->open_op = -1;
    if (cb->n_pending == PROF_MAX_PENDING) prof_drain(cb);
    int i = 0;
    while (i < cb->n_ops && strcmp(cb->ops[i].name, op) != 0) i++;
    if (i == cb->n_ops) {
        if (cb->n_ops == PROF_MAX_OPS) return;
        cb->ops[cb->n_ops++] = ProfOp{op, 0, 0.0};
    }
    cb->ops[i].calls++;
    cb->ev_op[cb->n_pending] = i;
    cudaEventRecord(cb->ev_begin[cb->n_pending], 0);
    cb->open_op = i;
}

void prof_end(CudaBackend *cb) {
    if (cb->open_op < 0) return;
    cudaEventRecord(cb->ev_end[cb->n_pending], 0);
    cb->n_pending++;
    cb->open_op = -1;
}

static void prof_report(CudaBackend *cb) {
    prof_drain(cb);
    double total = 0.0;
    for (int i = 0; i < cb->n_ops; i++) total += cb->ops[i].ms;
    fprintf(stderr, "bitt cuda profile: %s, math %s: %.1f ms of GPU time in backend ops; peak device memory in use "
                    "%.0f MiB of %.0f MiB\n",
            cb->device_name, cb->tf32 ? "tf32" : "f32", total, (double)cb->peak_used / 1048576.0,
            (double)cb->total_mem / 1048576.0);
    fprintf(stderr, "  %-18s %10s %12s %7s\n", "op", "calls", "ms", "share");
    int printed[PROF_MAX_OPS] = {0};
    for (int pass = 0; pass < cb->n_ops; pass++) { /* largest first */
        int best = -1;
        for (int i = 0; i < cb->n_ops; i++)
            if (!printed[i] && (best < 0 || cb->ops[i].ms > cb->ops[best].ms)) best = i;
        printed[best] = 1;
        fprintf(stderr, "  %-18s %10ld %12.2f %6.1f%%\n", cb->ops[best].name, cb->ops[best].calls, cb->ops[best].ms,
                total > 0 ? 100.0 * cb->ops[best].ms / total : 0.0);
    }
    const char *path = getenv("BITT_CUDA_PROFILE_OUT");
    FILE *f = path && *path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "{\"device\": \"%s\", \"math\": \"%s\", \"total_ms\": %.3f, \"peak_used_bytes\": %zu, "
                   "\"total_bytes\": %zu, \"ops\": [",
                cb->device_name, cb->tf32 ? "tf32" : "f32", total, cb->peak_used, cb->total_mem);
        for (int i = 0; i < cb->n_ops; i++)
            fprintf(f, "%s{\"op\": \"%s\", \"calls\": %ld, \"ms\": %.3f}", i ? ", " : "", cb->ops[i].name,
                    cb->ops[i].calls, cb->ops[i].ms);
        fprintf(f, "]}\n");
        fclose(f);
    }
}

/* ---- buffers ---- */

static void *dev_alloc(TrainBackend *be, size_t bytes) {
    CudaBackend *cb = cuda_of(be);
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 4) != cudaSuccess) {
        cudaGetLastError(); /* out of memory is answered by NULL, not kept as the sticky error */
        return NULL;
    }
    if (!cuda_check(cb, cudaMemset(p, 0, bytes ? bytes : 4), "zeroing a new buffer")) {
        cudaFree(p);
        return NULL;
    }
    return p;
}

static real *cu_alloc(TrainBackend *be, size_t n) { return (real *)dev_alloc(be, n * sizeof(real)); }
static int32_t *cu_alloc_i32(TrainBackend *be, size_t n) { return (int32_t *)dev_alloc(be, n * sizeof(int32_t)); }

static void cu_release(TrainBackend *be, void *p) {
    if (p) cuda_check(cuda_of(be), cudaFree(p), "cudaFree");
}

static void cu_upload(TrainBackend *be, real *dst, const real *host, size_t n) {
    if (n) cuda_check(cuda_of(be), cudaMemcpy(dst, host, n * sizeof(real), cudaMemcpyHostToDevice), "upload");
}

static void cu_download(TrainBackend *be, real *host, const real *src, size_t n) {
    if (n) cuda_check(cuda_of(be), cudaMemcpy(host, src, n * sizeof(real), cudaMemcpyDeviceToHost), "download");
}

static void cu_upload_i32(TrainBackend *be, int32_t *dst, const int32_t *host, size_t n) {
    if (n) cuda_check(cuda_of(be), cudaMemcpy(dst, host, n * sizeof(int32_t), cudaMemcpyHostToDevice), "upload");
}

static void cu_zero(TrainBackend *be, real *p, size_t n) {
    if (n) cuda_check(cuda_of(be), cudaMemsetAsync(p, 0, n * sizeof(real), 0), "zero");
}

static void cu_copy(TrainBackend *be, real *dst, const real *src, size_t n) {
    if (n && dst != src)
        cuda_check(cuda_of(be), cudaMemcpyAsync(dst, src, n * sizeof(real), cudaMemcpyDeviceToDevice, 0), "copy");
}

static __global__ void add_kernel(real *y, const real *x, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

static void cu_add(TrainBackend *be, real *y, const real *x, size_t n) {
    CudaBackend *cb = cuda_of(be);
    if (!n) return;
    ProfScope ps(cb, "add");
    LAUNCH(add_kernel, grid_for(n, CUDA_THREADS), CUDA_THREADS, 0, y, x, n);
    cuda_launched(cb, "add");
}

/* ---- embedding ---- */

/* out[t] = table[ids[t]]: one block per row */
static __global__ void embed_fwd_kernel(const real *table, const int32_t *ids, int D, real *out) {
    const size_t t = blockIdx.x;
    const real *src = table + (size_t)ids[t] * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x) out[t * D + i] = src[i];
}

static void cu_embed_fwd(TrainBackend *be, const real *table, const int32_t *ids, int rows, int D, real *out) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "embed_fwd");
    LAUNCH(embed_fwd_kernel, (unsigned)rows, CUDA_THREADS, 0, table, ids, D, out);
    cuda_launched(cb, "embed_fwd");
}


/* One block per distinct id: dtable[id] += dx of its tokens in increasing
 * token order (perm[seg[s] .. seg[s + 1]) lists them so), the CPU's order:
 * the row's sums are bit for bit the CPU's. */
static __global__ void embed_bwd_kernel(const real *dx, const int32_t *ids, const int32_t *perm, const int32_t *seg,
                                        int D, real *dtable) {
    const int s = blockIdx.x, k0 = seg[s], k1 = seg[s + 1];
    real *row = dtable + (size_t)ids[perm[k0]] * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        real acc = row[i];
        for (int k = k0; k < k1; k++) acc += dx[(size_t)perm[k] * D + i];
        row[i] = acc;
    }
}

static void cu_embed_bwd(TrainBackend *be, const real *dx, const int32_t *ids, int rows, int D, real *dtable) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "embed_bwd");
    /* the ids to the host; a stable counting sort by id there */
    int32_t *h = cuda_host_i32(cb, (size_t)rows);
    if (!h || !cuda_check(cb, cudaMemcpy(h, ids, (size_t)rows * sizeof(int32_t), cudaMemcpyDeviceToHost),
                          "embed_bwd: ids"))
        return;
    int32_t max_id = 0;
    for (int t = 0; t < rows; t++) {
        if (h[t] < 0) { cuda_fail(cb, "embed_bwd: negative token id %d", (int)h[t]); return; }
        if (h[t] > max_id) max_id = h[t];
    }
    /* host scratch: ids (rows) | perm (rows) | seg (rows + 1) | start (max_id + 2) */
    h = cuda_host_i32(cb, 3 * (size_t)rows + 1 + (size_t)max_id + 2);
    if (!h) return;
    int32_t *perm = h + rows, *seg = perm + rows, *start = seg + rows + 1;
    memset(start, 0, ((size_t)max_id + 2) * sizeof(int32_t));
    for (int t = 0; t < rows; t++) start[h[t] + 1]++;
    for (int32_t v = 0; v <= max_id; v++) start[v + 1] += start[v];
    for (int t = 0; t < rows; t++) perm[start[h[t]]++] = t; /* increasing t within each id */
    int nseg = 0;
    for (int k = 0; k < rows; k++)
        if (k == 0 || h[perm[k]] != h[perm[k - 1]]) seg[nseg++] = k;
    seg[nseg] = rows;
    int32_t *dev = (int32_t *)cuda_scratch(cb, (2 * (size_t)rows + 1) * sizeof(int32_t));
    if (!dev) return;
    if (!cuda_check(cb, cudaMemcpy(dev, perm, (size_t)rows * sizeof(int32_t), cudaMemcpyHostToDevice),
                    "embed_bwd: upload") ||
        !cuda_check(cb, cudaMemcpy(dev + rows, seg, ((size_t)nseg + 1) * sizeof(int32_t), cudaMemcpyHostToDevice),
                    "embed_bwd: upload"))
        return;
    LAUNCH(embed_bwd_kernel, (unsigned)nseg, CUDA_THREADS, 0, dx, ids, dev, dev + rows, D, dtable);
    cuda_launched(cb, "embed_bwd");
}

/* ---- softmax cross-entropy: one block per row ---- */

static __global__ void xent_fwd_kernel(real *logits, const int32_t *targets, int V, double *row_loss) {
    const size_t t = blockIdx.x;
    real *z = logits + t * V;
    const real target = z[targets[t]]; /* read before any thread writes (block_max syncs) */
    real mx = -INFINITY;
    for (int v = threadIdx.x; v < V; v += blockDim.x) mx = max_keep(mx, z[v]);
    mx = block_max(mx);
    double sum = 0.0;
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        z[v] = expf(z[v] - mx);
        sum += (double)z[v];
    }
    sum = block_sum_d(sum);
    const real inv = (real)(1.0 / sum);
    for (int v = threadIdx.x; v < V; v += blockDim.x) z[v] *= inv;
    if (threadIdx.x == 0) row_loss[t] = log(sum) - (double)(target - mx);
}

static void cu_xent_fwd(TrainBackend *be, real *logits, const int32_t *targets, int rows, int V, double *row_loss) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "xent_fwd");
    double *dev = (double *)cuda_scratch(cb, (size_t)rows * sizeof(double));
    if (!dev) return;
    LAUNCH(xent_fwd_kernel, (unsigned)rows, CUDA_THREADS, 0, logits, targets, V, dev);
    cuda_launched(cb, "xent_fwd");
    cuda_check(cb, cudaMemcpy(row_loss, dev, (size_t)rows * sizeof(double), cudaMemcpyDeviceToHost),
               "xent_fwd: row losses");
}

/* (p - onehot(target)) * scale, as the CPU's p[target] -= 1 then p *= scale */
static __global__ void xent_bwd_kernel(real *probs, const int32_t *targets, int V, real scale) {
    const size_t t = blockIdx.x;
    real *p = probs + t * V;
    const int target = targets[t];
    for (int v = threadIdx.x; v < V; v += blockDim.x) p[v] = (v == target ? p[v] - 1 : p[v]) * scale;
}

static void cu_xent_bwd(TrainBackend *be, real *probs, const int32_t *targets, int rows, int V, real scale) {
    CudaBackend *cb = cuda_of(be);
    if (rows <= 0) return;
    ProfScope ps(cb, "xent_bwd");
    LAUNCH(xent_bwd_kernel, (unsigned)rows, CUDA_THREADS, 0, probs, targets, V, scale);
    cuda_launched(cb, "xent_bwd");
}

/* ---- optimiser ---- */

static double cu_sum_squares(TrainBackend *be, const real *x, size_t n) {
    CudaBackend *cb = cuda_of(be);
    ProfScope ps(cb, "sum_squares");
    double *dev = (double *)cuda_scratch(cb, (REDUCE_BLOCKS + 1) * sizeof(double));
    if (!dev) return NAN;
    cuda_sum_f64(cb, x, n, 1, dev, dev + 1);
    double s = NAN;
    if (!cuda_check(cb, cudaMemcpy(&s, dev, sizeof s, cudaMemcpyDeviceToHost), "sum_squares")) return NAN;
    return s;
}

/* the CPU's AdamW step, operation for operation (float) */
static __global__ void adamw_kernel(real *p, const real *g, real *m, real *v, size_t n, float lr, float decay, float b1,
                                    float b2, float eps, float c1, float c2, float grad_scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const real gi = g[i] * grad_scale;
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        const real mh = m[i] / c1, vh = v[i] / c2;
        p[i] -= lr * mh / (sqrtf(vh) + eps) + decay * p[i];
    }
}

static void cu_adamw(TrainBackend *be, real *params, const real *grads, real *m, real *v, const AdamWTensor *tensors,
                     int n_tensors, float lr, float wd, float b1, float b2, float eps, float c1, float c2,
                     float grad_scale) {
    CudaBackend *cb = cuda_of(be);
    ProfScope ps(cb, "adamw");
    /* one launch per run of adjacent tensors with the same decay */
    for (int ti = 0; ti < n_tensors;) {
        const size_t off = tensors[ti].offset;
        const int wdk = tensors[ti].weight_decay != 0;
        size_t count = tensors[ti].count;
        int tj = ti + 1;
        while (tj < n_tensors && (tensors[tj].weight_decay != 0) == wdk && tensors[tj].offset == off + count)
            count += tensors[tj++].count;
        const float decay = wdk ? lr * wd : 0.0f;
        if (count)
            LAUNCH(adamw_kernel, grid_for(count, CUDA_THREADS), CUDA_THREADS, 0, params + off, grads + off, m + off,
                   v + off, count, lr, decay, b1, b2, eps, c1, c2, grad_scale);
        ti = tj;
    }
    cuda_launched(cb, "adamw");
}

/* ---- the backend ---- */

static int cu_status(TrainBackend *be, BittError *err) {
    CudaBackend *cb = cuda_of(be);
    cuda_check(cb, cudaDeviceSynchronize(), "a kernel"); /* errors of queued work surface here */
    cuda_launched(cb, "a kernel");
    if (cb->profile) prof_drain(cb);
    if (!cb->failed) return 0;
    cb->failed = 0;
    return bitt_fail(err, "CUDA trainer: %s", cb->failure);
}

static void cu_destroy(TrainBackend *be) {
    if (!be) return;
    CudaBackend *cb = cuda_of(be);
    cudaDeviceSynchronize();
    if (cb->profile) {
        prof_report(cb);
        for (int i = 0; i < PROF_MAX_PENDING; i++) {
            cudaEventDestroy(cb->ev_begin[i]);
            cudaEventDestroy(cb->ev_end[i]);
        }
    }
    cudaFree(cb->scratch);
    if (cb->blas) cublasDestroy(cb->blas);
    free(cb->host_i32);
    free(cb->host_f64);
    free(cb);
}

static __global__ void probe_kernel(int *out) {
    if (threadIdx.x == 0) *out = 0x5eed;
}

/* options: comma-separated key=value; today math=f32 (default) or math=tf32 */
static int parse_options(CudaBackend *cb, const char *options, BittError *err) {
    const char *p = options ? options : "";
    while (*p) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 8 && strncmp(p, "math=f32", 8) == 0) cb->tf32 = 0;
        else if (len == 9 && strncmp(p, "math=tf32", 9) == 0) cb->tf32 = 1;
        else if (len > 0)
            return bitt_fail(err, "CUDA trainer: unknown option '%.*s' (known: math=f32, math=tf32)", (int)len, p);
        p += len + (end ? 1 : 0);
    }
    return 0;
}

extern "C" __attribute__((visibility("default"))) TrainBackend *BITT_CUDA_ENTRY(const char *options, BittError *err) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        bitt_fail(err, "no CUDA GPU (cudaGetDeviceCount: %s)", cudaGetErrorString(e));
        return NULL;
    }
    if (count < 1) {
        bitt_fail(err, "no CUDA GPU (cudaGetDeviceCount found none)");
        return NULL;
    }
    CudaBackend *cb = (CudaBackend *)calloc(1, sizeof *cb);
    if (!cb) {
        bitt_fail(err, "out of memory");
        return NULL;
    }
    if (parse_options(cb, options, err) != 0) {
        free(cb);
        return NULL;
    }
    cudaDeviceProp prop;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess ||
        (e = cudaDeviceGetAttribute(&cb->max_smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0)) != cudaSuccess) {
        bitt_fail(err, "no usable CUDA GPU (device 0: %s)", cudaGetErrorString(e));
        free(cb);
        return NULL;
    }
    snprintf(cb->device_name, sizeof cb->device_name, "%.200s (compute capability %d.%d, %d SMs, %.0f GiB)", prop.name,
             prop.major, prop.minor, prop.multiProcessorCount, (double)prop.totalGlobalMem / 1073741824.0);
    cb->sm_count = prop.multiProcessorCount;
    if (prop.major < 8) {
        bitt_fail(err, "no usable CUDA GPU: %s; the plugin is built for compute capability 8.0 and 9.0 (and newer "
                       "through PTX)", cb->device_name);
        free(cb);
        return NULL;
    }
    /* one tiny kernel, run to the end: the plugin's code loads on this GPU */
    int *probe = NULL, got = 0;
    if ((e = cudaMalloc(&probe, sizeof(int))) == cudaSuccess) {
        LAUNCH(probe_kernel, 1, 32, 0, probe);
        if ((e = cudaGetLastError()) == cudaSuccess && (e = cudaDeviceSynchronize()) == cudaSuccess)
            e = cudaMemcpy(&got, probe, sizeof got, cudaMemcpyDeviceToHost);
        cudaFree(probe);
    }
    if (e != cudaSuccess || got != 0x5eed) {
        bitt_fail(err, "no usable CUDA GPU: a test kernel failed on %s (%s)", cb->device_name,
                  e != cudaSuccess ? cudaGetErrorString(e) : "wrong result");
        free(cb);
        return NULL;
    }
    cublasStatus_t s = cublasCreate(&cb->blas);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetMathMode(cb->blas, cb->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        bitt_fail(err, "CUDA trainer: cuBLAS: %s", cublasGetStatusString(s));
        if (cb->blas) cublasDestroy(cb->blas);
        free(cb);
        return NULL;
    }
    const char *prof = getenv("BITT_CUDA_PROFILE");
    if (prof && *prof && strcmp(prof, "0") != 0) {
        int made = 0;
        while (made < PROF_MAX_PENDING && cudaEventCreate(&cb->ev_begin[made]) == cudaSuccess) {
            if (cudaEventCreate(&cb->ev_end[made]) != cudaSuccess) {
                cudaEventDestroy(cb->ev_begin[made]);
                break;
            }
            made++;
        }
        if (made < PROF_MAX_PENDING) {
            for (int i = 0; i < made; i++) {
                cudaEventDestroy(cb->ev_begin[i]);
                cudaEventDestroy(cb->ev_end[i]);
            }
            bitt_fail(err, "CUDA trainer: cannot create the profile's events (BITT_CUDA_PROFILE)");
            cu_destroy(&cb->be);
            return NULL;
        }
        cb->profile = 1;
        cb->open_op = -1;
    }
    TrainBackend *be = &cb->be;
    be->name = "cuda";
    be->impl = cb;
    be->destroy = cu_destroy;
    be->status = cu_status;
    be->alloc = cu_alloc;
    be->alloc_i32 = cu_alloc_i32;
    be->release = cu_release;
    be->upload = cu_upload;
    be->download = cu_download;
    be->upload_i32 = cu_upload_i32;
    be->zero = cu_zero;
    be->copy = cu_copy;
    be->add = cu_add;
    be->gemm = cuda_gemm;
    be->ternarize = cuda_ternarize;
    be->act_quant = cuda_act_quant;
    be->rmsnorm_fwd = cuda_rmsnorm_fwd;
    be->rmsnorm_bwd = cuda_rmsnorm_bwd;
    be->swiglu_fwd = cuda_swiglu_fwd;
    be->swiglu_bwd = cuda_swiglu_bwd;
    be->gate_fwd = cuda_gate_fwd;
    be->gate_bwd = cuda_gate_bwd;
    be->ttt_linear_fwd = cuda_ttt_linear_fwd;
    be->ttt_linear_bwd = cuda_ttt_linear_bwd;
    be->ttt_seed_fwd = cuda_ttt_seed_fwd;
    be->ttt_seed_bwd = cuda_ttt_seed_bwd;
    be->embed_fwd = cu_embed_fwd;
    be->embed_bwd = cu_embed_bwd;
    be->xent_fwd = cu_xent_fwd;
    be->xent_bwd = cu_xent_bwd;
    be->sum_squares = cu_sum_squares;
    be->adamw = cu_adamw;
    return be;
}

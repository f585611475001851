/* cpu_backend.c: the trainer's CPU backend (cpu_backend.h): buffers in host
 * memory, the op table, and the ops too small for a file of their own
 * (element-wise updates, embedding, softmax cross-entropy, the gradient's
 * sum of squares, AdamW); the products are in cpu_gemm.c, the per-row
 * layers in cpu_layers.c, the TTT chains in cpu_ttt_linear.c and
 * cpu_ttt_seed.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/threadpool.h"
#include "cpu_internal.h"

/* ---- scratch and tapes ---- */

real **cpu_scratch(CpuBackend *cb, size_t n) {
    const int workers = threads_get() > 0 ? threads_get() : 1;
    if (workers <= cb->n_scratch && n <= cb->scratch_cap) return cb->scratch;
    const int count = workers > cb->n_scratch ? workers : cb->n_scratch;
    const size_t cap = n > cb->scratch_cap ? n : cb->scratch_cap;
    for (int i = 0; i < cb->n_scratch; i++) free(cb->scratch[i]);
    free(cb->scratch);
    cb->scratch = calloc((size_t)count, sizeof *cb->scratch);
    cb->n_scratch = cb->scratch ? count : 0;
    cb->scratch_cap = cap;
    for (int i = 0; i < cb->n_scratch; i++)
        if (!(cb->scratch[i] = malloc(cap * sizeof(real)))) {
            for (int k = 0; k < i; k++) free(cb->scratch[k]);
            free(cb->scratch);
            cb->scratch = NULL;
            cb->n_scratch = 0;
        }
    if (!cb->scratch) {
        cb->scratch_cap = 0;
        cb->oom = 1;
    }
    return cb->scratch;
}

real *cpu_tape_take(CpuBackend *cb, CpuTape *t, size_t n) {
    if (cb->freeze == 1) {
        if (t->pos + n > t->cap) {
            const size_t cap = (t->cap ? t->cap * 2 : 4096) + n;
            real *v = realloc(t->v, cap * sizeof(real));
            if (!v) { cb->tape_failed = 1; return NULL; }
            t->v = v;
            t->cap = cap;
        }
        real *p = t->v + t->pos;
        t->pos += n;
        if (t->pos > t->len) t->len = t->pos;
        return p;
    }
    if (t->pos + n > t->len) { cb->tape_failed = 1; return NULL; }
    real *p = t->v + t->pos;
    t->pos += n;
    return p;
}

void train_cpu_set_freeze(TrainBackend *be, int freeze) { cpu_of(be)->freeze = freeze; }

void train_cpu_tape_rewind(TrainBackend *be) {
    CpuBackend *cb = cpu_of(be);
    cb->weight_tape.pos = cb->act_tape.pos = 0;
    if (cb->freeze == 1) cb->weight_tape.len = cb->act_tape.len = 0;
}

int train_cpu_tape_failed(const TrainBackend *be) { return ((const CpuBackend *)be)->tape_failed; }

/* ---- buffers ---- */

static real *cpu_alloc(TrainBackend *be, size_t n) {
    (void)be;
    return calloc(n ? n : 1, sizeof(real));
}

static int32_t *cpu_alloc_i32(TrainBackend *be, size_t n) {
    (void)be;
    return calloc(n ? n : 1, sizeof(int32_t));
}

static void cpu_release(TrainBackend *be, void *p) {
    (void)be;
    free(p);
}

static void cpu_upload(TrainBackend *be, real *dst, const real *host, size_t n) {
    (void)be;
    if (n && dst != host) memcpy(dst, host, n * sizeof(real));
}

static void cpu_download(TrainBackend *be, real *host, const real *src, size_t n) {
    (void)be;
    if (n && host != src) memcpy(host, src, n * sizeof(real));
}

static void cpu_upload_i32(TrainBackend *be, int32_t *dst, const int32_t *host, size_t n) {
    (void)be;
    if (n) memcpy(dst, host, n * sizeof(int32_t));
}

static void cpu_zero(TrainBackend *be, real *p, size_t n) {
    (void)be;
    if (n) memset(p, 0, n * sizeof(real));
}

static void cpu_copy(TrainBackend *be, real *dst, const real *src, size_t n) {
    (void)be;
    if (n && dst != src) memcpy(dst, src, n * sizeof(real));
}

static void cpu_add(TrainBackend *be, real *y, const real *x, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* ---- embedding ---- */

static void cpu_embed_fwd(TrainBackend *be, const real *table, const int32_t *ids, int rows, int D, real *out) {
    (void)be;
    for (int t = 0; t < rows; t++)
        memcpy(out + (size_t)t * D, table + (size_t)ids[t] * D, (size_t)D * sizeof(real));
}

static void cpu_embed_bwd(TrainBackend *be, const real *dx, const int32_t *ids, int rows, int D, real *dtable) {
    (void)be;
    for (int t = 0; t < rows; t++) {
        const real *d = dx + (size_t)t * D;
        real *row = dtable + (size_t)ids[t] * D;
        for (int i = 0; i < D; i++) row[i] += d[i];
    }
}

/* ---- softmax cross-entropy ---- */

typedef struct XentJob {
    real *z;
    const int32_t *targets;
    int V;
    double *row_loss;
    real scale;
} XentJob;

static void xent_fwd_rows(void *ctx, int t0, int t1, int worker) {
    (void)worker;
    const XentJob *j = ctx;
    const int V = j->V;
    for (int t = t0; t < t1; t++) {
        real *z = j->z + (size_t)t * V;
        real mx = z[0];
        for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        double sum = 0.0;
        const real target = z[j->targets[t]];
        for (int v = 0; v < V; v++) {
            z[v] = REAL_EXP(z[v] - mx);
            sum += (double)z[v];
        }
        const real inv = (real)(1.0 / sum);
        for (int v = 0; v < V; v++) z[v] *= inv;
        j->row_loss[t] = log(sum) - (double)(target - mx);
    }
}

static void cpu_xent_fwd(TrainBackend *be, real *logits, const int32_t *targets, int rows, int V, double *row_loss) {
    (void)be;
    XentJob j = {logits, targets, V, row_loss, 0};
    parallel_for(rows, 1, xent_fwd_rows, &j);
}

static void xent_bwd_rows(void *ctx, int t0, int t1, int worker) {
    (void)worker;
    const XentJob *j = ctx;
    for (int t = t0; t < t1; t++) {
        real *p = j->z + (size_t)t * j->V;
        p[j->targets[t]] -= 1;
        for (int v = 0; v < j->V; v++) p[v] *= j->scale;
    }
}

static void cpu_xent_bwd(TrainBackend *be, real *probs, const int32_t *targets, int rows, int V, real scale) {
    (void)be;
    XentJob j = {probs, targets, V, NULL, scale};
    parallel_for(rows, 1, xent_bwd_rows, &j);
}

/* ---- optimiser ---- */

static double cpu_sum_squares(TrainBackend *be, const real *x, size_t n) {
    (void)be;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

static void cpu_adamw(TrainBackend *be, real *params, const real *grads, real *m, real *v, const AdamWTensor *tensors,
                      int n_tensors, float lr, float wd, float b1, float b2, float eps, float c1, float c2,
                      float grad_scale) {
    (void)be;
    for (int ti = 0; ti < n_tensors; ti++) {
        const AdamWTensor *t = &tensors[ti];
        const float decay = t->weight_decay ? lr * wd : 0.0f;
        real *p = params + t->offset, *mt = m + t->offset, *vt = v + t->offset;
        const real *g = grads + t->offset;
        for (size_t i = 0; i < t->count; i++) {
            const real gi = g[i] * grad_scale;
            mt[i] = b1 * mt[i] + (1.0f - b1) * gi;
            vt[i] = b2 * vt[i] + (1.0f - b2) * gi * gi;
            const real mh = mt[i] / c1, vh = vt[i] / c2;
            p[i] -= lr * mh / (REAL_SQRT(vh) + eps) + decay * p[i];
        }
    }
}

/* ---- the backend ---- */

static int cpu_status(TrainBackend *be, BittError *err) {
    CpuBackend *cb = cpu_of(be);
    if (!cb->oom) return 0;
    cb->oom = 0;
    return bitt_fail(err, "out of memory for the CPU trainer's scratch");
}

static void cpu_destroy(TrainBackend *be) {
    if (!be) return;
    CpuBackend *cb = cpu_of(be);
    for (int i = 0; i < cb->n_scratch; i++) free(cb->scratch[i]);
    free(cb->scratch);
    free(cb->transposed);
    free(cb->weight_tape.v);
    free(cb->act_tape.v);
    free(cb);
}

TrainBackend *train_backend_cpu(BittError *err) {
    CpuBackend *cb = calloc(1, sizeof *cb);
    if (!cb) {
        bitt_fail(err, "out of memory");
        return NULL;
    }
    TrainBackend *be = &cb->be;
    be->name = "cpu";
    be->impl = cb;
    be->destroy = cpu_destroy;
    be->status = cpu_status;
    be->alloc = cpu_alloc;
    be->alloc_i32 = cpu_alloc_i32;
    be->release = cpu_release;
    be->upload = cpu_upload;
    be->download = cpu_download;
    be->upload_i32 = cpu_upload_i32;
    be->zero = cpu_zero;
    be->copy = cpu_copy;
    be->add = cpu_add;
    be->gemm = cpu_gemm;
    be->ternarize = cpu_ternarize;
    be->act_quant = cpu_act_quant;
    be->rmsnorm_fwd = cpu_rmsnorm_fwd;
    be->rmsnorm_bwd = cpu_rmsnorm_bwd;
    be->swiglu_fwd = cpu_swiglu_fwd;
    be->swiglu_bwd = cpu_swiglu_bwd;
    be->gate_fwd = cpu_gate_fwd;
    be->gate_bwd = cpu_gate_bwd;
    be->ttt_linear_fwd = cpu_ttt_linear_fwd;
    be->ttt_linear_bwd = cpu_ttt_linear_bwd;
    be->ttt_seed_fwd = cpu_ttt_seed_fwd;
    be->ttt_seed_bwd = cpu_ttt_seed_bwd;
    be->embed_fwd = cpu_embed_fwd;
    be->embed_bwd = cpu_embed_bwd;
    be->xent_fwd = cpu_xent_fwd;
    be->xent_bwd = cpu_xent_bwd;
    be->sum_squares = cpu_sum_squares;
    be->adamw = cpu_adamw;
    return be;
}

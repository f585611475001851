/* cpu_internal.h: what the CPU backend's files share: its state (per-thread
 * scratch, the gradient check's tapes) and the op implementations that
 * cpu_backend.c puts into the TrainBackend table. */
#ifndef BITT_TRAIN_CPU_INTERNAL_H
#define BITT_TRAIN_CPU_INTERNAL_H

#include <stddef.h>

#include "cpu_backend.h"

#define CpuTape TRAIN_SYM(CpuTape)
#define CpuBackend TRAIN_SYM(CpuBackend)

typedef struct CpuTape {
    real *v;
    size_t len, cap, pos;
} CpuTape;

typedef struct CpuBackend {
    TrainBackend be;
    real *transposed;          /* gemm's scratch for an operand given transposed */
    size_t transposed_cap;
    real **scratch;            /* per worker thread */
    size_t scratch_cap;
    int n_scratch;
    int freeze;                /* 0, 1 (record), 2 (replay) */
    CpuTape weight_tape, act_tape;
    int tape_failed;
    int oom;                   /* an op could not get scratch memory: reported by status */
} CpuBackend;

static inline CpuBackend *cpu_of(TrainBackend *be) { return (CpuBackend *)be; }

/* Per-worker scratch of at least n reals each (kept across calls); NULL when out of memory. */
#define cpu_scratch TRAIN_SYM(cpu_scratch)
real **cpu_scratch(CpuBackend *cb, size_t n);
/* The next n values of a tape: appended under freeze 1, replayed under freeze 2. */
#define cpu_tape_take TRAIN_SYM(cpu_tape_take)
real *cpu_tape_take(CpuBackend *cb, CpuTape *t, size_t n);

#define cpu_gemm TRAIN_SYM(cpu_gemm)
#define cpu_ternarize TRAIN_SYM(cpu_ternarize)
#define cpu_act_quant TRAIN_SYM(cpu_act_quant)
#define cpu_rmsnorm_fwd TRAIN_SYM(cpu_rmsnorm_fwd)
#define cpu_rmsnorm_bwd TRAIN_SYM(cpu_rmsnorm_bwd)
#define cpu_swiglu_fwd TRAIN_SYM(cpu_swiglu_fwd)
#define cpu_swiglu_bwd TRAIN_SYM(cpu_swiglu_bwd)
#define cpu_gate_fwd TRAIN_SYM(cpu_gate_fwd)
#define cpu_gate_bwd TRAIN_SYM(cpu_gate_bwd)
#define cpu_ttt_linear_fwd TRAIN_SYM(cpu_ttt_linear_fwd)
#define cpu_ttt_linear_bwd TRAIN_SYM(cpu_ttt_linear_bwd)
#define cpu_ttt_seed_fwd TRAIN_SYM(cpu_ttt_seed_fwd)
#define cpu_ttt_seed_bwd TRAIN_SYM(cpu_ttt_seed_bwd)

/* cpu_gemm.c */
void cpu_gemm(TrainBackend *be, int ta, int tb, int M, int N, int K, const real *A, const real *B, real *C,
              int accumulate);
/* cpu_layers.c */
void cpu_ternarize(TrainBackend *be, const real *W, size_t n, real *out);
void cpu_act_quant(TrainBackend *be, const real *x, int rows, int cols, real *out);
void cpu_rmsnorm_fwd(TrainBackend *be, const real *x, const real *w, int rows, int n, real eps, real *y, real *r);
void cpu_rmsnorm_bwd(TrainBackend *be, const real *x, const real *r, const real *w, const real *dy, int rows, int n,
                     real *dx, int accumulate, real *dw);
void cpu_swiglu_fwd(TrainBackend *be, const real *a, const real *u, size_t n, real *h);
void cpu_swiglu_bwd(TrainBackend *be, const real *a, const real *u, real *dh, real *da, size_t n);
void cpu_gate_fwd(TrainBackend *be, GateKind kind, real *z, const real *bias, int rows, int H);
void cpu_gate_bwd(TrainBackend *be, GateKind kind, const real *y, real *dy, int rows, int H, real *dbias);
/* cpu_ttt_linear.c, cpu_ttt_seed.c */
void cpu_ttt_linear_fwd(TrainBackend *be, const TttLinearChain *c);
void cpu_ttt_linear_bwd(TrainBackend *be, const TttLinearChain *c);
void cpu_ttt_seed_fwd(TrainBackend *be, const TttSeedChain *c);
void cpu_ttt_seed_bwd(TrainBackend *be, const TttSeedChain *c);

/* sigmoid in the trainer's precision */
static inline real cpu_sigm(real x) { return (real)1 / ((real)1 + REAL_EXP(-x)); }

#endif

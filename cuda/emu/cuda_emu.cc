/* cuda_emu.cc: the host emulator of cuda_emu.h: launches, the warp
 * shuffle, the memory calls (host heap, poisoned with NaN bytes), events
 * (host clock) and cublasGemmEx (a column-major loop, as cuBLAS defines it).
 *
 * A launch runs its blocks one after another. The threads of a block are
 * fibers on the calling thread: each runs until it reaches a barrier
 * (__syncthreads, or its warp's barrier inside __syncwarp and the shuffles)
 * or returns. Between two block barriers the warps run one at a time, in a
 * fresh pseudo-random order, each warp's lanes in a pseudo-random order
 * from warp barrier to warp barrier; when every live thread waits at
 * the block barrier, it opens. So a missing barrier (a thread reading what
 * another writes in the same phase) gives results that depend on the order,
 * and differ from the CPU's in the tests. A barrier that can never open
 * (one in divergent code) aborts the launch with the kernel's name instead
 * of hanging. On x86-64 a fiber switch is six
 * pushes and pops (glibc's swapcontext makes a system call each time, which
 * made the tests ten times slower); elsewhere it is ucontext. Under
 * AddressSanitizer the switches are announced to it (its fiber API). */
#include "cuda_emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#endif
#ifdef EMU_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__x86_64__)
#define EMU_ASM_SWITCH 1
/* emu_switch(save, load): saves the callee-saved registers on the current
 * stack and its pointer in *save, then continues on the stack `load` */
extern "C" void emu_switch(void **save, void *load);
asm(".text\n"
    ".globl emu_switch\n"
    ".hidden emu_switch\n"
    ".type emu_switch,@function\n"
    "emu_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size emu_switch, .-emu_switch\n"
    ".section .note.GNU-stack,\"\",@progbits\n"
    ".text\n");
#else
#include <ucontext.h>
#endif

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace {

enum FiberState { RUNNABLE, AT_BLOCK, AT_WARP, DONE };

struct Fiber {
#ifdef EMU_ASM_SWITCH
    void *sp;
#else
    ucontext_t ctx;
#endif
    FiberState state;
    void *fake_stack; /* AddressSanitizer's, while switched out */
};

struct Launch {
    const char *name;
    const std::function<void()> *body;
    dim3 grid, block;
    unsigned nt;
    std::vector<Fiber> fibers;
    std::vector<char *> stacks;
    std::vector<unsigned> order; /* of the warps */
    std::vector<uint64_t> slots; /* one per thread: the shuffle's exchange */
    float *smem;
#ifdef EMU_ASM_SWITCH
    void *sched_sp;
#else
    ucontext_t sched;
#endif
    void *sched_fake;
    const void *sched_bottom; /* the scheduler's stack, for AddressSanitizer */
    size_t sched_size;
    unsigned cur;
    uint64_t rng;
};

Launch *g_launch = nullptr;
const size_t STACK_BYTES = 256 * 1024;

[[noreturn]] void die(const char *name, const char *what) {
    fprintf(stderr, "cuda emulator: launch of %s: %s\n", name, what);
    abort();
}

void set_thread_index(const Launch &L, unsigned t) {
    if (L.block.y == 1 && L.block.z == 1) {
        threadIdx.x = t;
        threadIdx.y = threadIdx.z = 0;
        return;
    }
    threadIdx.x = t % L.block.x;
    threadIdx.y = t / L.block.x % L.block.y;
    threadIdx.z = t / (L.block.x * L.block.y);
}

/* scheduler -> fiber t, back when it waits or is done */
void switch_to_fiber(Launch &L, unsigned t) {
    Fiber &f = L.fibers[t];
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(&L.sched_fake, L.stacks[t], STACK_BYTES);
#endif
#ifdef EMU_ASM_SWITCH
    emu_switch(&L.sched_sp, f.sp);
#else
    swapcontext(&L.sched, &f.ctx);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(L.sched_fake, nullptr, nullptr);
#endif
}

/* the running fiber -> the scheduler (for good when it is done) */
void switch_to_scheduler(Launch &L) {
    Fiber &f = L.fibers[L.cur];
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(f.state == DONE ? nullptr : &f.fake_stack, L.sched_bottom, L.sched_size);
#endif
#ifdef EMU_ASM_SWITCH
    emu_switch(&f.sp, L.sched_sp);
#else
    swapcontext(&f.ctx, &L.sched);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(f.fake_stack, nullptr, nullptr);
#endif
}

void fiber_main() {
    Launch *L = g_launch;
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &L->sched_bottom, &L->sched_size);
#endif
    (*L->body)();
    L->fibers[L->cur].state = DONE;
    switch_to_scheduler(*L);
    die(L->name, "a finished thread was resumed");
}

/* the running fiber waits in state s until the scheduler opens its barrier */
void wait_at(FiberState s) {
    Launch *L = g_launch;
    L->fibers[L->cur].state = s;
    switch_to_scheduler(*L);
}

void start_fiber(Launch &L, unsigned t) {
    Fiber &f = L.fibers[t];
    f.state = RUNNABLE;
    f.fake_stack = nullptr;
#ifdef EMU_ASM_SWITCH
    /* the stack emu_switch pops: six registers, then fiber_main as the return
     * address; fiber_main starts with rsp = 8 mod 16, as after a call */
    uintptr_t top = ((uintptr_t)L.stacks[t] + STACK_BYTES) & ~(uintptr_t)15;
    void **sp = (void **)(top - 64);
    for (int i = 0; i < 6; i++) sp[i] = nullptr;
    sp[6] = (void *)&fiber_main;
    sp[7] = nullptr;
    f.sp = sp;
#else
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = L.stacks[t];
    f.ctx.uc_stack.ss_size = STACK_BYTES;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, fiber_main, 0);
#endif
}

uint64_t next_random(Launch &L) {
    L.rng = L.rng * 6364136223846793005ull + 1442695040888963407ull;
    return L.rng >> 32;
}

/* Runs warp w's lanes (each time in a random one of 64 orders: a rotation,
 * forwards or backwards, so that of any two lanes each runs first about half
 * of the time) until every lane that has not returned waits at the block
 * barrier, opening its warp barrier whenever all of them wait there. Warps
 * are independent between block barriers, so running them one at a time is
 * one of the orders a GPU may take. */
void run_warp(Launch &L, unsigned w) {
    for (;;) {
        const uint64_t r = next_random(L);
        const unsigned start = (unsigned)(r & 31), step = r & 32 ? 31u : 1u;
        for (unsigned i = 0, lane = start; i < 32; i++, lane = (lane + step) & 31) {
            const unsigned t = 32 * w + lane;
            if (L.fibers[t].state != RUNNABLE) continue;
            L.cur = t;
            set_thread_index(L, t);
            switch_to_fiber(L, t);
        }
        unsigned live = 0, at_warp = 0;
        for (unsigned t = 32 * w; t < 32 * w + 32; t++) {
            live += L.fibers[t].state != DONE;
            at_warp += L.fibers[t].state == AT_WARP;
        }
        if (!at_warp) return; /* all at the block barrier, or done */
        if (at_warp != live)
            die(L.name, "deadlock: lanes of a warp wait at a warp barrier and others at the block barrier");
        for (unsigned t = 32 * w; t < 32 * w + 32; t++)
            if (L.fibers[t].state == AT_WARP) L.fibers[t].state = RUNNABLE;
    }
}

void run_block(Launch &L) {
    const unsigned nw = L.nt / 32;
    for (unsigned t = 0; t < L.nt; t++) start_fiber(L, t);
    for (;;) {
        /* one phase between block barriers: the warps in a shuffled order */
        for (unsigned i = nw - 1; i > 0; i--) {
            const unsigned j = (unsigned)(next_random(L) % (i + 1)), tmp = L.order[i];
            L.order[i] = L.order[j];
            L.order[j] = tmp;
        }
        for (unsigned i = 0; i < nw; i++) run_warp(L, L.order[i]);
        unsigned alive = 0;
        for (unsigned t = 0; t < L.nt; t++) alive += L.fibers[t].state != DONE;
        if (!alive) return;
        for (unsigned t = 0; t < L.nt; t++) /* every live thread waits at the block barrier: open it */
            if (L.fibers[t].state == AT_BLOCK) L.fibers[t].state = RUNNABLE;
    }
}

} // namespace

void __syncthreads() { wait_at(AT_BLOCK); }

void __syncwarp(unsigned mask) {
    (void)mask; /* every caller passes the full mask */
    wait_at(AT_WARP);
}

uint64_t emu_shfl_xor(uint64_t bits, int lane_mask) {
    Launch *L = g_launch;
    const unsigned t = L->cur;
    L->slots[t] = bits;
    __syncwarp();
    const uint64_t out = L->slots[(t & ~31u) | ((t & 31u) ^ (unsigned)(lane_mask & 31))];
    __syncwarp();
    return out;
}

float *dyn_smem() { return g_launch->smem; }

void emu_launch(const char *name, dim3 grid, dim3 block, size_t smem, const std::function<void()> &body) {
    static uint64_t launches = 0;
    const unsigned nt = block.x * block.y * block.z;
    const unsigned long nb = (unsigned long)grid.x * grid.y * grid.z;
    if (nt == 0 || nt > 1024 || nt % 32 != 0) die(name, "the block is not 32..1024 threads in whole warps");
    if (nb == 0) die(name, "an empty grid");
    if (smem > 227u * 1024u) die(name, "more than 227 KB of dynamic shared memory");
    if (g_launch) die(name, "a launch from inside a kernel");
    Launch L;
    L.name = name;
    L.body = &body;
    L.grid = grid;
    L.block = block;
    L.nt = nt;
    L.fibers.resize(nt);
    /* the stacks are kept from launch to launch (mapping them anew is slow), for the process's life */
    static std::vector<char *> *stacks = new std::vector<char *>();
    while (stacks->size() < nt) {
        char *st = (char *)malloc(STACK_BYTES);
        if (!st) die(name, "out of host memory for the fibers' stacks");
        stacks->push_back(st);
    }
    L.stacks.assign(stacks->begin(), stacks->begin() + nt);
    L.order.resize(nt / 32);
    for (unsigned w = 0; w < nt / 32; w++) L.order[w] = w;
    L.slots.assign(nt, 0);
    L.smem = (float *)malloc(smem ? smem : 1);
    if (!L.smem) die(name, "out of host memory for the shared memory");
    L.rng = 0x5eed0000ull + ++launches;
    g_launch = &L;
    blockDim = block;
    gridDim = grid;
    for (unsigned long b = 0; b < nb; b++) {
        memset(L.smem, 0xff, smem); /* shared memory starts as NaNs */
        blockIdx.x = (unsigned)(b % grid.x);
        blockIdx.y = (unsigned)(b / grid.x % grid.y);
        blockIdx.z = (unsigned)(b / ((unsigned long)grid.x * grid.y));
        run_block(L);
    }
    g_launch = nullptr;
    free(L.smem);
}

/* ---- the runtime ---- */

cudaError_t cudaGetDeviceCount(int *count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidValue; }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device) {
    if (device != 0) return cudaErrorInvalidValue;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "host emulator (no GPU)");
    prop->totalGlobalMem = (size_t)80 << 30;
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 132;
    prop->sharedMemPerBlockOptin = 227 * 1024;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device) {
    if (device != 0) return cudaErrorInvalidValue;
    switch (attr) {
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = 227 * 1024; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = 132; return cudaSuccess;
    }
    return cudaErrorInvalidValue;
}

cudaError_t cudaMalloc(void **p, size_t bytes) {
    *p = malloc(bytes ? bytes : 1);
    if (!*p) return cudaErrorMemoryAllocation;
    memset(*p, 0xff, bytes); /* device memory is not zeroed: NaNs show a read before a write */
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    (void)kind;
    if (bytes) memmove(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
    (void)s;
    return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void *p, int value, size_t bytes) {
    if (bytes) memset(p, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s) {
    (void)s;
    return cudaMemset(p, value, bytes);
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = (size_t)80 << 30;
    *total_bytes = (size_t)80 << 30;
    return cudaSuccess;
}

cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaPeekAtLastError() { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    }
    return "unknown error";
}

struct EmuEvent {
    double t;
};

cudaError_t cudaEventCreate(cudaEvent_t *e) {
    *e = new EmuEvent{0.0};
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    (void)s;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e->t = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    (void)e;
    return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) {
    *ms = (float)((b->t - a->t) * 1e3);
    return cudaSuccess;
}

/* ---- cuBLAS ---- */

struct EmuBlas {
    cublasMath_t math;
};

cublasStatus_t cublasCreate(cublasHandle_t *h) {
    *h = new EmuBlas{CUBLAS_DEFAULT_MATH};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) {
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode) {
    h->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    }
    return "unknown status";
}

/* C (m x n, column-major, ldc) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n;
 * with beta 0, C is not read (as cuBLAS). Each element one sum over l in order. */
cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B,
                            cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo) {
    (void)h;
    (void)compute;
    (void)algo;
    if (Atype != CUDA_R_32F || Btype != CUDA_R_32F || Ctype != CUDA_R_32F || m < 0 || n < 0 || k < 0)
        return CUBLAS_STATUS_INVALID_VALUE;
    /* cuBLAS's argument checks: the leading dimensions cover the stored rows */
    if (lda < (transa == CUBLAS_OP_N ? (m > 1 ? m : 1) : (k > 1 ? k : 1)) ||
        ldb < (transb == CUBLAS_OP_N ? (k > 1 ? k : 1) : (n > 1 ? n : 1)) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    const float a = *(const float *)alpha, b = *(const float *)beta;
    const float *Af = (const float *)A, *Bf = (const float *)B;
    float *Cf = (float *)C;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            float s = 0.0f;
            for (int l = 0; l < k; l++) {
                const float x = transa == CUBLAS_OP_N ? Af[i + (size_t)l * lda] : Af[l + (size_t)i * lda];
                const float y = transb == CUBLAS_OP_N ? Bf[l + (size_t)j * ldb] : Bf[j + (size_t)l * ldb];
                s += x * y;
            }
            float *c = Cf + i + (size_t)j * ldc;
            *c = b == 0.0f ? a * s : a * s + b * *c;
        }
    return CUBLAS_STATUS_SUCCESS;
}

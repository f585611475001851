/* cpu_backend.h: the trainer's CPU backend (backend.h): buffers in host
 * memory, every op in plain C over `real`, split over the threads of
 * util/threadpool.h so that each value is computed the same way whatever
 * the thread count (runs reproduce exactly at any --threads). Built over
 * float for the trainer and over double for the gradient check. */
#ifndef BITT_TRAIN_CPU_BACKEND_H
#define BITT_TRAIN_CPU_BACKEND_H

#include "../backend.h"

#define train_backend_cpu TRAIN_SYM(train_backend_cpu)
#define train_cpu_set_freeze TRAIN_SYM(train_cpu_set_freeze)
#define train_cpu_tape_rewind TRAIN_SYM(train_cpu_tape_rewind)
#define train_cpu_tape_failed TRAIN_SYM(train_cpu_tape_failed)

/* A new CPU backend (destroy it with be->destroy), or NULL when out of memory. */
TrainBackend *train_backend_cpu(BittError *err);

/* Gradient-check support: with freeze 1 the quantisers record their
 * rounding offsets (g Wt - W, xq/s - x) in call order; with freeze 2 they
 * replay them (out = in + recorded offset) instead of rounding, so that
 * finite differences see the function whose exact gradient is the STE one.
 * freeze 0 (default) quantises normally. train_cpu_tape_rewind starts the
 * replay (and, under freeze 1, the recording) from the beginning: call it
 * before each train_model_prepare + train_forward pair. */
void train_cpu_set_freeze(TrainBackend *be, int freeze);
void train_cpu_tape_rewind(TrainBackend *be);
/* 1 if a replay ran past what was recorded (or recording ran out of memory). */
int train_cpu_tape_failed(const TrainBackend *be);

#endif

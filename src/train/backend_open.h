/* backend_open.h: chooses and creates the trainer's backend by device name
 * (`bitt train --device`): "cpu" (train/cpu/), "cuda" (the plugin
 * libbitt_cuda.so next to the running executable, or the file named by
 * $BITT_CUDA_PLUGIN, loaded with dlopen: the core itself never links CUDA),
 * or "auto" (CUDA when it opens, else the CPU). */
#ifndef BITT_TRAIN_BACKEND_OPEN_H
#define BITT_TRAIN_BACKEND_OPEN_H

#include <stddef.h>

#include "backend.h"

/* A new backend (destroy it with be->destroy), or NULL with err set:
 * "--device cuda: <why>" when CUDA was asked for and cannot be used.
 * options go to the CUDA backend ("math=f32" or "math=tf32"; NULL: its
 * defaults). note (note_len bytes, may be NULL) receives one line for the
 * user, or "": with "auto" the reason for falling back to the CPU ("no CUDA
 * GPU found (...): training on the CPU"), with a CUDA backend which plugin
 * it is and its options. */
TrainBackend *train_backend_open(const char *device, const char *options, char *note, size_t note_len,
                                 BittError *err);

#endif

/* treal.h: `real`, the number type of the training math. The trainer's
 * schedule and its CPU backend are written over `real` and compiled twice:
 * as float for the trainer (in bitt_core), and with -DBITT_TRAIN_REAL_DOUBLE
 * as double for the gradient check (the library bitt_train_f64, used only by
 * tests), where finite differences need the precision. TRAIN_SYM gives the
 * double build's public symbols (and type names) a _f64 suffix, so that both
 * builds can be linked into one program. The CUDA backend is float only. */
#ifndef BITT_TREAL_H
#define BITT_TREAL_H

#include <math.h>

#ifdef BITT_TRAIN_REAL_DOUBLE
typedef double real;
#define TRAIN_SYM(n) n##_f64
#define REAL_SQRT sqrt
#define REAL_EXP exp
#define REAL_LOG1P log1p
#define REAL_EXPM1 expm1
#define REAL_ROUND round
#define REAL_FABS fabs
#define REAL_TERNARY_SCALE ternary_scale_f64
#define REAL_TERNARY_CODE ternary_code_f64
#else
typedef float real;
#define TRAIN_SYM(n) n
#define REAL_SQRT sqrtf
#define REAL_EXP expf
#define REAL_LOG1P log1pf
#define REAL_EXPM1 expm1f
#define REAL_ROUND roundf
#define REAL_FABS fabsf
#define REAL_TERNARY_SCALE ternary_scale_f32
#define REAL_TERNARY_CODE ternary_code_f32
#endif

#endif

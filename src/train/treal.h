/* treal.h: the number type of the training math. The tm_*.c sources are
 * written over `real` and compiled twice: as float for the trainer (in
 * bitt_core), and with -DBITT_TRAIN_REAL_DOUBLE as double for the gradient
 * check (a separate library used only by tests). TM_NAME gives the double
 * build's public symbols another name, so that both can be linked together. */
#ifndef BITT_TREAL_H
#define BITT_TREAL_H

#include <math.h>

#ifdef BITT_TRAIN_REAL_DOUBLE
typedef double real;
#define TM_NAME(n) n##_f64
#define TM_SQRT sqrt
#define TM_EXP exp
#define TM_ROUND round
#define TM_FABS fabs
#else
typedef float real;
#define TM_NAME(n) n
#define TM_SQRT sqrtf
#define TM_EXP expf
#define TM_ROUND roundf
#define TM_FABS fabsf
#endif

#endif

/* f16.h: IEEE 754 half <-> float conversion (round to nearest even), the
 * storage type of embed and lm_head in .bitt v2. Pure integer code, so every
 * platform gives the same bits. */
#ifndef BITT_F16_H
#define BITT_F16_H

#include <stdint.h>

uint16_t f32_to_f16(float x);
float f16_to_f32(uint16_t h);
uint16_t bf16_from_f32(float x);
float bf16_to_f32(uint16_t h);

#endif

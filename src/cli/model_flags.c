/* model_flags.c: what the flags that shape a new model mean, shared by
 * `bitt init` and `bitt train`: the forget gate (SPEC 1.2.1) is on by
 * default for new linear models, off for the other mixers, and off when a
 * fixed --state-decay < 1 is asked for (the gate's special case; both at
 * once is an error); and --embed, the form of embed / lm_head in a packed
 * .bitt v2. */
#include <string.h>

#include "cli.h"

int cli_forget_gate(const char *cmd, const char *value, int value_seen, TttVariant variant, float state_decay,
                    int *forget_gate) {
    int on;
    if (!value_seen) {
        on = variant == TTT_LINEAR && state_decay == 1.0f;
    } else if (strcmp(value, "on") == 0) {
        on = 1;
    } else if (strcmp(value, "off") == 0) {
        on = 0;
    } else {
        return cli_fail(cmd, "--forget-gate takes on or off (got '%s')", value);
    }
    if (on && variant != TTT_LINEAR)
        return cli_fail(cmd, "--forget-gate on needs --variant linear (this is %s)", ttt_variant_name(variant));
    if (on && state_decay != 1.0f)
        return cli_fail(cmd, "--forget-gate on and --state-decay %g are not combined: the fixed decay is the gate's "
                             "special case (choose one; --forget-gate off keeps the fixed decay)",
                        (double)state_decay);
    *forget_gate = on;
    return 0;
}

int cli_embed_form(const char *cmd, const char *value, int packed, int dflt, int *i8) {
    if (!value) {
        *i8 = dflt;
        return 0;
    }
    if (!packed) return cli_fail(cmd, "--embed chooses the form of a packed .bitt v2: it needs --packed");
    if (strcmp(value, "f16") != 0 && strcmp(value, "i8") != 0)
        return cli_fail(cmd, "--embed must be f16 or i8 (got '%s')", value);
    *i8 = strcmp(value, "i8") == 0;
    return 0;
}
